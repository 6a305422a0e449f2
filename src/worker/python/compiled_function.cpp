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
  PyRef args = PyRef::Steal(PyTuple_New(static_cast<Py_ssize_t>(inputs.size() + attrs.size())));
  if (!args) return InternalError(TakePythonError());
  Py_ssize_t i = 0;
  for (const at::Tensor& t : inputs) {
    ANVIL_ASSIGN_OR_RETURN(PyRef py, ToPython(t));
    Py_INCREF(py.get());  // PyTuple_SET_ITEM steals a reference
    PyTuple_SET_ITEM(args.get(), i++, py.get());
  }
  for (const ScalarValue& v : attrs) {
    PyRef py = ScalarToPython(v);
    if (!py) return InternalError(TakePythonError());
    Py_INCREF(py.get());
    PyTuple_SET_ITEM(args.get(), i++, py.get());
  }
  PyRef result = PyRef::Steal(PyObject_CallObject(fn_.get(), args.get()));
  if (!result) return InternalError(fmt::format("torch.compile'd {}: {}", name_, TakePythonError()));

  std::vector<at::Tensor> outputs;
  if (PyTuple_Check(result.get()) || PyList_Check(result.get())) {
    PyRef seq = PyRef::Steal(PySequence_Fast(result.get(), "not a sequence"));
    for (Py_ssize_t k = 0; seq && k < PySequence_Fast_GET_SIZE(seq.get()); ++k) {
      auto t = FromPython(PySequence_Fast_GET_ITEM(seq.get(), k));
      if (!t.ok()) return t.status().Context(fmt::format("output {} of {}", k, name_));
      outputs.push_back(std::move(t).value());
    }
  } else {
    auto t = FromPython(result.get());
    if (!t.ok()) return t.status().Context(fmt::format("the result of {}", name_));
    outputs.push_back(std::move(t).value());
  }
  return outputs;
}

}  // namespace anvil::worker::python
