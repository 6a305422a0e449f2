// Building a CUDA C++ candidate into a shared object for a GPU worker.
//
// The candidate (a .cu file) is compiled with
//
//   nvcc -O3 -std=c++17 -lineinfo -gencode arch=compute_XX,code=sm_XX
//        -Xcompiler -fPIC -shared -cudart shared -Xlinker --no-undefined
//        -I<include_dir> [-I<dlpack>] -o kernel.so kernel.cu
//
// for exactly one architecture, the evaluated GPU's (sm_90a on an H100: the
// "a" targets unlock wgmma/TMA and run only on that compute capability, which
// is all the worker needs). Why these flags:
//   - `-cudart shared`: the candidate and the worker's LibTorch then use one
//     CUDA runtime, so a launch error (an invalid configuration, too much
//     shared memory) left by the candidate is visible to the harness through
//     cudaGetLastError. A static cudart would be a second runtime inside the
//     candidate with its own error state, and it imports dlopen/dlsym
//     itself, which the import gate rejects.
//   - `-Xlinker --no-undefined`: the library may only depend on libcudart,
//     libstdc++, libm and libc; any call into PyTorch is a link error. No
//     PyTorch include dir is on the path either.
//   - `-lineinfo`: source lines in compute-sanitizer and profiler reports, at
//     no cost in the generated code.
// Builds are cached by a content hash of the source, the ABI headers,
// `nvcc --version`, the flags and the arch, and pass the same import gate as
// CPU builds (backend/build_common.h).
//
// Thread-safe; runs nvcc and nm as child processes. No GPU is needed to build.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "backend/build_result.h"
#include "util/status.h"

namespace anvil {

struct CudaBuildOptions {
  std::string nvcc;                   // "" = $CUDACXX, else nvcc on PATH, else /usr/local/cuda/bin/nvcc
  std::string include_dir;            // holds anvil/kernel.h and anvil/cuda_tensor.h
  std::string cache_dir;              // builds land in <cache_dir>/<key>/
  std::string arch;                   // e.g. "sm_90a" (CudaArchForComputeCapability); required
  std::vector<std::string> extra_flags;  // appended to nvcc's flags, part of the cache key
  double timeout_seconds = 180;       // nvcc is slow: a few seconds for a small kernel, minutes for heavy templates
  const std::atomic<bool>* cancel = nullptr;  // raised (Ctrl-C): nvcc is killed, the build is kCancelled
};

// Returns an error Status only when building cannot be attempted (source
// unreadable, arch missing or malformed, nvcc not found or not runnable,
// cache dir not writable); a compile or link error is a BuildResult with
// ok == false and nvcc's trimmed output in `log`.
Result<BuildResult> BuildCudaCandidate(const std::string& source_path, const CudaBuildOptions& options);

// The nvcc arch for a GPU of compute capability major.minor: "sm_<major><minor>",
// with the arch-specific "a" suffix from compute capability 9.0 on
// (8.9 -> "sm_89", 9.0 -> "sm_90a", 10.0 -> "sm_100a", 12.0 -> "sm_120a").
std::string CudaArchForComputeCapability(int major, int minor);

// The nvcc to run: `configured` when not empty (a path, or a name looked up
// on PATH), else $CUDACXX when set, else `nvcc` on PATH, else
// /usr/local/cuda/bin/nvcc. NotFound listing the places tried when none is
// an executable file.
Result<std::string> FindNvcc(const std::string& configured);

}  // namespace anvil
