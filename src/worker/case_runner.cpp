#include "worker/case_runner.h"

#include <chrono>

#include <fmt/format.h>

#include "worker/candidate_run.h"
#include "worker/compare.h"
#include "worker/expectation.h"
#include "worker/input_gen.h"
#include "worker/statistical_case.h"

namespace anvil::worker {
namespace {

// The contract of view outputs (the candidate's view already lies inside its
// input): ATen's strides and offset. ATen's view comes from the reference in the task's own dtypes
// (kNative: a view op computes nothing) applied to the very inputs the
// candidate saw, so it aliases the same storage.
std::optional<CaseOutcome> CheckViewOutputs(const EvaluationContext& ctx, const CaseSpec& spec,
                                            const std::vector<at::Tensor>& inputs, const CandidateRun& run,
                                            const CaseOutcome& outcome) {
  if (run.views.empty()) return std::nullopt;
  auto aten = ctx.reference->Evaluate(spec.variant, inputs, ctx.ReferenceCaseFor(spec), reference::Precision::kNative);
  if (!aten.ok()) return Fail(outcome, Verdict::kRuntimeError, "reference failed: " + aten.status().message());
  for (size_t k = 0; k < run.views.size(); ++k) {
    const ViewSlot& slot = run.views[k];
    auto differs = CheckViewContract(ctx.task, slot, run.placed[k], (*aten)[slot.output]);
    if (!differs.ok()) return Fail(outcome, Verdict::kRuntimeError, differs.status().message());
    if (*differs) return Fail(outcome, Verdict::kWrong, **differs, ctx.task.outputs[slot.output].name);
  }
  return std::nullopt;
}

}  // namespace

Result<std::vector<at::Tensor>> MakeHostInputs(const EvaluationContext& ctx, const CaseSpec& spec) {
  auto layout = ParseLayout(spec.layout);
  auto dist = ParseDistribution(spec.distribution);
  if (!layout) return InvalidInput("unknown layout '" + spec.layout + "'");
  if (!dist) return InvalidInput("unknown distribution '" + spec.distribution + "'");
  const DTypeVariant& variant = ctx.variants[spec.variant];
  std::vector<at::Tensor> inputs;
  for (size_t i = 0; i < ctx.task.inputs.size(); ++i) {
    const TaskInput& in = ctx.task.inputs[i];
    ANVIL_ASSIGN_OR_RETURN(Shape shape, Concretize(in.shape, spec.bindings));
    Domain domain = Domain::From(in.domain);
    if (Status s = CheckDomain(domain, variant.input_dtypes[i]); !s.ok())
      return InvalidInput("input '" + in.name + "': " + s.message());
    inputs.push_back(GenerateInput(variant.input_dtypes[i], shape, *layout, *dist, domain, spec.seed,
                                   static_cast<int>(i)));
  }
  return inputs;
}

Result<std::vector<at::Tensor>> MakeInputs(const EvaluationContext& ctx, const CaseSpec& spec) {
  ANVIL_ASSIGN_OR_RETURN(std::vector<at::Tensor> host, MakeHostInputs(ctx, spec));
  std::vector<at::Tensor> placed;
  for (const at::Tensor& t : host) placed.push_back(ctx.device->Place(t));
  return placed;
}

Result<std::vector<at::Tensor>> MakeOutputs(const EvaluationContext& ctx, const CaseSpec& spec,
                                            const std::vector<at::Tensor>& inputs) {
  std::vector<at::Tensor> outputs;
  for (size_t j = 0; j < ctx.task.outputs.size(); ++j) {
    const TaskOutput& o = ctx.task.outputs[j];
    if (o.inplace) {
      outputs.push_back(inputs[ctx.task.InputIndex(*o.inplace)]);
      continue;
    }
    if (o.view_of) {
      outputs.emplace_back();  // the candidate returns where the view is (candidate_run.h)
      continue;
    }
    const formula::OutputInfo& info = ctx.outputs[spec.variant][j];
    ANVIL_ASSIGN_OR_RETURN(Shape shape, Concretize(info.shape, spec.bindings));
    outputs.push_back(ctx.device->NewOutput(ToAten(info.dtype), shape));
  }
  return outputs;
}

CaseOutcome RunCorrectnessCase(const EvaluationContext& ctx, const CaseSpec& spec) {
  if (ctx.task.compare.mode == CompareMode::kStatistical) return RunStatisticalCase(ctx, spec);
  auto start = std::chrono::steady_clock::now();
  CaseOutcome base;
  base.index = spec.index;
  auto finish = [&](CaseOutcome o) {
    o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return o;
  };

  auto host_or = MakeHostInputs(ctx, spec);
  if (!host_or.ok()) return finish(Fail(base, Verdict::kRuntimeError, "harness: " + host_or.status().message()));
  const std::vector<at::Tensor> pristine = std::move(host_or).value();  // never handed to the candidate
  std::vector<at::Tensor> inputs;
  for (const auto& t : pristine) inputs.push_back(ctx.device->Place(t));
  auto expectation = Expect(ctx, spec, inputs);
  if (!expectation.ok())
    return finish(Fail(base, Verdict::kRuntimeError, "reference failed: " + expectation.status().message()));
  const std::vector<at::Tensor>& expected = expectation->expected;

  CandidateRun first = RunCandidate(ctx, spec, inputs, ctx.named_attrs, base);
  if (first.failure) return finish(*first.failure);
  if (auto changed = CheckInputsUnchanged(ctx, inputs, pristine, base)) return finish(*changed);

  CaseOutcome outcome = base;
  // Strides and offset first: when they differ from ATen's the values
  // usually differ too, and the stride is the cause the user can act on.
  if (auto contract = CheckViewOutputs(ctx, spec, inputs, first, outcome)) return finish(*contract);
  for (size_t j = 0; j < expected.size(); ++j) {
    const std::string& name = ctx.task.outputs[j].name;
    CompareResult cmp = expectation->Check(ctx, j, first.outputs[j]);
    outcome.numel += cmp.numel;
    outcome.max_abs_err = std::max(outcome.max_abs_err, cmp.max_abs_err);
    outcome.max_rel_err = std::max(outcome.max_rel_err, cmp.max_rel_err);
    outcome.tolerance = expectation->tolerance[j].rule;
    if (!cmp.ok) {
      outcome.worst_ratio = cmp.worst_ratio;
      outcome.mismatches = cmp.mismatches;
      for (const auto& m : cmp.first_mismatches) outcome.first_mismatches.push_back({m.index, m.expected, m.actual});
      return finish(Fail(outcome, Verdict::kWrong, fmt::format("output '{}': {}", name, cmp.reason), name));
    }
    outcome.worst_ratio = std::max(outcome.worst_ratio, cmp.worst_ratio);
    if (IsConstant(first.outputs[j]) && !IsConstant(expected[j]))
      return finish(Fail(outcome, Verdict::kSuspicious,
                         fmt::format("output '{}' is one constant value while the reference varies; it passed only "
                                     "because the tolerance allowed it",
                                     name),
                         name));
  }

  if (ctx.task.compare.deterministic)
    if (auto differs = CheckRepeatable(ctx, spec, pristine, first.outputs, ctx.named_attrs, outcome))
      return finish(*differs);
  return finish(outcome);
}

}  // namespace anvil::worker
