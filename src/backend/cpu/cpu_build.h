// Building a C++ candidate into a shared object for the CPU worker.
//
// The candidate is compiled with g++ -O3 -march=native -fopenmp into a .so,
// with only Anvil's candidate ABI headers and DLPack on its include path and
// only libc, libm, libstdc++ and libgomp to link against: -Wl,--no-undefined
// turns any call into PyTorch (whose headers happen to sit in /usr/include on
// Debian) into a link error. Builds are cached by a content hash of the
// source, the ABI headers, the compiler identity, the flags and the host CPU;
// a hit costs one stat. A finished build is published by rename, so a build
// killed half-way never leaves a library in the cache.
//
// After a successful build, the library's imported symbols are checked: a
// candidate that imports process or loader control (fork, exec*, dlopen,
// dlsym, socket, ...) is reported in `forbidden_imports` and must not be run.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace anvil {

struct CpuBuildOptions {
  std::string compiler = "g++";
  std::string include_dir;            // holds anvil/kernel.h (default: the source tree's include/)
  std::string cache_dir;              // builds land in <cache_dir>/<key>/
  std::vector<std::string> extra_flags;
  double timeout_seconds = 120;
};

struct CpuBuildResult {
  bool ok = false;                    // compiled and linked
  bool cached = false;                // served from the cache
  std::string library_path;           // when ok
  std::string cache_key;
  std::string command;                // the compiler command line, for the record
  std::string log;                    // compiler output, verbatim, trimmed to its first lines
  double seconds = 0;
  std::vector<std::string> forbidden_imports;
};

// Returns an error Status only when building could not be attempted (source
// unreadable, compiler missing, cache dir not writable); a compile error is
// a CpuBuildResult with ok == false.
Result<CpuBuildResult> BuildCpuCandidate(const std::string& source_path, const CpuBuildOptions& options);

// Keeps the first `max_lines` lines (and at most `max_bytes`), noting how many were cut.
std::string TrimLog(const std::string& log, int max_lines = 40, size_t max_bytes = 6000);

// Symbols a candidate may not import (exact names).
const std::vector<std::string>& ForbiddenImports();

}  // namespace anvil
