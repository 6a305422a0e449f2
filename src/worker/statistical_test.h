// Whether a random output follows its distribution: the judgement of a task
// whose [compare] mode is "statistical" (docs/verification-policy.md,
// "Random operators").
//
// A sample passes when
//   1. every value is possible (random_distribution.h: in the support, and
//      for a point mass exactly its value) — checked exactly, no chance
//      involved; and
//   2. none of these tests rejects at level `alpha` (each p-value >= alpha).
//      Each works on the randomised probability integral transform u of the
//      values (random_distribution.h), which is exactly uniform on [0, 1) and
//      independent across elements when the candidate draws element i from
//      its distribution F_i independently, whatever the kind and parameters:
//        - uniformity (Kolmogorov-Smirnov) of u over the random elements:
//          the goodness of fit;
//        - mean of u (z test, variance 1/12 per element): a location bias,
//          e.g. bernoulli with p + 0.01;
//        - spread of u, the mean of (u - 1/2)^2 (z test, variance 1/180 per
//          element): a scale error, e.g. the right mean with the wrong
//          variance;
//        - neighbours along each dim of size >= 2: the correlation of u with
//          the next element along that dim (z = 12 sum (u-1/2)(u'-1/2) /
//          sqrt(pairs)): random numbers reused across rows or columns;
//      and, across two runs with different seeds, SeedIndependence.
//      The moments are tested on u rather than on the raw values because u's
//      are bounded and identically distributed, so the normal approximation
//      holds far into the tail at the sizes used (raw sums of exponential or
//      small-p bernoulli values are skewed, and a z test on them would reject
//      a correct kernel more often than stated). Raw means and variances are
//      still reported in the message, for people.
// Tests run only over at least kMinElements values (pairs for the
// neighbour tests); smaller cases get the exact checks alone.
//
// False rejections: the caller gives each test alpha = kCaseFalseRejectRate
// / (number of tests in the case), so a correct kernel fails a case with
// probability at most kCaseFalseRejectRate (Bonferroni). The uniform values
// V that randomise the transform come from a generator seeded by the case,
// so a verdict is reproducible.
//
// Thread-safety: pure functions over host tensors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "worker/compare.h"
#include "worker/random_distribution.h"

namespace anvil::worker {

inline constexpr double kCaseFalseRejectRate = 1e-6;
inline constexpr int64_t kMinElements = 100;

struct StatisticalTest {
  std::string name;   // "mean", "neighbours along dim 0", ...
  double z = 0;       // the statistic (Kolmogorov-Smirnov: sqrt(n) D)
  double p_value = 1;
};

struct SampleJudgement {
  bool ok = true;
  std::string reason;    // why not ok, for a kernel author
  int64_t numel = 0;
  int64_t random = 0;    // elements that are not point masses
  int64_t impossible = 0;
  std::vector<Mismatch> first_impossible;  // up to 5: index, the distribution's mean, the value
  std::vector<StatisticalTest> tests;      // those that ran
  at::Tensor pit;        // u per element (f64, the output's shape); undefined when a value is impossible
};

// How many tests JudgeSample plus SeedIndependence may run on an output of
// this shape: for dividing a case's false-reject rate among them.
int TestsPerOutput(at::IntArrayRef shape);

// `sample`: the output in its own dtype on the host. `seed` seeds the V's.
SampleJudgement JudgeSample(const CaseDistribution& d, const at::Tensor& sample, double alpha, uint64_t seed);

// Two runs of one case with different seeds: the correlation of their u's
// (z = 12 sum (u_a - 1/2)(u_b - 1/2) / sqrt(n)), two-sided. A kernel that
// ignores the seed, or derives its stream from it too weakly, correlates.
// nullopt below kMinElements.
std::optional<StatisticalTest> SeedIndependence(const at::Tensor& pit_a, const at::Tensor& pit_b);

// "mean: z = 8.1, p = 5.4e-16" for messages.
std::string DescribeTest(const StatisticalTest& t);

}  // namespace anvil::worker
