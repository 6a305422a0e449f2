// ScalarValue: the value of a task attribute (eps, temperature, slope ...)
// and of literals in formulas.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "core/dtype.h"

namespace anvil {

struct ScalarValue {
  DType dtype = DType::kF64;  // f64/f32/f16/bf16 use f; integers and bool use i
  double f = 0;
  int64_t i = 0;

  static ScalarValue Float(double v, DType t = DType::kF64) { return {t, v, 0}; }
  static ScalarValue Int(int64_t v, DType t = DType::kI64) { return {t, 0, v}; }
  static ScalarValue Bool(bool v) { return {DType::kBool, 0, v ? 1 : 0}; }
  double AsDouble() const { return IsFloating(dtype) ? f : static_cast<double>(i); }
  std::string ToString() const;
};

}  // namespace anvil
