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

// The names forward may take as keyword-only parameters: symbols bound in
// every correctness and performance case, type variables, and "device".
std::vector<std::string> OfferedKeywords(const Task& task) {
  std::set<std::string> everywhere;
  bool first = true;
  for (const auto* shapes : {&task.correctness.shapes, &task.performance.shapes})
    for (const Bindings& b : *shapes) {
      std::set<std::string> here;
      for (const auto& [symbol, size] : b)
        if (first || everywhere.count(symbol)) here.insert(symbol);
      everywhere = std::move(here);
      first = false;
    }
  std::vector<std::string> names(everywhere.begin(), everywhere.end());
  for (const auto& [var, dtypes] : task.type_vars) names.push_back(var);
  names.push_back("device");
  return names;
}

// The dtype a type variable's values are computed in at `precision`, as
// CastInput casts floating inputs.
DType ComputeDType(DType declared, reference::Precision precision) {
  if (!IsFloating(declared)) return declared;
  switch (precision) {
    case reference::Precision::kUpcast64: return DType::kF64;
    case reference::Precision::kUpcast32:
      return declared == DType::kF16 || declared == DType::kBF16 ? DType::kF32 : declared;
    case reference::Precision::kNative: return declared;
  }
  return declared;
}

PyRef StringList(const std::vector<std::string>& names) {
  PyRef list = PyRef::Steal(PyList_New(static_cast<Py_ssize_t>(names.size())));
  for (size_t i = 0; list && i < names.size(); ++i)
    PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), PyUnicode_FromString(names[i].c_str()));
  return list;
}

}  // namespace

ModuleReference::ModuleReference(const Task& task, std::vector<std::vector<formula::OutputInfo>> outputs, PyRef model,
                                 PyRef caller, std::vector<std::string> keywords, PyRef make_keywords)
    : variants_(task.Variants()),
      keywords_(std::move(keywords)),
      make_keywords_(std::move(make_keywords)),
      outputs_(std::move(outputs)),
      reduction_dims_(task.compare.reduction_dims),
      path_(task.module->path),
      model_(std::move(model)),
      caller_(std::move(caller)) {
  for (const TaskAttr& a : task.attrs) attrs_.push_back(a.value);
}

Result<std::unique_ptr<ModuleReference>> ModuleReference::Load(const Task& task,
                                                               std::vector<std::vector<formula::OutputInfo>> outputs) {
  if (!task.module) return InternalError("ModuleReference::Load for a task without a module reference");
  if (!Initialized()) return InternalError("ModuleReference::Load before python::Initialize");
  ANVIL_ASSIGN_OR_RETURN(PyRef load, BridgeFunction("load_reference_module"));
  PyRef offered = StringList(OfferedKeywords(task));
  if (!offered) return InternalError("ModuleReference::Load: " + TakePythonError());
  PyRef loaded = PyRef::Steal(PyObject_CallFunction(load.get(), "sssnO", task.module->source.c_str(),
                                                    task.module->path.c_str(), task.module->class_name.c_str(),
                                                    static_cast<Py_ssize_t>(task.inputs.size() + task.attrs.size()),
                                                    offered.get()));
  if (!loaded) return InvalidInput("the reference module cannot be used: " + TakePythonError());
  // (model, [keyword-only parameter names])
  PyRef model = PyRef::Borrow(PyTuple_GetItem(loaded.get(), 0));
  PyObject* names = PyTuple_GetItem(loaded.get(), 1);
  if (!model || !names) return InternalError("load_reference_module: " + TakePythonError());
  std::vector<std::string> keywords;
  for (Py_ssize_t i = 0; i < PyList_Size(names); ++i) keywords.push_back(PyUnicode_AsUTF8(PyList_GetItem(names, i)));
  ANVIL_ASSIGN_OR_RETURN(PyRef make_caller, BridgeFunction("reference_caller"));
  PyRef caller = PyRef::Steal(PyObject_CallOneArg(make_caller.get(), model.get()));
  if (!caller) return InternalError("reference_caller: " + TakePythonError());
  ANVIL_ASSIGN_OR_RETURN(PyRef make_keywords, BridgeFunction("reference_keywords"));
  return std::unique_ptr<ModuleReference>(new ModuleReference(task, std::move(outputs), std::move(model),
                                                              std::move(caller), std::move(keywords),
                                                              std::move(make_keywords)));
}

Result<PyObject*> ModuleReference::Keywords(int variant, const ReferenceCase& where,
                                            reference::Precision precision) const {
  if (keywords_.empty()) return nullptr;
  std::string key = fmt::format("{}|{}|{}", variant, static_cast<int>(precision), where.device);
  for (const std::string& k : keywords_)
    if (auto it = where.sizes.find(k); it != where.sizes.end()) key += fmt::format("|{}", it->second);
  if (auto hit = keyword_cache_.find(key); hit != keyword_cache_.end()) return hit->second.get();

  PyRef sizes = PyRef::Steal(PyDict_New());
  PyRef dtypes = PyRef::Steal(PyDict_New());
  if (!sizes || !dtypes) return InternalError(TakePythonError());
  for (const std::string& k : keywords_) {
    if (auto it = where.sizes.find(k); it != where.sizes.end()) {
      PyRef v = PyRef::Steal(PyLong_FromLongLong(it->second));
      if (!v || PyDict_SetItemString(sizes.get(), k.c_str(), v.get()) != 0) return InternalError(TakePythonError());
    }
    const auto& vars = variants_.at(static_cast<size_t>(variant)).type_vars;
    if (auto it = vars.find(k); it != vars.end()) {
      const std::string name(DTypeName(ComputeDType(it->second, precision)));
      PyRef v = PyRef::Steal(PyUnicode_FromString(name.c_str()));
      if (!v || PyDict_SetItemString(dtypes.get(), k.c_str(), v.get()) != 0) return InternalError(TakePythonError());
    }
  }
  PyRef names = StringList(keywords_);
  if (!names) return InternalError(TakePythonError());
  PyRef kw = PyRef::Steal(PyObject_CallFunction(make_keywords_.get(), "OOOs", names.get(), sizes.get(), dtypes.get(),
                                                where.device.c_str()));
  if (!kw)
    return InvalidInput(fmt::format("the reference module {}: its keyword arguments at {}: {}", path_,
                                    BindingsToString(where.sizes), TakePythonError()));
  return keyword_cache_.emplace(std::move(key), std::move(kw)).first->second.get();
}

Result<std::vector<at::Tensor>> ModuleReference::Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                                          const ReferenceCase& where,
                                                          reference::Precision precision) const {
  const std::vector<formula::OutputInfo>& declared = outputs_.at(variant);
  std::vector<at::Tensor> cast;
  for (const at::Tensor& t : inputs) cast.push_back(CastInput(t, precision));
  ANVIL_ASSIGN_OR_RETURN(PyObject* keywords, Keywords(variant, where, precision));
  ANVIL_ASSIGN_OR_RETURN(std::vector<at::Tensor> out, CallWithTensors(caller_.get(), cast, attrs_,
                                                                      fmt::format("the reference module {}", path_),
                                                                      keywords));
  // The checks below cost host time; the eager baseline is timed through
  // this call, so each (variant, precision, sizes) is checked once.
  std::vector<int64_t> key = {variant, static_cast<int64_t>(precision)};
  for (const auto& [symbol, size] : where.sizes) key.push_back(size);
  if (out.size() == declared.size() && checked_.count(key)) {
    if (precision != reference::Precision::kNative)
      for (size_t j = 0; j < out.size(); ++j) out[j] = out[j].to(reference::ToAten(declared[j].dtype));
    return out;
  }
  if (out.size() != declared.size())
    return InvalidInput(fmt::format("the reference module {} returned {} output(s); the task declares {}", path_,
                                    out.size(), declared.size()));
  for (size_t j = 0; j < out.size(); ++j) {
    const formula::OutputInfo& want = declared[j];
    ANVIL_ASSIGN_OR_RETURN(Shape shape, Concretize(want.shape, where.sizes));
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

Result<CompiledReference> ModuleReference::Compile(int variant) const {
  ANVIL_ASSIGN_OR_RETURN(PyRef compile_module, BridgeFunction("compile_module"));
  PyRef fn = PyRef::Steal(PyObject_CallOneArg(compile_module.get(), model_.get()));
  if (!fn) {
    if (PendingErrorIs("UnsupportedTorch")) return Unsupported("no torch.compile baseline: " + TakePythonError());
    return InternalError(fmt::format("torch.compile of {}: {}", path_, TakePythonError()));
  }
  auto shared = std::make_shared<PyRef>(std::move(fn));
  std::string what = "torch.compile'd " + path_;
  std::vector<ScalarValue> attrs = attrs_;
  return CompiledReference([this, variant, shared, what, attrs](const std::vector<at::Tensor>& inputs,
                                                                const ReferenceCase& where)
                               -> Result<std::vector<at::Tensor>> {
    ANVIL_ASSIGN_OR_RETURN(PyObject* keywords, Keywords(variant, where, reference::Precision::kNative));
    return CallWithTensors(shared->get(), inputs, attrs, what, keywords);
  });
}

}  // namespace anvil::worker::python
