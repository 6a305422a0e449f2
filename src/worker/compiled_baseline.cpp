#include "worker/compiled_baseline.h"

#include <map>
#include <memory>

#if ANVIL_WITH_PYTHON
#include "formula/python_emit.h"
#include "worker/python/compiled_function.h"
#endif

namespace anvil::worker {

decltype(EvaluationContext::compiled_baseline) MakeCompiledBaseline(const EvaluationContext& ctx) {
#if ANVIL_WITH_PYTHON
  // Shared by copies of the returned function: one compiled function per variant.
  auto cache = std::make_shared<std::map<int, std::shared_ptr<python::CompiledFunction>>>();
  const std::vector<formula::Graph>* graphs = &ctx.graphs;
  std::vector<ScalarValue> attrs = ctx.attr_values;
  return [cache, graphs, attrs](int variant, const std::vector<at::Tensor>& inputs)
             -> Result<std::vector<at::Tensor>> {
    auto it = cache->find(variant);
    if (it == cache->end()) {
      ANVIL_ASSIGN_OR_RETURN(formula::PythonFunction fn, formula::EmitPython((*graphs)[variant]));
      ANVIL_ASSIGN_OR_RETURN(std::unique_ptr<python::CompiledFunction> compiled,
                             python::CompiledFunction::Create(fn.source, fn.name));
      it = cache->emplace(variant, std::shared_ptr<python::CompiledFunction>(std::move(compiled))).first;
    }
    return it->second->Call(inputs, attrs);
  };
#else
  (void)ctx;
  return {};
#endif
}

}  // namespace anvil::worker
