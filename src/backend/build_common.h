// What every candidate build backend shares: the content-addressed build
// cache, the import gate and the small pieces of a compiler command.
//
// A backend (backend/cpu/cpu_build, backend/cuda/cuda_build) computes a cache
// key from everything that decides the library's bytes, builds its compiler
// command for the slot's paths and hands both to CompileIntoCache, which
// compiles (or finds the finished library), publishes it by rename and runs
// the import gate.
//
// The cache: <cache_dir>/<key>/ holds the source copy that was compiled, the
// library (kernel.so) and the trimmed compiler log (build.log). A library is
// compiled to a per-process temporary name and renamed into place only after
// the compiler succeeded, so a build killed half-way never leaves a library
// behind and a hit costs one stat. Two processes building the same key at
// once both compile and the second rename wins; both results are identical.
//
// The import gate: a candidate that imports process or loader control (fork,
// exec*, dlopen, dlsym, socket, ...) is reported in
// BuildResult::forbidden_imports and must not be run. `nm -D` lists what the
// library itself imports, not what its dependencies (libcudart, libgomp) do.
//
// All functions are thread-safe; they run external programs (the compiler,
// nm) through util/subprocess.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "backend/build_result.h"
#include "util/status.h"

namespace anvil {

// Keeps the first `max_lines` lines (and at most `max_bytes`), noting how many were cut.
std::string TrimLog(const std::string& log, int max_lines = 40, size_t max_bytes = 6000);

// Symbols a candidate may not import (exact names).
const std::vector<std::string>& ForbiddenImports();

// The undefined dynamic symbols of `library` (`nm -D --undefined-only`),
// version suffixes ("@GLIBC_2.34") stripped. IoError when nm fails.
Result<std::vector<std::string>> ImportedSymbols(const std::string& library);

// `<compiler> --version`, whole output: part of the cache key, so a compiler
// upgrade rebuilds. IoError naming the compiler when it cannot be run.
Result<std::string> CompilerIdentity(const std::string& compiler);

// The names and contents of every header under <include_dir>/anvil/, in a
// fixed order: part of the cache key, since a candidate can include any of them.
std::string AbiHeadersText(const std::string& include_dir);

// -I flags for the candidate ABI: Anvil's include dir and, unless it is
// /usr/include, DLPack's (adding -I/usr/include would reorder the system headers).
std::vector<std::string> AbiIncludeFlags(const std::string& include_dir);

// One build's place in the cache. Paths are absolute or relative to the
// caller's working directory, as cache_dir is.
struct BuildCacheSlot {
  std::string key;
  std::string dir;                // <cache_dir>/<key>
  std::string source_path;        // <dir>/<source_name>: what the compiler compiles
  std::string library_path;       // <dir>/kernel.so, present only once a build finished
  std::string temp_library_path;  // what the compiler writes (-o), renamed to library_path on success
};

// Creates <cache_dir>/<key>/ and names the paths in it. `source_name` keeps
// the extension the compiler dispatches on ("kernel.cpp", "kernel.cu").
// IoError when the directory cannot be created.
Result<BuildCacheSlot> PrepareBuildCacheSlot(const std::string& cache_dir, const std::string& key,
                                             const std::string& source_name);

// Serves the slot's library when it exists; otherwise writes `source` to the
// slot's source path, runs `argv` (which must write slot.temp_library_path)
// in the slot's dir with `timeout_seconds`, and publishes the library. Then
// runs the import gate. A compile error or timeout is a result with
// ok == false and the trimmed log; an error Status only when the compiler
// cannot be started, the cache cannot be written or nm fails.
// A raised `cancel` kills the compiler: kCancelled, nothing cached.
Result<BuildResult> CompileIntoCache(const BuildCacheSlot& slot, const std::string& source,
                                     const std::vector<std::string>& argv, double timeout_seconds,
                                     const std::atomic<bool>* cancel = nullptr);

}  // namespace anvil
