// A loaded candidate: the shared object and its anvil_kernel entry point.
//
// Owns the dlopen handle (closed on destruction). Call() builds the DLPack
// views of the harness's tensors and the attribute array, sets OpenMP's
// thread count, and invokes the kernel on the calling thread. Not
// thread-safe: one call at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "anvil/kernel.h"
#include "core/scalar.h"
#include "util/status.h"

namespace anvil::worker {

struct CallResult {
  int status = ANVIL_OK;
  std::string message;  // the candidate's error text for a non-OK status
};

class CandidateLibrary {
 public:
  // A load failure (missing file, unresolved symbol, no anvil_kernel) is an
  // error Status whose message is dlerror()'s.
  static Result<std::unique_ptr<CandidateLibrary>> Load(const std::string& path);
  ~CandidateLibrary();
  CandidateLibrary(const CandidateLibrary&) = delete;
  CandidateLibrary& operator=(const CandidateLibrary&) = delete;

  CallResult Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                  const std::vector<std::pair<std::string, ScalarValue>>& attrs, int num_threads) const;

 private:
  CandidateLibrary(void* handle, AnvilKernelFn fn) : handle_(handle), fn_(fn) {}
  void* handle_;
  AnvilKernelFn fn_;
};

// A DLTensor view of a CPU tensor (borrowed pointers: shape/strides point into `t`).
DLTensor ToDLTensor(const at::Tensor& t);

}  // namespace anvil::worker
