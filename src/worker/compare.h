// Comparison of a candidate's output with the reference output.
//
// Rules (docs/verification-policy.md is the user-facing account):
//   - dtype and shape must equal the reference's exactly;
//   - NaN positions must match, and infinities must match in position and sign,
//     whatever the tolerance;
//   - integer and bool outputs (or tol.exact, or CompareMode::kExact) compare
//     values exactly; bool bytes other than 0 and 1 (e.g. the 0x5A poison) are
//     mismatches;
//   - floating outputs pass an element when |actual - expected| <=
//     tol.atol + tol.rtol * |expected| (tolerance.h); errors are computed in f64;
//   - kUnordered sorts both along `unordered_dim` first (ascending, NaN last).
// The result says how many elements fail, the first few (multi-dimensional
// indices), and the worst one relative to what was allowed, with a message a
// kernel author can act on; elements still holding the poison NaN are named
// as never written.
//
// Work is vectorised over chunks of about a million elements, so outputs of
// 1e7 elements compare in well under a second and temporary memory stays
// bounded. Thread-safety: reentrant. Failure: none beyond LibTorch's own
// (out of memory throws c10::Error).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "verify/tolerance.h"

namespace anvil::worker {

struct Mismatch {
  std::vector<int64_t> index;
  double expected = 0, actual = 0;
};

struct CompareResult {
  bool ok = false;
  std::string reason;  // empty when ok
  double max_abs_err = 0;  // over elements where both values are finite
  double max_rel_err = 0;  // over those with expected != 0
  int64_t mismatches = 0, numel = 0;
  std::vector<Mismatch> first_mismatches;  // up to 5, in row-major order
  // The element with the largest error / allowed error (infinite for NaN/Inf
  // and exact mismatches); > 1 means beyond the tolerance. Set whenever an
  // element was compared with a tolerance, or for exact comparisons that fail.
  std::optional<std::vector<int64_t>> worst_index;
  double worst_ratio = 0;
};

// `expected` is the reference output (already in the output dtype), `actual`
// the candidate's. Both are CPU tensors of any strides. `unordered_dim` is
// used for kUnordered only (negative counts from the end).
CompareResult Compare(const at::Tensor& expected, const at::Tensor& actual, const Tolerance& tol, CompareMode mode,
                      int64_t unordered_dim);

// Same dtype and shape, and identical bytes per element (NaN payloads
// included); strides may differ.
bool BitwiseEqual(const at::Tensor& a, const at::Tensor& b);

// True when numel > 1 and every element has the value of the first one.
// Value equality, not bits: +0 and -0 are one value and all NaNs count as
// one, so a kernel cannot dodge the constant-output check by mixing zero
// signs or NaN payloads.
bool IsConstant(const at::Tensor& t);

// The multi-dimensional (row-major) index of element `flat` of a tensor of
// `sizes` (which hold at least flat + 1 elements).
std::vector<int64_t> Unravel(int64_t flat, at::IntArrayRef sizes);

// max |x| over the finite values of `expected` (integers included); 0 when
// there are none.
double OutputScale(const at::Tensor& expected);

}  // namespace anvil::worker
