// A candidate the worker can call: a C ABI shared object (CPU or CUDA C++,
// candidate_library.h) or a Triton Python file (python/triton_candidate.h).
//
// The harness owns every tensor: inputs in task order (any strides), outputs
// pre-allocated, contiguous and poisoned, attributes by name. On CUDA, the
// candidate launches its work on `stream` (the worker's current CUDA stream);
// the harness synchronises the device afterwards and turns CUDA errors into
// verdicts, so Call() itself only reports what the candidate said.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "core/scalar.h"

namespace anvil::worker {

using NamedAttrs = std::vector<std::pair<std::string, ScalarValue>>;

struct CallResult {
  int status = 0;       // 0 (ANVIL_OK) or the candidate's error status
  std::string message;  // the candidate's error text (or a Python traceback) for a non-OK status
};

class Candidate {
 public:
  virtual ~Candidate() = default;
  // Not thread-safe: one call at a time, on the worker's thread.
  virtual CallResult Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                          const NamedAttrs& attrs, int num_threads, void* stream) const = 0;
};

}  // namespace anvil::worker
