// Input generation: the values, layouts and memory every correctness and
// timing case feeds to the reference and the candidate.
//
// An input is a pure function of (dtype, shape, layout, distribution, domain,
// seed, input_index): the same arguments give bitwise identical tensors in
// every run and process of a build (own SplitMix64 generator; values made in
// f64, mapped into the domain, rounded to the dtype). The logical values do
// not depend on the layout, except that a broadcast input has fewer distinct
// values (one per position of the non-broadcast dims).
//
// Every input lives in guarded memory (guarded_buffer.h). Storage elements
// the view does not reach (the gaps of a strided layout) hold the poison
// pattern, so a kernel that ignores strides reads NaN or 0x5A bytes.
//
// Ownership: returned tensors own their memory. Thread-safety: reentrant.
// Failure: an invalid domain for the dtype is the caller's bug (the task
// loader checks domains with CheckDomain); memory exhaustion throws c10::Error
// like any LibTorch allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <ATen/ATen.h>

#include "core/dtype.h"
#include "core/shape.h"
#include "reference/evaluate.h"
#include "task/task.h"
#include "util/status.h"

namespace anvil::worker {

// contiguous: row-major.
// transposed: the storage holds the last two dims swapped (rank >= 2; lower
//   ranks fall back to strided).
// strided: every other element along the last dim (innermost stride 2);
//   rank 0 falls back to contiguous.
// broadcast: the largest dim of size > 1 (the first such if tied) has stride 0,
//   an expanded view of a size-1 dim; no such dim falls back to contiguous.
enum class Layout { kContiguous, kTransposed, kStrided, kBroadcast };
// SplitMix64's finaliser: a well-mixed 64-bit hash of `z`, the same on every
// machine (input values and the statistical mode's seeds derive from it).
uint64_t MixBits(uint64_t z);

std::optional<Layout> ParseLayout(std::string_view name);  // "contiguous", "transposed", "strided", "broadcast"
std::string_view LayoutName(Layout l);

// Floating dtypes:
//   normal   N(0, 1)
//   uniform  U(-1, 1)
//   heavy    N(0,1) * exp(1.5 * N(0,1)): heavy tails, magnitudes from ~1e-4 to ~1e4
//   special  a mix: 40% N(0,1), 10% +0, 10% -0, 10% tiny (near and below the
//            smallest normal: subnormals), 10% large (2^(emax/4) .. 2^(emax/2),
//            so a product of two stays finite), 20% repeated values from
//            {-2, -1, -0.5, 0.5, 1, 2}; with Domain::allows_nonfinite also
//            NaN, +Inf and -Inf (5% each, taken from the normal share).
// Integer dtypes draw from the domain's integer range [lo, hi]:
//   uniform  uniform over [lo, hi]
//   normal   rounded normal centred in the range (sd = width/6), clamped
//   heavy    centre + rounded heavy-tailed offsets, clamped (mostly near the
//            centre, some at the ends)
//   special  a mix of lo, hi, 0 and +-1 where in range, repeated values, uniform
enum class Distribution { kNormal, kUniform, kHeavy, kSpecial };
std::optional<Distribution> ParseDistribution(std::string_view name);  // "normal", "uniform", "heavy", "special"
std::string_view DistributionName(Distribution d);

// The value domain of one input (the task's ValueDomain plus whether the
// special distribution may produce NaN/Inf). Floating values are mapped into
// it after drawing: positive -> max(|x|, smallest normal); nonnegative -> |x|;
// nonzero -> values below the smallest normal become +-smallest normal;
// unit -> sigmoid(x) kept strictly inside (0, 1) in the dtype; range [lo, hi]
// -> x when inside, else lo + (hi - lo) * sigmoid(x), then kept inside [lo, hi]
// after rounding. Integers: default range [-100, 100] (u8 [0, 100], bool
// [0, 1]), narrowed by positive (>= 1), nonnegative (>= 0), nonzero (0 is
// skipped) or a range; unit has no integers.
struct Domain {
  ValueDomain::Kind kind = ValueDomain::Kind::kAny;
  double lo = 0, hi = 0;  // kRange only, inclusive
  bool allows_nonfinite = false;

  static Domain From(const ValueDomain& d, bool allows_nonfinite = false);
};

// Ok when `domain` has values of `dtype`; otherwise an InvalidInput error
// saying why ("domain unit has no values of dtype i32").
Status CheckDomain(const Domain& domain, DType dtype);

// Strides (elements) and storage size of `shape` in `layout`. `value_shape`
// is the shape of the distinct values: `shape` with the broadcast dim set to 1.
struct LayoutPlan {
  Layout layout;  // the layout applied, after the fallbacks above
  std::vector<int64_t> strides;
  std::vector<int64_t> value_shape;
  int64_t storage_elements = 0;  // exactly the span the view reaches
};
LayoutPlan PlanLayout(const Shape& shape, Layout layout);

// Generates input `input_index` of a case deterministically (see above), in a
// fresh guarded allocation. Requires CheckDomain(domain, dtype).ok().
at::Tensor GenerateInput(DType dtype, const Shape& shape, Layout layout, Distribution dist, const Domain& domain,
                         uint64_t seed, int input_index);

// Elements from a view's first element to one past its last (non-negative
// strides, storage offset 0): the storage span the view reaches; 0 when empty.
int64_t SpanElements(at::IntArrayRef sizes, at::IntArrayRef strides);

// A fresh guarded copy of `t` (a CPU tensor): same dtype, sizes, strides and
// bytes over the span its view reaches (poisoned gaps included). For the
// determinism run and for rotating timing inputs.
at::Tensor CloneGuarded(const at::Tensor& t);

// DType <-> ATen scalar type: one mapping, owned by the reference.
using reference::FromAten;
using reference::ToAten;

}  // namespace anvil::worker
