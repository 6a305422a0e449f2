#include "worker/compiled_baseline.h"

#include <map>
#include <memory>

#include "worker/python/python_runtime.h"

namespace anvil::worker {

decltype(EvaluationContext::compiled_baseline) MakeCompiledBaseline(const EvaluationContext& ctx) {
#if ANVIL_WITH_PYTHON
  // Shared by copies of the returned function: one compiled function per variant.
  auto cache = std::make_shared<std::map<int, CompiledReference>>();
  const ReferenceModel* reference = ctx.reference.get();
  return [cache, reference](int variant, const std::vector<at::Tensor>& inputs,
                            const ReferenceCase& where) -> Result<std::vector<at::Tensor>> {
    auto it = cache->find(variant);
    if (it == cache->end()) {
      ANVIL_ASSIGN_OR_RETURN(CompiledReference compiled, reference->Compile(variant));
      it = cache->emplace(variant, std::move(compiled)).first;
    }
    return it->second(inputs, where);
  };
#else
  (void)ctx;
  return {};
#endif
}

}  // namespace anvil::worker
