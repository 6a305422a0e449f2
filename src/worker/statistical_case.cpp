#include "worker/statistical_case.h"

#include <chrono>

#include <ATen/Context.h>
#include <fmt/format.h>

#include "worker/candidate_run.h"
#include "worker/case_runner.h"
#include "worker/eager_baseline.h"
#include "worker/input_gen.h"
#include "worker/random_distribution.h"
#include "worker/statistical_test.h"

namespace anvil::worker {
namespace {

// One SplitMix64 step: the golden-ratio increment, then the finaliser.
uint64_t SplitMix64(uint64_t x) { return MixBits(x + 0x9E3779B97F4A7C15ull); }

NamedAttrs WithSeed(const EvaluationContext& ctx, int64_t seed) {
  NamedAttrs attrs = ctx.named_attrs;
  for (auto& [name, value] : attrs)
    if (name == ctx.task.compare.seed_attr) value = ScalarValue::Int(seed, value.dtype);
  return attrs;
}

// Seeds for the transform's V values: one stream per run and output.
uint64_t TransformSeed(int64_t case_seed, size_t output, int run) {
  return SplitMix64(static_cast<uint64_t>(case_seed) * 31 + output * 7 + static_cast<uint64_t>(run));
}

}  // namespace

int64_t CaseRandomSeed(const CaseSpec& spec, bool second) {
  uint64_t s = SplitMix64(spec.seed * 1000003ull + static_cast<uint64_t>(spec.index));
  if (second) s = SplitMix64(s);
  return static_cast<int64_t>(s & 0x7FFFFFFFull);
}

CaseOutcome RunStatisticalCase(const EvaluationContext& ctx, const CaseSpec& spec) {
  auto start = std::chrono::steady_clock::now();
  CaseOutcome base;
  base.index = spec.index;
  base.statistical = true;
  auto finish = [&](CaseOutcome o) {
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return o;
  };
  auto harness_error = [&](const std::string& why) { return finish(Fail(base, Verdict::kRuntimeError, why)); };

  auto host_or = MakeHostInputs(ctx, spec);
  if (!host_or.ok()) return harness_error("harness: " + host_or.status().message());
  const std::vector<at::Tensor> pristine = std::move(host_or).value();
  std::vector<at::Tensor> inputs;
  for (const auto& t : pristine) inputs.push_back(ctx.device->Place(t));

  const size_t n_out = ctx.task.outputs.size();
  std::vector<CaseDistribution> dists;
  int tests = 0;
  for (size_t j = 0; j < n_out; ++j) {
    auto shape = Concretize(ctx.outputs[spec.variant][j].shape, spec.bindings);
    if (!shape.ok()) return harness_error("harness: " + shape.status().message());
    auto d = EvaluateDistribution(*ctx.task.outputs[j].distribution, ctx.distribution_params[spec.variant][j],
                                  pristine, ctx.attr_values, *shape);
    if (!d.ok())
      return harness_error(fmt::format("task: output '{}': {}", ctx.task.outputs[j].name, d.status().message()));
    dists.push_back(std::move(d).value());
    tests += TestsPerOutput(*shape);
  }
  const double alpha = kCaseFalseRejectRate / std::max(tests, 1);
  const int64_t seed = CaseRandomSeed(spec, false);

  // PyTorch's own sampler, judged like a candidate (see the header).
  {
    std::vector<at::Tensor> clones;
    for (const at::Tensor& t : inputs) clones.push_back(t.clone());
    at::manual_seed(static_cast<uint64_t>(seed));
    const ReferenceCase where = ctx.ReferenceCaseFor(spec);
    auto sampled = [&]() -> Result<std::vector<at::Tensor>> {
      auto eager = EvaluateEager(*ctx.reference, spec.variant, clones, where);
      if (eager.ok()) return std::move(eager->outputs);
      // PyTorch has no sampler for this dtype here (LibTorch 1.13 on the CPU
      // lacks f16 bernoulli and poisson): its f64 draws, rounded to the dtype.
      at::manual_seed(static_cast<uint64_t>(seed));
      return ctx.reference->Evaluate(spec.variant, clones, where, reference::Precision::kUpcast64);
    }();
    if (!sampled.ok()) return harness_error("reference failed: " + sampled.status().message());
    for (size_t j = 0; j < n_out; ++j) {
      SampleJudgement ref = JudgeSample(dists[j], ctx.device->ToHost((*sampled)[j]), alpha,
                                        TransformSeed(seed, j, 0));
      if (!ref.ok)
        return harness_error(fmt::format("task: PyTorch's own output '{}' fails the task's distribution test, so "
                                         "the task's distribution does not describe the operator: {}",
                                         ctx.task.outputs[j].name, ref.reason));
    }
  }

  const NamedAttrs attrs = WithSeed(ctx, seed);
  CandidateRun first = RunCandidate(ctx, spec, inputs, attrs, base);
  if (first.failure) return finish(*first.failure);
  if (auto changed = CheckInputsUnchanged(ctx, inputs, pristine, base)) return finish(*changed);

  CaseOutcome outcome = base;
  const std::string rule = fmt::format(
      "statistical: each output tested against its distribution; a case fails a correct kernel with probability <= "
      "{:.0e} ({} tests at p < {:.2g})",
      kCaseFalseRejectRate, tests, alpha);
  outcome.tolerance = rule;
  std::vector<at::Tensor> pits;
  double smallest_p = 1;
  std::string smallest_test;
  for (size_t j = 0; j < n_out; ++j) {
    const std::string& name = ctx.task.outputs[j].name;
    SampleJudgement judged = JudgeSample(dists[j], first.outputs[j], alpha, TransformSeed(seed, j, 1));
    outcome.numel += judged.numel;
    if (!judged.ok) {
      outcome.mismatches = judged.impossible;
      for (const Mismatch& m : judged.first_impossible) outcome.first_mismatches.push_back({m.index, m.expected, m.actual});
      return finish(Fail(outcome, Verdict::kWrong, fmt::format("output '{}' (seed {}): {}", name, seed, judged.reason),
                         name));
    }
    for (const StatisticalTest& t : judged.tests)
      if (t.p_value < smallest_p) smallest_p = t.p_value, smallest_test = name + " " + t.name;
    pits.push_back(judged.pit);
  }
  outcome.tolerance = smallest_test.empty() ? rule + "; too few values for the tests here, exact checks only"
                                            : fmt::format("{}; smallest p-value here {:.2g} ({})", rule, smallest_p,
                                                          smallest_test);

  if (ctx.task.compare.deterministic)
    if (auto differs = CheckRepeatable(ctx, spec, pristine, first.outputs, attrs, outcome)) {
      differs->reason += fmt::format(" — with the same seed ({}); a random kernel must be a function of its inputs "
                                     "and the '{}' attribute",
                                     seed, ctx.task.compare.seed_attr);
      return finish(*differs);
    }

  const int64_t other_seed = CaseRandomSeed(spec, true);
  std::vector<at::Tensor> fresh;
  for (const auto& t : pristine) fresh.push_back(ctx.device->Place(t));
  CandidateRun again = RunCandidate(ctx, spec, fresh, WithSeed(ctx, other_seed), outcome);
  if (again.failure) {
    CaseOutcome f = *again.failure;
    f.reason = fmt::format("run with another seed ({}): {}", other_seed, f.reason);
    return finish(f);
  }
  for (size_t j = 0; j < n_out; ++j) {
    const std::string& name = ctx.task.outputs[j].name;
    SampleJudgement judged = JudgeSample(dists[j], again.outputs[j], alpha, TransformSeed(other_seed, j, 2));
    if (!judged.ok)
      return finish(Fail(outcome, Verdict::kWrong,
                         fmt::format("output '{}' (seed {}): {}", name, other_seed, judged.reason), name));
    std::optional<StatisticalTest> independence = SeedIndependence(pits[j], judged.pit);
    if (independence && independence->p_value < alpha)
      return finish(Fail(outcome, Verdict::kWrong,
                         fmt::format("output '{}': the runs with seeds {} and {} are not independent ({}; the "
                                     "threshold is p < {:.2g}): the kernel ignores the '{}' attribute or derives "
                                     "its random stream from it too weakly",
                                     name, seed, other_seed, DescribeTest(*independence), alpha,
                                     ctx.task.compare.seed_attr),
                         name));
  }
  return finish(outcome);
}

}  // namespace anvil::worker
