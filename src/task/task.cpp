#include "task/task.h"

namespace anvil {

std::string DTypeVariant::Label() const {
  std::string out;
  for (const auto& [var, dt] : type_vars) out += (out.empty() ? "" : ",") + var + "=" + std::string(DTypeName(dt));
  if (!out.empty()) return out;
  for (DType dt : input_dtypes) out += (out.empty() ? "" : ",") + std::string(DTypeName(dt));
  return out;
}

std::vector<DTypeVariant> Task::Variants() const {
  // Cartesian product over type variables in name order (std::map order).
  std::vector<std::map<std::string, DType>> combos = {{}};
  for (const auto& [var, dtypes] : type_vars) {
    std::vector<std::map<std::string, DType>> next;
    for (const auto& partial : combos)
      for (DType dt : dtypes) {
        auto c = partial;
        c[var] = dt;
        next.push_back(std::move(c));
      }
    combos = std::move(next);
  }
  std::vector<DTypeVariant> out;
  for (auto& c : combos) {
    DTypeVariant v;
    v.type_vars = c;
    for (const TaskInput& in : inputs) {
      auto it = c.find(in.dtype);
      v.input_dtypes.push_back(it != c.end() ? it->second : *ParseDType(in.dtype));
    }
    out.push_back(std::move(v));
  }
  return out;
}

int Task::InputIndex(const std::string& n) const {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].name == n) return static_cast<int>(i);
  return -1;
}

bool Task::HasViewOutputs() const {
  for (const TaskOutput& o : outputs)
    if (o.view_of) return true;
  return false;
}

}  // namespace anvil
