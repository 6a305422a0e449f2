// The statistical judgement of random outputs (worker/statistical_test.h):
// its p-values are calibrated on PyTorch's own samplers (so the stated
// false-reject rate holds), correct samples pass at the production level,
// and biased, dependent, seed-blind or impossible samples fail with a
// message that names the cause.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <map>

#include "worker/random_distribution.h"
#include "worker/statistical_test.h"

namespace anvil::worker {
namespace {

using Kind = DistributionKind;
const at::TensorOptions kF64 = at::TensorOptions().dtype(at::kDouble);

double Alpha(at::IntArrayRef shape) { return kCaseFalseRejectRate / TestsPerOutput(shape); }

// A distribution with random per-element parameters, and PyTorch's sampler for it.
struct Fixture {
  CaseDistribution dist;
  std::function<at::Tensor()> draw;
};

Fixture Make(Kind kind, at::IntArrayRef shape) {
  Fixture f;
  f.dist.kind = kind;
  switch (kind) {
    case Kind::kBernoulli: {
      at::Tensor p = at::rand(shape, kF64);
      p.index_put_({0}, 0.0);  // a row of point masses at 0 ...
      p.index_put_({1}, 1.0);  // ... and at 1
      f.dist = {kind, "bernoulli(p)", {p}};
      f.draw = [p] { return at::bernoulli(p).to(at::kFloat); };
      break;
    }
    case Kind::kUniform: {
      at::Tensor lo = at::randn(shape, kF64), hi = lo + at::rand(shape, kF64) * 3;
      f.dist = {kind, "uniform(lo, hi)", {lo, hi}};
      f.draw = [lo, hi] { return (lo + at::rand(lo.sizes(), kF64) * (hi - lo)).to(at::kFloat); };
      break;
    }
    case Kind::kNormal: {
      at::Tensor mean = at::randn(shape, kF64) * 4, std = at::rand(shape, kF64) + 0.1;
      f.dist = {kind, "normal(mean, std)", {mean, std}};
      f.draw = [mean, std] { return at::normal(mean, std).to(at::kFloat); };
      break;
    }
    case Kind::kExponential: {
      at::Tensor rate = at::full(shape, 1.5, kF64);
      f.dist = {kind, "exponential(1.5)", {rate}};
      f.draw = [shape = shape.vec()] { return at::empty(shape, at::kFloat).exponential_(1.5); };
      break;
    }
    case Kind::kPoisson: {
      at::Tensor rate = at::rand(shape, kF64) * 20;
      rate.index_put_({0}, 0.0);
      f.dist = {kind, "poisson(rate)", {rate}};
      f.draw = [rate] { return at::poisson(rate).to(at::kFloat); };
      break;
    }
  }
  return f;
}

const std::vector<Kind> kKinds = {Kind::kBernoulli, Kind::kUniform, Kind::kNormal, Kind::kExponential,
                                  Kind::kPoisson};

// Under the null every test's p-value is uniform: about 5% fall below 0.05.
// 300 trials: expect 15, accept 3..32 (beyond about 4 standard deviations
// either way). A wrong variance constant or a mis-signed transform puts
// nearly all p-values at 0 or at 1 and fails this.
TEST(StatisticalTest, PValuesAreCalibratedOnPyTorchSamplers) {
  at::manual_seed(20261122);
  for (Kind kind : kKinds) {
    Fixture f = Make(kind, {32, 128});
    std::map<std::string, int> below, runs;
    for (int trial = 0; trial < 300; ++trial) {
      SampleJudgement j = JudgeSample(f.dist, f.draw(), 1e-300, 1000 + trial);
      ASSERT_TRUE(j.ok) << f.dist.text << ": " << j.reason;
      for (const StatisticalTest& t : j.tests) {
        ++runs[t.name];
        below[t.name] += t.p_value < 0.05 ? 1 : 0;
      }
    }
    EXPECT_EQ(runs.size(), 5u) << f.dist.text;  // neighbours x2, mean, spread, Kolmogorov-Smirnov
    for (const auto& [name, n] : runs) {
      EXPECT_EQ(n, 300) << name;
      EXPECT_GE(below[name], 3) << f.dist.text << " " << name << " is too lenient";
      EXPECT_LE(below[name], 32) << f.dist.text << " " << name << " rejects correct samples too often";
    }
  }
}

TEST(StatisticalTest, CorrectSamplesPassAtTheProductionLevel) {
  at::manual_seed(7);
  for (Kind kind : kKinds) {
    Fixture f = Make(kind, {64, 4096});
    for (int trial = 0; trial < 10; ++trial) {
      // V seeds unlike the sampler's: a V stream equal to the one that drew p would correlate with it.
      SampleJudgement j = JudgeSample(f.dist, f.draw(), Alpha({64, 4096}), 5000 + trial);
      ASSERT_TRUE(j.ok) << f.dist.text << " trial " << trial << ": " << j.reason;
      EXPECT_EQ(j.tests.size(), 5u);
    }
  }
}

// f16 and bf16 samples are rounded draws: judged against the interval each
// value stands for, they pass; f64 samples (one-point cells) pass too.
TEST(StatisticalTest, RoundedAndExactSamplesPass) {
  at::manual_seed(11);
  for (Kind kind : {Kind::kExponential, Kind::kNormal, Kind::kUniform}) {
    Fixture f = Make(kind, {64, 4096});
    for (at::ScalarType st : {at::kHalf, at::kBFloat16, at::kDouble}) {
      SampleJudgement j = JudgeSample(f.dist, f.draw().to(st), Alpha({64, 4096}), 5);
      EXPECT_TRUE(j.ok) << f.dist.text << " as " << st << ": " << j.reason;
    }
  }
}

TEST(StatisticalTest, ABiasedSamplerFailsTheMeanTest) {
  at::manual_seed(3);
  at::Tensor p = at::rand({64, 4096}, kF64) * 0.9;
  CaseDistribution d{Kind::kBernoulli, "bernoulli(p)", {p}};
  SampleJudgement j = JudgeSample(d, at::bernoulli(p + 0.02).to(at::kFloat), Alpha(p.sizes()), 1);
  ASSERT_FALSE(j.ok);
  EXPECT_NE(j.reason.find("the mean test rejects"), std::string::npos) << j.reason;
  EXPECT_NE(j.reason.find("biased"), std::string::npos) << j.reason;

  at::Tensor rate = at::full({64, 4096}, 2.0, kF64);
  CaseDistribution e{Kind::kExponential, "exponential(2)", {rate}};
  j = JudgeSample(e, at::empty({64, 4096}, at::kFloat).exponential_(2.0 * 1.05), Alpha(rate.sizes()), 1);
  EXPECT_FALSE(j.ok) << "a rate 5% too high must be detected at 262144 samples";

  at::Tensor lam = at::rand({64, 4096}, kF64) * 10;
  CaseDistribution q{Kind::kPoisson, "poisson(rate)", {lam}};
  j = JudgeSample(q, at::poisson(lam + 0.3).to(at::kFloat), Alpha(lam.sizes()), 1);
  EXPECT_FALSE(j.ok) << "poisson rates 0.3 too high must be detected";
}

TEST(StatisticalTest, TheRightMeanWithTheWrongShapeFails) {
  at::manual_seed(4);
  // normal(0, 1) against a uniform of the same mean and variance.
  at::Tensor mean = at::zeros({64, 4096}, kF64), std = at::ones({64, 4096}, kF64);
  CaseDistribution d{Kind::kNormal, "normal(0, 1)", {mean, std}};
  at::Tensor uniform = (at::rand({64, 4096}) - 0.5) * std::sqrt(12.0);
  SampleJudgement j = JudgeSample(d, uniform, Alpha(mean.sizes()), 2);
  ASSERT_FALSE(j.ok);
  EXPECT_EQ(j.reason.find("the mean test"), std::string::npos) << "the mean is right: " << j.reason;
}

TEST(StatisticalTest, RandomNumbersReusedAcrossRowsFailTheNeighbourTest) {
  at::manual_seed(5);
  at::Tensor p = at::full({64, 4096}, 0.3, kF64);
  CaseDistribution d{Kind::kBernoulli, "bernoulli(0.3)", {p}};
  at::Tensor row = at::bernoulli(at::full({1, 4096}, 0.3, kF64));
  SampleJudgement j = JudgeSample(d, row.expand({64, 4096}).contiguous().to(at::kFloat), Alpha(p.sizes()), 3);
  ASSERT_FALSE(j.ok);
  EXPECT_NE(j.reason.find("neighbours along dim 0"), std::string::npos) << j.reason;
}

TEST(StatisticalTest, SeedIndependenceCatchesAKernelThatIgnoresItsSeed) {
  at::manual_seed(6);
  at::Tensor p = at::rand({64, 1024}, kF64);
  CaseDistribution d{Kind::kBernoulli, "bernoulli(p)", {p}};
  at::Tensor a = at::bernoulli(p).to(at::kFloat), b = at::bernoulli(p).to(at::kFloat);
  SampleJudgement ja = JudgeSample(d, a, 1e-7, 1), jsame = JudgeSample(d, a, 1e-7, 2), jb = JudgeSample(d, b, 1e-7, 2);
  ASSERT_TRUE(ja.ok && jsame.ok && jb.ok);
  std::optional<StatisticalTest> same = SeedIndependence(ja.pit, jsame.pit), other = SeedIndependence(ja.pit, jb.pit);
  ASSERT_TRUE(same && other);
  EXPECT_LT(same->p_value, 1e-12) << DescribeTest(*same);
  EXPECT_GT(other->p_value, 1e-7) << DescribeTest(*other);
}

TEST(StatisticalTest, ImpossibleValuesAreNamedExactly) {
  at::Tensor p = at::full({4, 5}, 0.5, kF64);
  p.index_put_({0, 0}, 0.0);
  CaseDistribution d{Kind::kBernoulli, "bernoulli(p)", {p}};
  at::Tensor x = at::zeros({4, 5});
  x.index_put_({2, 3}, 0.5);
  SampleJudgement j = JudgeSample(d, x, 1e-7, 1);
  ASSERT_FALSE(j.ok);
  EXPECT_EQ(j.impossible, 1);
  EXPECT_NE(j.reason.find("at [2, 3] the value is 0.5"), std::string::npos) << j.reason;
  // A 1 where p is 0 is impossible too; so is the harness's NaN poison.
  x.index_put_({2, 3}, 0.0);
  x.index_put_({0, 0}, 1.0);
  j = JudgeSample(d, x, 1e-7, 1);
  ASSERT_FALSE(j.ok);
  EXPECT_EQ(j.first_impossible.at(0).index, (std::vector<int64_t>{0, 0}));
  x.index_put_({0, 0}, NAN);
  j = JudgeSample(d, x, 1e-7, 1);
  EXPECT_NE(j.reason.find("never written"), std::string::npos) << j.reason;

  // Point masses: uniform(a, a) allows exactly a (as the output dtype rounds it).
  at::Tensor a = at::full({3}, 1.0 / 3, kF64);
  CaseDistribution u{Kind::kUniform, "uniform(a, a)", {a, a}};
  EXPECT_TRUE(JudgeSample(u, a.to(at::kHalf), 1e-7, 1).ok);
  EXPECT_FALSE(JudgeSample(u, (a + 0.01).to(at::kHalf), 1e-7, 1).ok);
  // Poisson: integers >= 0 only.
  CaseDistribution q{Kind::kPoisson, "poisson(2)", {at::full({3}, 2.0, kF64)}};
  EXPECT_TRUE(JudgeSample(q, at::tensor({0.0f, 3.0f, 7.0f}), 1e-7, 1).ok);
  EXPECT_FALSE(JudgeSample(q, at::tensor({0.0f, 2.5f, 7.0f}), 1e-7, 1).ok);
  EXPECT_FALSE(JudgeSample(q, at::tensor({0.0f, -1.0f, 7.0f}), 1e-7, 1).ok);
}

TEST(StatisticalTest, ParametersOutsideTheirRangeAreTheTasksError) {
  Task task;  // parameters given as numbers need no inputs
  DistributionParam bad;
  bad.number = 1.5;
  DistributionSpec spec{Kind::kBernoulli, {"1.5"}, "bernoulli(1.5)"};
  auto d = EvaluateDistribution(spec, {bad}, {}, {}, {2, 3});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("must be in [0, 1]"), std::string::npos) << d.status().message();
  DistributionParam rate;
  rate.number = 0;
  d = EvaluateDistribution({Kind::kExponential, {"0"}, "exponential(0)"}, {rate}, {}, {}, {4});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("> 0"), std::string::npos) << d.status().message();
}

}  // namespace
}  // namespace anvil::worker
