#include "worker/formula_reference.h"

#include <memory>

#include "worker/python/python_runtime.h"
#if ANVIL_WITH_PYTHON
#include "formula/python_emit.h"
#include "worker/python/compiled_function.h"
#endif

namespace anvil::worker {

Result<std::vector<at::Tensor>> FormulaReference::Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                                           const ReferenceCase& /*where*/,
                                                           reference::Precision precision) const {
  return reference::Evaluate(graphs_.at(variant), inputs, attrs_, precision);
}

int64_t FormulaReference::ReductionLength(int variant, size_t output, const Bindings& bindings) const {
  return graphs_.at(variant).ReductionLength(output, bindings);
}

Result<CompiledReference> FormulaReference::Compile(int variant) const {
#if ANVIL_WITH_PYTHON
  ANVIL_ASSIGN_OR_RETURN(formula::PythonFunction fn, formula::EmitPython(graphs_.at(variant)));
  ANVIL_ASSIGN_OR_RETURN(std::unique_ptr<python::CompiledFunction> compiled,
                         python::CompiledFunction::Create(fn.source, fn.name));
  std::shared_ptr<python::CompiledFunction> shared = std::move(compiled);
  std::vector<ScalarValue> attrs = attrs_;
  return CompiledReference([shared, attrs](const std::vector<at::Tensor>& inputs, const ReferenceCase&) {
    return shared->Call(inputs, attrs);
  });
#else
  (void)variant;
  return Unsupported("this anvil-worker was built without Python: no torch.compile baseline");
#endif
}

}  // namespace anvil::worker
