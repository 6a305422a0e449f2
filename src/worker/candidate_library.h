// A loaded C ABI candidate (CPU or CUDA C++): the shared object and its
// anvil_kernel entry point.
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
#include "util/status.h"
#include "worker/candidate.h"

namespace anvil::worker {

class CandidateLibrary final : public Candidate {
 public:
  // A load failure (missing file, unresolved symbol, no anvil_kernel) is an
  // error Status whose message is dlerror()'s.
  static Result<std::unique_ptr<CandidateLibrary>> Load(const std::string& path);
  ~CandidateLibrary() override;
  CandidateLibrary(const CandidateLibrary&) = delete;
  CandidateLibrary& operator=(const CandidateLibrary&) = delete;

  CallResult Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                  const NamedAttrs& attrs, int num_threads, void* stream) const override;
  // View outputs get a DLTensor with data NULL, the expected shape and a
  // poisoned strides array the candidate fills (include/anvil/kernel.h).
  CallResult CallWithViews(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                           std::vector<ViewSlot>& views, const NamedAttrs& attrs, int num_threads,
                           void* stream) const override;

 private:
  CandidateLibrary(void* handle, AnvilKernelFn fn) : handle_(handle), fn_(fn) {}
  void* handle_;
  AnvilKernelFn fn_;
};

// A DLTensor view of a CPU or CUDA tensor (borrowed pointers: shape/strides point into `t`).
DLTensor ToDLTensor(const at::Tensor& t);

}  // namespace anvil::worker
