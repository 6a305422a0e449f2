#include "verify/tolerance.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace anvil {
namespace {

struct FloatPolicy {
  DType type;
  double rtol;            // default relative tolerance
  double smallest_normal; // floor for the output scale of an all-zero (or tiny) output
};

// The floating dtypes' defaults, from operator-library accuracy tests
// (docs/verification-policy.md explains each value). One row per dtype;
// every other function reads this table.
constexpr std::array<FloatPolicy, 4> kFloatPolicy = {{
    {DType::kF16, 1e-3, 6.103515625e-05},               // 2^-14
    {DType::kBF16, 1.6e-2, 1.1754943508222875e-38},     // 2^-126
    {DType::kF32, 1.3e-6, 1.1754943508222875e-38},      // 2^-126
    {DType::kF64, 1e-7, 2.2250738585072014e-308},       // 2^-1022
}};

const FloatPolicy* PolicyFor(DType t) {
  for (const auto& p : kFloatPolicy)
    if (p.type == t) return &p;
  return nullptr;
}

}  // namespace

double DefaultRtol(DType t) {
  const FloatPolicy* p = PolicyFor(t);
  return p ? p->rtol : 0.0;
}

Tolerance ToleranceFor(DType output_dtype, double output_scale, int64_t reduction_length,
                       const ToleranceOverrides& overrides) {
  Tolerance tol;
  const FloatPolicy* p = PolicyFor(output_dtype);
  if (p == nullptr) {
    tol.exact = true;
    tol.rule = fmt::format("{}: exact (integer and bool outputs must be equal)", DTypeName(output_dtype));
    return tol;
  }
  ToleranceOverride ov;
  if (auto it = overrides.per_dtype.find(output_dtype); it != overrides.per_dtype.end()) ov = it->second;

  tol.rtol = ov.rtol.value_or(p->rtol);
  std::string rtol_src = ov.rtol ? "task override" : fmt::format("default for {}", DTypeName(output_dtype));
  std::string atol_src;
  if (ov.atol) {
    tol.atol = *ov.atol;
    atol_src = "task override";
  } else {
    double scale = std::isfinite(output_scale) ? std::max(output_scale, p->smallest_normal) : p->smallest_normal;
    double length = static_cast<double>(std::max<int64_t>(1, reduction_length));
    tol.atol = tol.rtol * scale * std::sqrt(length);
    atol_src = fmt::format("rtol * scale * sqrt(reduction length), scale = max|expected| = {:.4g}, length = {}",
                           scale, std::max<int64_t>(1, reduction_length));
  }
  tol.rule = fmt::format("{}: |actual - expected| <= atol + rtol * |expected| with rtol = {:.3g} ({}), atol = {:.3g} ({})",
                         DTypeName(output_dtype), tol.rtol, rtol_src, tol.atol, atol_src);
  return tol;
}

double AllowedError(const Tolerance& tol, double expected) {
  if (tol.exact) return 0.0;
  return tol.atol + tol.rtol * std::fabs(expected);
}

bool WithinTolerance(const Tolerance& tol, double expected, double actual) {
  if (std::isnan(expected) || std::isnan(actual)) return std::isnan(expected) && std::isnan(actual);
  if (std::isinf(expected) || std::isinf(actual)) return expected == actual;
  if (tol.exact) return expected == actual;
  return std::fabs(actual - expected) <= AllowedError(tol, expected);
}

}  // namespace anvil
