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

// A tensor element as people read it in a mismatch: the shortest text that
// reads back as the same value, taken as a float when the value is one (an
// f32/f16/bf16 element shows as 1.1, not 1.100000023841858) and as a double
// otherwise. Whole numbers print whole, so an integer off by one is visible
// at any size (16777215 vs 16777216). "NaN" for NaN.
std::string ElementToString(double v);

}  // namespace anvil
