#include "worker/statistical_test.h"

#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace anvil::worker {
namespace {

double TwoSided(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

// P(sqrt(n) D > lambda) for the Kolmogorov distribution, with Stephens'
// small-sample correction applied by the caller.
double KolmogorovTail(double lambda) {
  if (lambda < 0.2) return 1.0;  // the series converges slowly there, and the tail is ~1
  double sum = 0;
  for (int k = 1; k <= 100; ++k) {
    const double term = std::exp(-2.0 * k * k * lambda * lambda);
    sum += (k % 2 == 1 ? term : -term);
    if (term < 1e-300) break;
  }
  return std::clamp(2.0 * sum, 0.0, 1.0);
}

StatisticalTest KolmogorovSmirnov(const at::Tensor& u) {
  const int64_t n = u.numel();
  at::Tensor sorted = std::get<0>(u.reshape({-1}).sort());
  at::Tensor i = at::arange(1, n + 1, at::kDouble);
  const double d_plus = (i / n - sorted).max().item<double>();
  const double d_minus = (sorted - (i - 1) / n).max().item<double>();
  const double d = std::max(d_plus, d_minus);
  const double rn = std::sqrt(static_cast<double>(n));
  return {"uniformity (Kolmogorov-Smirnov)", rn * d, KolmogorovTail((rn + 0.12 + 0.11 / rn) * d)};
}

StatisticalTest MeanTest(const at::Tensor& u) {
  const double n = static_cast<double>(u.numel());
  const double z = (u.sum().item<double>() - n / 2) / std::sqrt(n / 12);
  return {"mean", z, TwoSided(z)};
}

StatisticalTest SpreadTest(const at::Tensor& u) {
  const double n = static_cast<double>(u.numel());
  const double z = ((u - 0.5).square().sum().item<double>() - n / 12) / std::sqrt(n / 180);
  return {"spread", z, TwoSided(z)};
}

StatisticalTest Correlation(std::string name, const at::Tensor& a, const at::Tensor& b) {
  const double n = static_cast<double>(a.numel());
  const double z = 12 * ((a - 0.5) * (b - 0.5)).sum().item<double>() / std::sqrt(n);
  return {std::move(name), z, TwoSided(z)};
}

std::string SupportWords(const CaseDistribution& d) {
  switch (d.kind) {
    case DistributionKind::kBernoulli: return "0 or 1 (1 only where p > 0, 0 only where p < 1)";
    case DistributionKind::kPoisson: return "a non-negative integer (only 0 where the rate is 0)";
    case DistributionKind::kUniform: return "a value in [low, high]";
    case DistributionKind::kExponential: return "a value >= 0";
    case DistributionKind::kNormal: return "a finite value (exactly the mean where std is 0)";
  }
  return "";
}

// What a failed test most likely means, for the kernel author.
std::string Hint(const StatisticalTest& t) {
  if (t.name == "mean") return "the values are biased (a wrong parameter, threshold or scale)";
  if (t.name == "spread") return "the values have the wrong spread around their centre (wrong variance or shape)";
  if (t.name.rfind("neighbours", 0) == 0)
    return "neighbouring elements are correlated, so they are not independent draws: random numbers reused or "
           "derived from overlapping counters (e.g. the same offset for every row), or values computed from the "
           "inputs without randomness";
  return "the values do not follow the distribution's shape";
}

}  // namespace

int TestsPerOutput(at::IntArrayRef shape) {
  int dims = 0;
  for (int64_t s : shape) dims += s >= 2 ? 1 : 0;
  return 3 + dims + 1;
}

std::string DescribeTest(const StatisticalTest& t) {
  return fmt::format("{}: {} = {:.3g}, p = {:.2g}", t.name, t.name.rfind("uniformity", 0) == 0 ? "sqrt(n) D" : "z",
                     t.z, t.p_value);
}

SampleJudgement JudgeSample(const CaseDistribution& d, const at::Tensor& sample, double alpha, uint64_t seed) {
  SampleJudgement j;
  j.numel = sample.numel();
  if (j.numel == 0) return j;
  const ProbabilityInterval interval = ObservedProbability(d, sample);
  at::Tensor impossible = ~interval.possible;
  j.impossible = impossible.sum().item<int64_t>();
  at::Tensor values = sample.to(at::kDouble);
  if (j.impossible > 0) {
    at::Tensor flat = at::nonzero(impossible.reshape({-1})).reshape({-1}).slice(0, 0, 5);
    at::Tensor mean = DistributionMean(d).reshape({-1}), vals = values.reshape({-1});
    for (int64_t k = 0; k < flat.numel(); ++k) {
      const int64_t f = flat[k].item<int64_t>();
      j.first_impossible.push_back({Unravel(f, sample.sizes()), mean[f].item<double>(), vals[f].item<double>()});
    }
    const Mismatch& m = j.first_impossible[0];
    const bool poison = std::isnan(m.actual);
    j.ok = false;
    j.reason = fmt::format(
        "{} of {} values are impossible under {}: at [{}] the value is {}{}, where the distribution allows {}", j.impossible,
        j.numel, d.text, fmt::join(m.index, ", "), m.actual,
        poison ? " (NaN: never written, still the harness's poison, or computed as NaN)" : "", SupportWords(d));
    return j;
  }

  // u = lo + V (hi - lo); a point mass's u is V alone (its interval is the
  // whole [0, 1) in theory, a single point at an f64 sample's exact value).
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor v = at::rand(sample.sizes(), gen, at::TensorOptions().dtype(at::kDouble));
  at::Tensor point = PointMass(d);
  j.pit = at::where(point, v, interval.lo + v * (interval.hi - interval.lo));

  // Dependence first: when neighbours correlate, the marginal tests' null
  // (independent elements) does not hold, and the correlation is the
  // diagnosis a kernel author needs. Then the moments, then the whole shape.
  for (int64_t dim = 0; dim < sample.dim(); ++dim) {
    const int64_t size = sample.size(dim);
    if (size < 2) continue;
    at::Tensor a = j.pit.narrow(dim, 0, size - 1), b = j.pit.narrow(dim, 1, size - 1);
    if (a.numel() < kMinElements) continue;
    j.tests.push_back(Correlation(fmt::format("neighbours along dim {}", dim), a, b));
  }
  at::Tensor random_mask = ~point;
  j.random = random_mask.sum().item<int64_t>();
  if (j.random >= kMinElements) {
    at::Tensor u = j.pit.masked_select(random_mask);
    j.tests.push_back(MeanTest(u));
    j.tests.push_back(SpreadTest(u));
    j.tests.push_back(KolmogorovSmirnov(u));
  }

  for (const StatisticalTest& t : j.tests) {
    if (t.p_value >= alpha) continue;
    at::Tensor x = values.masked_select(random_mask);
    at::Tensor mean = DistributionMean(d).masked_select(random_mask);
    at::Tensor var = DistributionVariance(d).masked_select(random_mask);
    j.ok = false;
    j.reason = fmt::format(
        "the values do not follow {}: the {} test rejects them ({}; the threshold is p < {:.2g}): {}. Over the {} "
        "random elements the values average {:.6g} where the distribution averages {:.6g}, with mean squared "
        "deviation {:.6g} where it expects {:.6g}",
        d.text, t.name, DescribeTest(t), alpha, Hint(t), j.random, x.mean().item<double>(),
        mean.mean().item<double>(), (x - mean).square().mean().item<double>(), var.mean().item<double>());
    return j;
  }
  return j;
}

std::optional<StatisticalTest> SeedIndependence(const at::Tensor& pit_a, const at::Tensor& pit_b) {
  if (!pit_a.defined() || !pit_b.defined() || pit_a.numel() < kMinElements) return std::nullopt;
  return Correlation("independence from the seed", pit_a.reshape({-1}), pit_b.reshape({-1}));
}

}  // namespace anvil::worker
