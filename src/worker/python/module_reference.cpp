#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/module_reference.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "worker/python/python_runtime.h"
#include "worker/python/tensor_exchange.h"

namespace anvil::worker::python {
namespace {

at::Tensor CastInput(const at::Tensor& t, reference::Precision precision) {
  if (!at::isFloatingType(t.scalar_type())) return t;
  switch (precision) {
    case reference::Precision::kUpcast64: return t.to(at::kDouble);
    case reference::Precision::kUpcast32:
      return t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16 ? t.to(at::kFloat) : t;
    case reference::Precision::kNative: return t;
  }
  return t;
}

}  // namespace

ModuleReference::ModuleReference(const Task& task, std::vector<std::vector<formula::OutputInfo>> outputs, PyRef model,
                                 PyRef caller)
    : outputs_(std::move(outputs)),
      reduction_dims_(task.compare.reduction_dims),
      path_(task.module->path),
      model_(std::move(model)),
      caller_(std::move(caller)) {
  for (const TaskInput& in : task.inputs) input_shapes_.push_back(in.shape);
  for (const TaskAttr& a : task.attrs) attrs_.push_back(a.value);
}

Result<std::unique_ptr<ModuleReference>> ModuleReference::Load(const Task& task,
                                                               std::vector<std::vector<formula::OutputInfo>> outputs) {
  if (!task.module) return InternalError("ModuleReference::Load for a task without a module reference");
  if (!Initialized()) return InternalError("ModuleReference::Load before python::Initialize");
  ANVIL_ASSIGN_OR_RETURN(PyRef load, BridgeFunction("load_reference_module"));
  PyRef model = PyRef::Steal(PyObject_CallFunction(load.get(), "sssn", task.module->source.c_str(),
                                                   task.module->path.c_str(), task.module->class_name.c_str(),
                                                   static_cast<Py_ssize_t>(task.inputs.size() + task.attrs.size())));
  if (!model) return InvalidInput("the reference module cannot be used: " + TakePythonError());
  ANVIL_ASSIGN_OR_RETURN(PyRef make_caller, BridgeFunction("reference_caller"));
  PyRef caller = PyRef::Steal(PyObject_CallOneArg(make_caller.get(), model.get()));
  if (!caller) return InternalError("reference_caller: " + TakePythonError());
  return std::unique_ptr<ModuleReference>(
      new ModuleReference(task, std::move(outputs), std::move(model), std::move(caller)));
}

Result<Bindings> ModuleReference::BindSizes(const std::vector<at::Tensor>& inputs) const {
  Bindings b;
  for (size_t i = 0; i < inputs.size() && i < input_shapes_.size(); ++i) {
    const SymShape& declared = input_shapes_[i];
    if (static_cast<size_t>(inputs[i].dim()) != declared.size())
      return InternalError(fmt::format("input {} has rank {}, the task declares {}", i, inputs[i].dim(),
                                       ShapeToString(declared)));
    for (size_t d = 0; d < declared.size(); ++d)
      if (!declared[d].is_fixed()) b[declared[d].symbol()] = inputs[i].size(static_cast<int64_t>(d));
  }
  return b;
}

Result<std::vector<at::Tensor>> ModuleReference::Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                                          reference::Precision precision) const {
  const std::vector<formula::OutputInfo>& declared = outputs_.at(variant);
  std::vector<at::Tensor> cast;
  for (const at::Tensor& t : inputs) cast.push_back(CastInput(t, precision));
  ANVIL_ASSIGN_OR_RETURN(std::vector<at::Tensor> out,
                         CallWithTensors(caller_.get(), cast, attrs_, fmt::format("the reference module {}", path_)));
  // The checks below cost host time; the eager baseline is timed through
  // this call, so each (variant, precision, input sizes) is checked once.
  std::vector<int64_t> key = {variant, static_cast<int64_t>(precision)};
  for (const at::Tensor& t : inputs) {
    key.push_back(t.dim());
    for (int64_t s : t.sizes()) key.push_back(s);
  }
  if (out.size() == declared.size() && checked_.count(key)) {
    if (precision != reference::Precision::kNative)
      for (size_t j = 0; j < out.size(); ++j) out[j] = out[j].to(reference::ToAten(declared[j].dtype));
    return out;
  }
  if (out.size() != declared.size())
    return InvalidInput(fmt::format("the reference module {} returned {} output(s); the task declares {}", path_,
                                    out.size(), declared.size()));
  ANVIL_ASSIGN_OR_RETURN(Bindings sizes, BindSizes(inputs));
  for (size_t j = 0; j < out.size(); ++j) {
    const formula::OutputInfo& want = declared[j];
    ANVIL_ASSIGN_OR_RETURN(Shape shape, Concretize(want.shape, sizes));
    if (out[j].sizes().vec() != shape)
      return InvalidInput(fmt::format("the reference module {} returned output '{}' of shape {}; the task declares "
                                      "{} = {}",
                                      path_, want.name, fmt::format("{}", fmt::join(out[j].sizes(), ", ")),
                                      ShapeToString(want.shape), fmt::format("[{}]", fmt::join(shape, ", "))));
    const at::ScalarType dtype = reference::ToAten(want.dtype);
    if (precision == reference::Precision::kNative && out[j].scalar_type() != dtype)
      return InvalidInput(fmt::format("the reference module {} returned output '{}' as {}; the task declares {}",
                                      path_, want.name, c10::toString(out[j].scalar_type()), DTypeName(want.dtype)));
    out[j] = out[j].to(dtype);
  }
  checked_.insert(std::move(key));
  return out;
}

int64_t ModuleReference::ReductionLength(int /*variant*/, size_t /*output*/, const Bindings& bindings) const {
  if (!reduction_dims_) return 1;
  auto dims = Concretize(*reduction_dims_, bindings);
  return dims.ok() ? std::max<int64_t>(1, NumElements(*dims)) : 1;
}

Result<CompiledReference> ModuleReference::Compile(int /*variant*/) const {
  ANVIL_ASSIGN_OR_RETURN(PyRef compile_module, BridgeFunction("compile_module"));
  PyRef fn = PyRef::Steal(PyObject_CallOneArg(compile_module.get(), model_.get()));
  if (!fn) {
    if (PendingErrorIs("UnsupportedTorch")) return Unsupported("no torch.compile baseline: " + TakePythonError());
    return InternalError(fmt::format("torch.compile of {}: {}", path_, TakePythonError()));
  }
  auto shared = std::make_shared<PyRef>(std::move(fn));
  std::string what = "torch.compile'd " + path_;
  std::vector<ScalarValue> attrs = attrs_;
  return CompiledReference([shared, what, attrs](const std::vector<at::Tensor>& inputs) {
    return CallWithTensors(shared->get(), inputs, attrs, what);
  });
}

}  // namespace anvil::worker::python
