// A candidate the worker can call: a C ABI shared object (CPU or CUDA C++,
// candidate_library.h) or a Triton Python file (python/triton_candidate.h).
//
// The harness owns every tensor: inputs in task order (any strides), outputs
// pre-allocated, contiguous and poisoned, attributes by name. On CUDA, the
// candidate launches its work on `stream` (the worker's current CUDA stream);
// the harness synchronises the device afterwards and turns CUDA errors into
// verdicts, so Call() itself only reports what the candidate said.
#pragma once

#include <cstdint>
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

// An output the task declares a view of an input (`view_of`). The harness
// passes no buffer for it: the candidate sets where the view starts and its
// strides (include/anvil/kernel.h). `data`, `byte_offset` and `strides` hold
// what the candidate set once the call returns.
struct ViewSlot {
  size_t output = 0;             // index in the task's outputs
  size_t input = 0;              // index of the input it views
  at::Tensor viewed;             // that input, as passed to the candidate
  std::vector<int64_t> shape;    // the expected sizes, passed in
  void* data = nullptr;          // set by the candidate
  uint64_t byte_offset = 0;      // set by the candidate
  std::vector<int64_t> strides;  // poisoned (kUnsetStride) before the call
  static constexpr int64_t kUnsetStride = INT64_MIN;
};

class Candidate {
 public:
  virtual ~Candidate() = default;
  // Not thread-safe: one call at a time, on the worker's thread.
  virtual CallResult Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                          const NamedAttrs& attrs, int num_threads, void* stream) const = 0;
  // A call where the outputs named in `views` are views the candidate sets
  // (their entries in `outputs` are undefined tensors). Only the C ABI
  // (CandidateLibrary) can return a view; the default refuses.
  virtual CallResult CallWithViews(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                                   std::vector<ViewSlot>& views, const NamedAttrs& attrs, int num_threads,
                                   void* stream) const {
    if (views.empty()) return Call(inputs, outputs, attrs, num_threads, stream);
    return {1, "view outputs take C++ or CUDA C++ candidates: only the C ABI can return an alias of an input"};
  }
};

}  // namespace anvil::worker
