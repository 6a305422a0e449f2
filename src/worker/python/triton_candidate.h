// A Triton candidate: a Python file whose top-level anvil_kernel launches its
// own @triton.jit kernels, loaded into the worker's embedded interpreter
// (python_runtime.h) and called with the harness's tensors as DLPack views.
//
// Load() runs the static gate (python/anvil_worker/triton_gate.py) before any
// of the file's code, then imports it as a fresh module. ForeignKernels() is
// the run-time half of the gate: it profiles one call and names the GPU work
// that did not come from the candidate's own jit kernels (PyTorch kernels
// behind `x * y`, copies and fills).
//
// Owns its module (a Python reference). Not thread-safe: use it on the
// worker's thread, which holds the GIL.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/status.h"
#include "verify/verdict.h"
#include "worker/candidate.h"
#include "worker/python/py_ref.h"

namespace anvil::worker::python {

class TritonCandidate;

struct TritonLoad {
  std::unique_ptr<TritonCandidate> candidate;  // set when verdict is kCorrect
  // kSuspicious: the gate rejected the source (reason: one "file:line: what to
  // do" per violation); kLoadError: a syntax or import error, an exception at
  // import time, or no anvil_kernel (reason: the formatted Python error).
  Verdict verdict = Verdict::kCorrect;
  std::string reason;
};

class TritonCandidate final : public Candidate {
 public:
  // Needs python::Initialize(); `static_gate` = false skips the gate (tests
  // and trusted sources only).
  static TritonLoad Load(const std::string& path, bool static_gate = true);

  // The task's input and output names, in task order: Call() passes tensors
  // as keyword arguments by these names, then attributes by their own.
  void SetNames(std::vector<std::string> inputs, std::vector<std::string> outputs);

  // anvil_kernel(**kwargs). A Python exception is status ANVIL_ERROR_INTERNAL
  // with the formatted exception as message. `stream` is unused: the worker
  // sets LibTorch's current CUDA stream, which is the one Triton launches on;
  // `num_threads` is unused too (the work runs on the GPU).
  CallResult Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                  const NamedAttrs& attrs, int num_threads, void* stream) const override;

  // Calls the candidate once under torch.profiler (needs CUDA) and returns
  // the launched GPU kernels, device memcpys and memsets that are not the
  // candidate's own @triton.jit kernels, in launch order without repeats;
  // empty means clean. A failing call or profiler is an error Status.
  Result<std::vector<std::string>> ForeignKernels(const std::vector<at::Tensor>& inputs,
                                                  const std::vector<at::Tensor>& outputs,
                                                  const NamedAttrs& attrs) const;

 private:
  explicit TritonCandidate(PyRef module) : module_(std::move(module)) {}
  // The keyword arguments of one call; errors name the tensor.
  Result<PyRef> Kwargs(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                       const NamedAttrs& attrs) const;

  PyRef module_;
  std::vector<std::string> input_names_;
  std::vector<std::string> output_names_;
};

// The entries of `launched` that are none of `candidate_kernels`. The
// profiler names a Triton kernel after its jit function, and older Triton
// versions append a signature suffix ("add_kernel_0d1d2d"), so a name
// matches when it equals a kernel name or starts with it followed by '_'.
std::vector<std::string> ForeignKernelNames(const std::vector<std::string>& launched,
                                            const std::vector<std::string>& candidate_kernels);

}  // namespace anvil::worker::python
