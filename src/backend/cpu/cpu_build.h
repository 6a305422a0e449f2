// Building a C++ candidate into a shared object for the CPU worker.
//
// The candidate is compiled with g++ -O3 -march=native -fno-math-errno -fopenmp into a .so,
// with only Anvil's candidate ABI headers and DLPack on its include path and
// only libc, libm, libstdc++ and libgomp to link against: -Wl,--no-undefined
// turns any call into PyTorch (whose headers happen to sit in /usr/include on
// Debian) into a link error. Builds are cached by a content hash of the
// source, the ABI headers, the compiler identity, the flags and the host CPU;
// the cache, its publish-by-rename and the import gate (a candidate importing
// fork, exec*, dlopen, dlsym, socket, ... is reported in `forbidden_imports`
// and must not be run) are shared with the CUDA build: backend/build_common.h.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "backend/build_result.h"
#include "util/status.h"

namespace anvil {

struct CpuBuildOptions {
  std::string compiler = "g++";
  std::string include_dir;            // holds anvil/kernel.h (default: the source tree's include/)
  std::string cache_dir;              // builds land in <cache_dir>/<key>/
  std::vector<std::string> extra_flags;
  double timeout_seconds = 120;
  const std::atomic<bool>* cancel = nullptr;  // raised (Ctrl-C): the compiler is killed, the build is kCancelled
};

// Returns an error Status only when building could not be attempted (source
// unreadable, compiler missing, cache dir not writable); a compile error is
// a BuildResult with ok == false.
Result<BuildResult> BuildCpuCandidate(const std::string& source_path, const CpuBuildOptions& options);

}  // namespace anvil
