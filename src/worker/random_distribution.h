// A random output's distribution with its parameters evaluated on one case's
// inputs: one f64 tensor per parameter, broadcast to the output's shape, so
// that every element has its own distribution (bernoulli(p) draws element i
// with probability p[i]).
//
// What the statistical test (statistical_test.h) needs from a distribution:
//   - Where a sample value may lie (support): bernoulli 0 or 1, poisson a
//     non-negative integer, uniform [low, high], exponential [0, inf), normal
//     any finite value; a point mass (uniform with low == high, normal with
//     std == 0, bernoulli with p 0 or 1, poisson with rate 0) its one value.
//     A floating value of a continuous distribution may lie up to one
//     rounding step of its dtype outside (an intermediate rounded to the
//     output dtype is legitimate; PyTorch's bf16 rrelu lands there).
//   - The randomised probability integral transform: for an element with CDF
//     F and observed value x, the interval [lo, hi] = [F(x-), F(x)] for a
//     discrete value, or [F(a), F(b)] for a floating value x standing for
//     the cell [a, b] of reals its dtype rounds to x (so f16 and bf16 samples
//     are judged as rounded draws, not as draws that happen to be round).
//     u = lo + V (hi - lo), V uniform on [0, 1), is exactly uniform on [0, 1)
//     when x was drawn from F; hi - lo == 0 means x is impossible.
//   - Mean and variance per element, to report raw moments in messages.
//
// Thread-safety: pure functions over host tensors.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "task/distribution_spec.h"
#include "task/task_graph.h"

namespace anvil::worker {

struct CaseDistribution {
  DistributionKind kind = DistributionKind::kBernoulli;
  std::string text;                // as the task wrote it
  std::vector<at::Tensor> params;  // f64, host, contiguous, the output's shape
};

// Evaluates `params` (resolved for the case's dtype variant) on the case's
// pristine host inputs and broadcasts them to `shape`. kInvalidInput when a
// parameter does not broadcast or lies outside its range (p in [0, 1],
// low <= high, std >= 0, rate > 0 for exponential and >= 0 for poisson, all
// finite), naming the first offending element: then the task, not the
// candidate, is wrong.
Result<CaseDistribution> EvaluateDistribution(const DistributionSpec& spec,
                                              const std::vector<DistributionParam>& params,
                                              const std::vector<at::Tensor>& host_inputs,
                                              const std::vector<ScalarValue>& attrs, const Shape& shape);

// Per element: true where the distribution is a point mass (no randomness).
at::Tensor PointMass(const CaseDistribution& d);

// Per element mean and variance (f64, the output's shape).
at::Tensor DistributionMean(const CaseDistribution& d);
at::Tensor DistributionVariance(const CaseDistribution& d);

// The probability interval [lo, hi] of each observed value (see above), f64.
// `sample` is the candidate's output in its own dtype, on the host.
// `possible` is false where the value cannot come from the distribution
// (outside the support; NaN and infinities always). An f64 sample of a
// continuous distribution has a one-point cell: lo == hi == F(x).
struct ProbabilityInterval {
  at::Tensor lo, hi, possible;
};
ProbabilityInterval ObservedProbability(const CaseDistribution& d, const at::Tensor& sample);

}  // namespace anvil::worker
