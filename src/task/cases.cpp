#include "task/cases.h"

#include <algorithm>

#include <fmt/format.h>

namespace anvil {

std::string CaseSpec::Label() const {
  return fmt::format("{} {} {} {} seed={}", variant_label, BindingsToString(bindings), layout, distribution, seed);
}

std::vector<CaseSpec> CorrectnessCases(const Task& task) {
  const CaseMatrix& m = task.correctness;
  auto variants = task.Variants();
  size_t per_shape = std::max({m.seeds.size(), m.layouts.size(), m.distributions.size()});
  std::vector<CaseSpec> out;
  size_t k = 0;  // runs across shapes so consecutive shapes start at different layouts
  for (size_t v = 0; v < variants.size(); ++v)
    for (const Bindings& b : m.shapes)
      for (size_t j = 0; j < per_shape; ++j, ++k) {
        CaseSpec c;
        c.index = static_cast<int>(out.size());
        c.variant = static_cast<int>(v);
        c.variant_label = variants[v].Label();
        c.bindings = b;
        c.layout = m.layouts[k % m.layouts.size()];
        c.distribution = m.distributions[(k / m.layouts.size() + k) % m.distributions.size()];
        c.seed = m.seeds[j % m.seeds.size()];
        out.push_back(std::move(c));
      }
  return out;
}

std::vector<CaseSpec> PerformanceCases(const Task& task) {
  auto variants = task.Variants();
  std::vector<CaseSpec> out;
  for (size_t v = 0; v < variants.size(); ++v)
    for (const Bindings& b : task.performance.shapes) {
      CaseSpec c;
      c.index = static_cast<int>(out.size());
      c.variant = static_cast<int>(v);
      c.variant_label = variants[v].Label();
      c.bindings = b;
      c.seed = 1000 + c.index;
      out.push_back(std::move(c));
    }
  return out;
}

}  // namespace anvil
