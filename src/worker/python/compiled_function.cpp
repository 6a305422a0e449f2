#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/compiled_function.h"

#include <fmt/format.h>

#include "worker/python/python_runtime.h"
#include "worker/python/tensor_exchange.h"

namespace anvil::worker::python {

Result<std::unique_ptr<CompiledFunction>> CompiledFunction::Create(const std::string& python_source,
                                                                   const std::string& function_name) {
  if (!Initialized()) return InternalError("CompiledFunction::Create before python::Initialize");
  ANVIL_ASSIGN_OR_RETURN(PyRef compile_function, BridgeFunction("compile_function"));
  PyRef fn = PyRef::Steal(
      PyObject_CallFunction(compile_function.get(), "ss", python_source.c_str(), function_name.c_str()));
  if (!fn) {
    if (PendingErrorIs("UnsupportedTorch"))
      return Unsupported("no torch.compile baseline: " + TakePythonError());
    return InternalError(fmt::format("torch.compile of {}: {}", function_name, TakePythonError()));
  }
  return std::unique_ptr<CompiledFunction>(new CompiledFunction(std::move(fn), function_name));
}

Result<std::vector<at::Tensor>> CompiledFunction::Call(const std::vector<at::Tensor>& inputs,
                                                       const std::vector<ScalarValue>& attrs) const {
  return CallWithTensors(fn_.get(), inputs, attrs, "torch.compile'd " + name_);
}

}  // namespace anvil::worker::python
