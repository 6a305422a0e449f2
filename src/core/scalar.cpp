#include "core/scalar.h"

#include <fmt/format.h>

namespace anvil {

std::string ScalarValue::ToString() const {
  if (dtype == DType::kBool) return i ? "True" : "False";
  if (IsFloating(dtype)) return fmt::format("{}", f);
  return std::to_string(i);
}

}  // namespace anvil
