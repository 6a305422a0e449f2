#include "core/scalar.h"

#include <cmath>

#include <fmt/format.h>

namespace anvil {

std::string ScalarValue::ToString() const {
  if (dtype == DType::kBool) return i ? "True" : "False";
  if (IsFloating(dtype)) return fmt::format("{}", f);
  return std::to_string(i);
}

std::string ElementToString(double v) {
  if (std::isnan(v)) return "NaN";
  const float narrow = static_cast<float>(v);
  if (static_cast<double>(narrow) == v) return fmt::format("{}", narrow);
  return fmt::format("{}", v);
}

}  // namespace anvil
