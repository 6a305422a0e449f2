// Whether this machine can run the GPU tests: an NVIDIA GPU (nvidia-smi -L
// lists one) and, for Triton candidates, a python3 that imports triton.
// Both probes run a child process (util/subprocess.h); each answer is
// computed once per test process and cached. Thread-safe (function-local
// statics).
#pragma once

#include <string>

#include "util/subprocess.h"

namespace anvil::testing {

// True when `nvidia-smi -L` exits 0 and prints a line starting "GPU".
inline bool GpuAvailable() {
  static const bool available = [] {
    auto r = RunProcess({"nvidia-smi", "-L"}, 30);
    if (!r.ok() || r->timed_out || r->exit_code != 0) return false;
    const std::string& out = r->output;
    for (size_t pos = 0; pos < out.size();) {
      if (out.compare(pos, 3, "GPU") == 0) return true;
      size_t nl = out.find('\n', pos);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    return false;
  }();
  return available;
}

// True when `python3 -c 'import triton'` exits 0.
inline bool TritonAvailable() {
  static const bool available = [] {
    auto r = RunProcess({"python3", "-c", "import triton"}, 120);
    return r.ok() && !r->timed_out && r->exit_code == 0;
  }();
  return available;
}

}  // namespace anvil::testing
