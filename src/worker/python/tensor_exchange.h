// Tensors crossing between the worker's LibTorch and the embedded Python's
// torch, as DLPack capsules: the same memory, no copies, either direction.
//
// The Python tensor and the at::Tensor share storage and keep each other's
// memory alive (the DLPack deleter holds a reference). Sizes, dtype and the
// strides of every dimension longer than 1 are checked after the crossing
// (torch 1.13 normalises the strides of size-1 and empty dimensions, which
// address nothing). DLPack has no bool in torch 1.13, so bool tensors cross
// as uint8 views and are viewed back as bool. Attributes cross as Python
// float, int or bool. Call on the worker's thread.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/scalar.h"
#include "util/status.h"
#include "worker/python/py_ref.h"

namespace anvil::worker::python {

// A torch.Tensor viewing the memory of `t`.
Result<PyRef> ToPython(const at::Tensor& t);

// An at::Tensor viewing the memory of the torch.Tensor `o` (borrowed).
Result<at::Tensor> FromPython(PyObject* o);

// A Python float (floating dtypes), bool or int holding `v` (null with a
// Python error set only when Python is out of memory).
PyRef ScalarToPython(const ScalarValue& v);

// fn(*inputs, *attrs, **keywords) on views of the tensors (`keywords` a dict
// or null); the result (a tensor, or a tuple or list of tensors) comes back
// as at::Tensors sharing its memory. A Python exception is a kInternal
// Status carrying it, prefixed by `what`.
Result<std::vector<at::Tensor>> CallWithTensors(PyObject* fn, const std::vector<at::Tensor>& inputs,
                                                const std::vector<ScalarValue>& attrs, const std::string& what,
                                                PyObject* keywords = nullptr);

}  // namespace anvil::worker::python
