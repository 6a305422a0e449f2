#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/tensor_exchange.h"

#include <ATen/DLConvertor.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace anvil::worker::python {
namespace {

constexpr const char* kCapsuleName = "dltensor";           // the DLPack capsule convention
constexpr const char* kUsedCapsuleName = "used_dltensor";  // renamed by the consumer

// Frees the DLManagedTensor of a capsule nobody consumed (from_dlpack
// renames the capsules it takes over).
void DestroyUnusedCapsule(PyObject* capsule) {
  if (!PyCapsule_IsValid(capsule, kCapsuleName)) return;
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  if (managed && managed->deleter) managed->deleter(managed);
}

Result<PyRef> TorchAttr(const char* module, const char* name) {
  PyRef m = PyRef::Steal(PyImport_ImportModule(module));
  PyRef attr = m ? PyRef::Steal(PyObject_GetAttrString(m.get(), name)) : PyRef();
  if (!attr) return InternalError(fmt::format("{}.{}: {}", module, name, TakePythonError()));
  return attr;
}

Result<int64_t> CallInt(PyObject* o, const char* method) {
  PyRef r = PyRef::Steal(PyObject_CallMethod(o, method, nullptr));
  int64_t v = r ? PyLong_AsLongLong(r.get()) : -1;
  if (PyErr_Occurred()) return InternalError(fmt::format("tensor.{}(): {}", method, TakePythonError()));
  return v;
}

Result<std::vector<int64_t>> CallInts(PyObject* o, const char* method) {
  PyRef r = PyRef::Steal(PyObject_CallMethod(o, method, nullptr));
  PyRef seq = r ? PyRef::Steal(PySequence_Fast(r.get(), "not a sequence")) : PyRef();
  if (!seq) return InternalError(fmt::format("tensor.{}(): {}", method, TakePythonError()));
  std::vector<int64_t> values;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i)
    values.push_back(PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq.get(), i)));
  if (PyErr_Occurred()) return InternalError(fmt::format("tensor.{}(): {}", method, TakePythonError()));
  return values;
}

// The Python tensor `py` views exactly the memory of `t`: same address,
// element size, sizes, and strides wherever a stride addresses something.
Status CheckSameView(PyObject* py, const at::Tensor& t, const char* direction) {
  ANVIL_ASSIGN_OR_RETURN(int64_t ptr, CallInt(py, "data_ptr"));
  ANVIL_ASSIGN_OR_RETURN(int64_t element_size, CallInt(py, "element_size"));
  ANVIL_ASSIGN_OR_RETURN(std::vector<int64_t> sizes, CallInts(py, "size"));
  ANVIL_ASSIGN_OR_RETURN(std::vector<int64_t> strides, CallInts(py, "stride"));
  bool same = ptr == reinterpret_cast<int64_t>(t.data_ptr()) && element_size == t.element_size() &&
              sizes == t.sizes().vec();
  for (size_t d = 0; same && t.numel() > 0 && d < sizes.size(); ++d)
    same = sizes[d] == 1 || strides[d] == t.stride(static_cast<int64_t>(d));
  if (same) return Status::Ok();
  return InternalError(fmt::format("DLPack {} changed the tensor: address {:#x} -> {:#x}, sizes [{}] -> [{}], "
                                   "strides [{}] -> [{}]",
                                   direction, reinterpret_cast<uintptr_t>(t.data_ptr()), ptr,
                                   fmt::join(t.sizes(), ", "), fmt::join(sizes, ", "), fmt::join(t.strides(), ", "),
                                   fmt::join(strides, ", ")));
}

}  // namespace

Result<PyRef> ToPython(const at::Tensor& t) {
  const bool is_bool = t.scalar_type() == at::kBool;
  DLManagedTensor* managed = at::toDLPack(is_bool ? t.view(at::kByte) : t);
  PyRef capsule = PyRef::Steal(PyCapsule_New(managed, kCapsuleName, DestroyUnusedCapsule));
  if (!capsule) {
    managed->deleter(managed);
    return InternalError("DLPack capsule: " + TakePythonError());
  }
  ANVIL_ASSIGN_OR_RETURN(PyRef from_dlpack, TorchAttr("torch.utils.dlpack", "from_dlpack"));
  PyRef py = PyRef::Steal(PyObject_CallOneArg(from_dlpack.get(), capsule.get()));
  if (py && is_bool) {
    ANVIL_ASSIGN_OR_RETURN(PyRef torch_bool, TorchAttr("torch", "bool"));
    py = PyRef::Steal(PyObject_CallMethod(py.get(), "view", "O", torch_bool.get()));
  }
  if (!py) return InternalError("torch.utils.dlpack.from_dlpack: " + TakePythonError());
  ANVIL_RETURN_IF_ERROR(CheckSameView(py.get(), t, "export to Python"));
  return py;
}

Result<at::Tensor> FromPython(PyObject* o) {
  ANVIL_ASSIGN_OR_RETURN(PyRef torch_bool, TorchAttr("torch", "bool"));
  ANVIL_ASSIGN_OR_RETURN(PyRef to_dlpack, TorchAttr("torch.utils.dlpack", "to_dlpack"));
  PyRef dtype = PyRef::Steal(PyObject_GetAttrString(o, "dtype"));
  if (!dtype) return InternalError("expected a torch.Tensor: " + TakePythonError());
  const bool is_bool = dtype.get() == torch_bool.get();
  PyRef source = PyRef::Borrow(o);
  if (is_bool) {
    ANVIL_ASSIGN_OR_RETURN(PyRef torch_uint8, TorchAttr("torch", "uint8"));
    source = PyRef::Steal(PyObject_CallMethod(o, "view", "O", torch_uint8.get()));
  }
  PyRef capsule = source ? PyRef::Steal(PyObject_CallOneArg(to_dlpack.get(), source.get())) : PyRef();
  if (!capsule) return InternalError("torch.utils.dlpack.to_dlpack: " + TakePythonError());
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.get(), kCapsuleName));
  if (!managed) return InternalError("to_dlpack returned no DLPack capsule: " + TakePythonError());
  at::Tensor t = at::fromDLPack(managed);  // owns `managed` from here on
  PyCapsule_SetName(capsule.get(), kUsedCapsuleName);
  if (is_bool) t = t.view(at::kBool);
  ANVIL_RETURN_IF_ERROR(CheckSameView(o, t, "import from Python"));
  return t;
}

PyRef ScalarToPython(const ScalarValue& v) {
  if (v.dtype == DType::kBool) return PyRef::Steal(PyBool_FromLong(v.i != 0));
  if (IsFloating(v.dtype)) return PyRef::Steal(PyFloat_FromDouble(v.f));
  return PyRef::Steal(PyLong_FromLongLong(v.i));
}

Result<std::vector<at::Tensor>> CallWithTensors(PyObject* fn, const std::vector<at::Tensor>& inputs,
                                                const std::vector<ScalarValue>& attrs, const std::string& what,
                                                PyObject* keywords) {
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
  PyRef result = PyRef::Steal(PyObject_Call(fn, args.get(), keywords));
  if (!result) return InternalError(fmt::format("{}: {}", what, TakePythonError()));

  std::vector<at::Tensor> outputs;
  if (PyTuple_Check(result.get()) || PyList_Check(result.get())) {
    PyRef seq = PyRef::Steal(PySequence_Fast(result.get(), "not a sequence"));
    for (Py_ssize_t k = 0; seq && k < PySequence_Fast_GET_SIZE(seq.get()); ++k) {
      auto t = FromPython(PySequence_Fast_GET_ITEM(seq.get(), k));
      if (!t.ok()) return t.status().Context(fmt::format("output {} of {}", k, what));
      outputs.push_back(std::move(t).value());
    }
  } else {
    auto t = FromPython(result.get());
    if (!t.ok()) return t.status().Context(fmt::format("the result of {}", what));
    outputs.push_back(std::move(t).value());
  }
  return outputs;
}

}  // namespace anvil::worker::python
