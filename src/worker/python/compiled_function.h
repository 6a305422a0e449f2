// The torch.compile baseline: a formula's Python source (emitted as
// `def anvil_formula(x, w, eps): ... return (out,)`) compiled with
// torch.compile(fn, dynamic=False, fullgraph=True) in the worker's embedded
// interpreter, called with the harness's tensors as DLPack views.
//
// Owns the compiled function (a Python reference). Compilation happens at
// the first Call() for each shape, not in Create(). Not thread-safe: use it
// on the worker's thread, which holds the GIL.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/scalar.h"
#include "util/status.h"
#include "worker/python/py_ref.h"

namespace anvil::worker::python {

class CompiledFunction {
 public:
  // Needs python::Initialize(). kUnsupported when the installed PyTorch has
  // no torch.compile (before 2.0); kInternal when the source does not define
  // `function_name` or does not run (the emitter's bug).
  static Result<std::unique_ptr<CompiledFunction>> Create(const std::string& python_source,
                                                          const std::string& function_name);

  // fn(*inputs, *attrs) with attributes as Python float, int or bool; the
  // function returns a tensor or a tuple/list of tensors, which come back
  // as at::Tensors sharing its memory. A Python exception (including a
  // failed compilation) is a kInternal Status carrying it.
  Result<std::vector<at::Tensor>> Call(const std::vector<at::Tensor>& inputs,
                                       const std::vector<ScalarValue>& attrs) const;

 private:
  CompiledFunction(PyRef fn, std::string name) : fn_(std::move(fn)), name_(std::move(name)) {}
  PyRef fn_;
  std::string name_;
};

}  // namespace anvil::worker::python
