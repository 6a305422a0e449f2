#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/triton_candidate.h"

#include <algorithm>

#include <fmt/format.h>

#include "anvil/kernel.h"
#include "worker/python/python_runtime.h"
#include "worker/python/tensor_exchange.h"

namespace anvil::worker::python {
namespace {

Status SetItem(PyObject* dict, const std::string& key, Result<PyRef> value) {
  if (!value.ok()) return value.status().Context("argument '" + key + "'");
  if (!*value || PyDict_SetItemString(dict, key.c_str(), value->get()) != 0)
    return InternalError(fmt::format("argument '{}': {}", key, TakePythonError()));
  return Status::Ok();
}

Result<std::vector<std::string>> Strings(PyObject* sequence, const char* what) {
  PyRef seq = sequence ? PyRef::Steal(PySequence_Fast(sequence, "not a sequence")) : PyRef();
  if (!seq) return InternalError(fmt::format("{}: {}", what, TakePythonError()));
  std::vector<std::string> out;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
    const char* s = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq.get(), i));
    if (!s) return InternalError(fmt::format("{}: {}", what, TakePythonError()));
    out.emplace_back(s);
  }
  return out;
}

}  // namespace

TritonLoad TritonCandidate::Load(const std::string& path, bool static_gate) {
  TritonLoad load;
  auto load_error = [&](std::string reason) {
    load.verdict = Verdict::kLoadError;
    load.reason = std::move(reason);
    return std::move(load);
  };
  if (!Initialized()) return load_error("internal: TritonCandidate::Load before python::Initialize");
  auto load_candidate = BridgeFunction("load_candidate");
  if (!load_candidate.ok()) return load_error(load_candidate.status().message());
  PyRef module = PyRef::Steal(PyObject_CallFunction(load_candidate->get(), "sO", path.c_str(),
                                                    static_gate ? Py_True : Py_False));
  if (!module) {
    if (PendingErrorIs("GateViolation")) {
      load.verdict = Verdict::kSuspicious;
      // The exception's text is the list of violations; its traceback is ours.
      std::string violations = TakePythonErrorMessage();
      load.reason = violations.empty() ? "the static gate rejected the candidate" : violations;
      return load;
    }
    return load_error(TakePythonError());
  }
  load.candidate.reset(new TritonCandidate(std::move(module)));
  return load;
}

void TritonCandidate::SetNames(std::vector<std::string> inputs, std::vector<std::string> outputs) {
  input_names_ = std::move(inputs);
  output_names_ = std::move(outputs);
}

Result<PyRef> TritonCandidate::Kwargs(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                                      const NamedAttrs& attrs) const {
  if (inputs.size() != input_names_.size() || outputs.size() != output_names_.size())
    return InternalError(fmt::format("TritonCandidate got {} inputs and {} outputs but has names for {} and {} "
                                     "(SetNames before Call)",
                                     inputs.size(), outputs.size(), input_names_.size(), output_names_.size()));
  PyRef kwargs = PyRef::Steal(PyDict_New());
  if (!kwargs) return InternalError(TakePythonError());
  for (size_t i = 0; i < inputs.size(); ++i)
    ANVIL_RETURN_IF_ERROR(SetItem(kwargs.get(), input_names_[i], ToPython(inputs[i])));
  for (size_t i = 0; i < outputs.size(); ++i)
    ANVIL_RETURN_IF_ERROR(SetItem(kwargs.get(), output_names_[i], ToPython(outputs[i])));
  for (const auto& [name, value] : attrs) ANVIL_RETURN_IF_ERROR(SetItem(kwargs.get(), name, ScalarToPython(value)));
  return kwargs;
}

CallResult TritonCandidate::Call(const std::vector<at::Tensor>& inputs, const std::vector<at::Tensor>& outputs,
                                 const NamedAttrs& attrs, int num_threads, void* stream) const {
  CallResult r;
  auto kwargs = Kwargs(inputs, outputs, attrs);
  if (!kwargs.ok()) return {ANVIL_ERROR_INTERNAL, "harness: " + kwargs.status().message()};
  auto call = BridgeFunction("call_candidate");
  if (!call.ok()) return {ANVIL_ERROR_INTERNAL, "harness: " + call.status().message()};
  PyRef result = PyRef::Steal(PyObject_CallFunctionObjArgs(call->get(), module_.get(), kwargs->get(), nullptr));
  if (!result) return {ANVIL_ERROR_INTERNAL, TakePythonError()};
  return r;
}

Result<std::vector<std::string>> TritonCandidate::ForeignKernels(const std::vector<at::Tensor>& inputs,
                                                                 const std::vector<at::Tensor>& outputs,
                                                                 const NamedAttrs& attrs) const {
  ANVIL_ASSIGN_OR_RETURN(PyRef kwargs, Kwargs(inputs, outputs, attrs));
  ANVIL_ASSIGN_OR_RETURN(PyRef call, BridgeFunction("call_candidate"));
  ANVIL_ASSIGN_OR_RETURN(PyRef launched_kernels, BridgeFunction("launched_kernels"));
  ANVIL_ASSIGN_OR_RETURN(PyRef kernel_names, BridgeFunction("candidate_kernel_names"));
  PyRef functools = PyRef::Steal(PyImport_ImportModule("functools"));
  PyRef one_call = functools ? PyRef::Steal(PyObject_CallMethod(functools.get(), "partial", "OOO", call.get(),
                                                                module_.get(), kwargs.get()))
                             : PyRef();
  PyRef work = one_call ? PyRef::Steal(PyObject_CallOneArg(launched_kernels.get(), one_call.get())) : PyRef();
  if (!work) return InternalError("profiling one call of the candidate: " + TakePythonError());
  PyRef own = PyRef::Steal(PyObject_CallOneArg(kernel_names.get(), module_.get()));
  if (!own) return InternalError("listing the candidate's @triton.jit kernels: " + TakePythonError());

  PyRef kernels = PyRef::Steal(PyObject_GetAttrString(work.get(), "kernels"));
  ANVIL_ASSIGN_OR_RETURN(std::vector<std::string> launched, Strings(kernels.get(), "launched kernels"));
  PyRef memory_ops = PyRef::Steal(PyObject_GetAttrString(work.get(), "memory_ops"));
  ANVIL_ASSIGN_OR_RETURN(std::vector<std::string> copies, Strings(memory_ops.get(), "launched memcpy/memset"));
  launched.insert(launched.end(), copies.begin(), copies.end());
  ANVIL_ASSIGN_OR_RETURN(std::vector<std::string> own_names, Strings(own.get(), "candidate kernels"));
  return ForeignKernelNames(launched, own_names);
}

std::vector<std::string> ForeignKernelNames(const std::vector<std::string>& launched,
                                            const std::vector<std::string>& candidate_kernels) {
  auto own = [&](const std::string& name) {
    return std::any_of(candidate_kernels.begin(), candidate_kernels.end(), [&](const std::string& k) {
      return name == k || (name.size() > k.size() && name.compare(0, k.size(), k) == 0 && name[k.size()] == '_');
    });
  };
  std::vector<std::string> foreign;
  for (const std::string& name : launched)
    if (!own(name) && std::find(foreign.begin(), foreign.end(), name) == foreign.end()) foreign.push_back(name);
  return foreign;
}

}  // namespace anvil::worker::python
