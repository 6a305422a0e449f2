// Tolerance policy: how close a candidate's output must be to the reference.
//
// The reference is computed on inputs upcast to f64 and cast back to the
// output dtype, so it is the correctly rounded answer (up to the f64 error,
// far below every tolerance here). A candidate passes an element when
//
//     |actual - expected| <= atol + rtol * |expected|
//
// and, for the whole output, NaN positions match and Inf positions and signs
// match (compare.h applies this to tensors; WithinTolerance is the same rule
// for one element).
//
// rtol per output dtype (a table in tolerance.cpp): f16 1e-3, bf16 1.6e-2,
// f32 1.3e-6, f64 1e-7 — the values operator libraries test with. They sit
// one to ten units in the last place of each format above the rounding error
// of the output itself, so a kernel that computes in the output dtype with a
// sensible algorithm passes and one that silently lowers precision (f32 work
// done in f16 or bf16) fails.
//
// atol is relative to the output's scale instead of a fixed floor:
//
//     atol = rtol * scale * sqrt(max(1, reduction_length))
//     scale = max |expected| over the finite values (floored at the dtype's
//             smallest normal number, so an all-zero output still has a
//             positive, tiny tolerance)
//
// Why: a fixed floor (1e-4 * length, as some suites use) lets an output of
// zeros or a constant pass when the true values are small, and judges tiny
// outputs by a floor larger than themselves. Tying atol to the largest value
// makes the check a relative-to-the-output-norm check for elements near zero
// (cancellation there loses relative accuracy legitimately) while keeping the
// elementwise rtol for the rest. The sqrt(reduction_length) factor is the
// expected growth of rounding error when a kernel accumulates n terms in a
// different order than the reference (random-walk error growth).
//
// Integer and bool outputs are compared exactly. Task files may override rtol
// and/or atol per floating dtype; an overridden atol is used as given (not
// scaled), an overridden rtol also feeds the derived atol. The Tolerance's
// `rule` says in words which values applied and where they came from.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/dtype.h"

namespace anvil {

// kAllClose: the rule above. kExact: values must be equal (NaN matches NaN,
// +0 matches -0). kUnordered: sort expected and actual along one dimension
// (NaN last) first, then allclose (or exact for integer outputs); for ops
// whose output order is unspecified (topk ties, unique, ...). kStatistical:
// random operators; no value-by-value comparison: each output is tested
// against the distribution the task states (worker/statistical_test.h).
enum class CompareMode { kAllClose, kExact, kUnordered, kStatistical };

struct Tolerance {
  double rtol = 0;
  double atol = 0;
  bool exact = false;  // integer/bool outputs: rtol = atol = 0 and values must be equal
  std::string rule;    // how the values were derived, for reports
};

// Task-file overrides for one dtype; unset fields keep the policy default.
struct ToleranceOverride {
  std::optional<double> rtol;
  std::optional<double> atol;
};

struct ToleranceOverrides {
  std::map<DType, ToleranceOverride> per_dtype;  // floating dtypes only (the task loader checks)
};

// The default rtol of a floating dtype (0 for integer and bool dtypes).
double DefaultRtol(DType t);

// The tolerance for one output of one case. `output_scale` is max |expected|
// over finite values (compare.h: OutputScale); `reduction_length` is the
// number of terms combined into each output element (1 for elementwise ops).
Tolerance ToleranceFor(DType output_dtype, double output_scale, int64_t reduction_length,
                       const ToleranceOverrides& overrides);

// The largest error allowed for an element whose reference value is
// `expected` (finite): atol + rtol * |expected|; 0 for exact tolerances.
double AllowedError(const Tolerance& tol, double expected);

// The elementwise rule, including the NaN/Inf rules: NaN matches only NaN,
// an infinity matches only the same infinity, exact tolerances need equality.
bool WithinTolerance(const Tolerance& tol, double expected, double actual);

}  // namespace anvil
