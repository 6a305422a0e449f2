#include "worker/case_runner.h"

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "anvil/kernel.h"
#include "worker/compare.h"
#include "worker/expectation.h"
#include "worker/input_gen.h"

namespace anvil::worker {
namespace {

std::string IndexToString(const std::vector<int64_t>& idx) {
  return fmt::format("[{}]", fmt::join(idx, ", "));
}

CaseOutcome Fail(CaseOutcome o, Verdict v, std::string reason, std::string output = "") {
  o.verdict = v;
  o.reason = std::move(reason);
  o.output = std::move(output);
  return o;
}

// Runs the candidate on fresh outputs; returns them or the failure.
struct RunResult {
  std::vector<at::Tensor> outputs;
  std::optional<CaseOutcome> failure;
};

RunResult RunOnce(const EvaluationContext& ctx, const CaseSpec& spec, const std::vector<at::Tensor>& inputs,
                  const CaseOutcome& base) {
  RunResult r;
  auto outputs = MakeOutputs(ctx, spec, inputs);
  if (!outputs.ok()) {
    r.failure = Fail(base, Verdict::kRuntimeError, "harness could not allocate outputs: " + outputs.status().message());
    return r;
  }
  r.outputs = std::move(outputs).value();
  CallResult call = ctx.candidate->Call(inputs, r.outputs, ctx.named_attrs, ctx.threads, ctx.device->stream());
  // A device fault outranks what the candidate returned: it is the cause.
  if (std::optional<DeviceFault> fault = ctx.device->Finish()) {
    r.failure = Fail(base, fault->verdict, fault->message);
    return r;
  }
  if (call.status != ANVIL_OK) {
    r.failure = Fail(base, Verdict::kRuntimeError,
                     fmt::format("anvil_kernel returned status {}{}", call.status,
                                 call.message.empty() ? std::string(" with no message") : ": " + call.message));
    return r;
  }
  for (size_t j = 0; j < r.outputs.size(); ++j) {
    const std::string& name = ctx.task.outputs[j].name;
    if (Status s = ctx.device->CheckGuards(r.outputs[j], "output '" + name + "'"); !s.ok()) {
      r.failure = Fail(base, Verdict::kWrong, "out-of-bounds write: " + s.message(), name);
      return r;
    }
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (Status s = ctx.device->CheckGuards(inputs[i], "input '" + ctx.task.inputs[i].name + "'"); !s.ok()) {
      r.failure = Fail(base, Verdict::kSuspicious, "wrote outside an input: " + s.message());
      return r;
    }
  for (at::Tensor& t : r.outputs) t = ctx.device->ToHost(t);
  return r;
}

bool IsInplaceTarget(const Task& task, const std::string& input) {
  for (const TaskOutput& o : task.outputs)
    if (o.inplace && *o.inplace == input) return true;
  return false;
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
    const formula::OutputInfo& info = ctx.outputs[spec.variant][j];
    ANVIL_ASSIGN_OR_RETURN(Shape shape, Concretize(info.shape, spec.bindings));
    outputs.push_back(ctx.device->NewOutput(ToAten(info.dtype), shape));
  }
  return outputs;
}

CaseOutcome RunCorrectnessCase(const EvaluationContext& ctx, const CaseSpec& spec) {
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

  RunResult first = RunOnce(ctx, spec, inputs, base);
  if (first.failure) return finish(*first.failure);

  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = ctx.task.inputs[i].name;
    if (IsInplaceTarget(ctx.task, name)) continue;
    if (!BitwiseEqual(ctx.device->ToHost(inputs[i]), pristine[i].contiguous()))
      return finish(Fail(base, Verdict::kSuspicious,
                         fmt::format("input '{}' was modified by the candidate (inputs are read-only; declare the "
                                     "output inplace if the op writes it)",
                                     name)));
  }

  CaseOutcome outcome = base;
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

  if (ctx.task.compare.deterministic) {
    std::vector<at::Tensor> again;
    for (const auto& t : pristine) again.push_back(ctx.device->Place(t));
    RunResult second = RunOnce(ctx, spec, again, base);
    if (second.failure) {
      CaseOutcome f = *second.failure;
      f.reason = "second run on identical inputs: " + f.reason;
      return finish(f);
    }
    for (size_t j = 0; j < first.outputs.size(); ++j)
      if (!BitwiseEqual(first.outputs[j], second.outputs[j])) {
        CompareResult diff = Compare(first.outputs[j], second.outputs[j],
                                     Tolerance{0, 0, true, "bitwise"}, CompareMode::kExact, -1);
        std::string where = diff.first_mismatches.empty()
                                ? std::string("")
                                : fmt::format("; first difference at {}: {} then {}",
                                              IndexToString(diff.first_mismatches[0].index),
                                              diff.first_mismatches[0].expected, diff.first_mismatches[0].actual);
        return finish(Fail(outcome, Verdict::kWrong,
                           fmt::format("output '{}' is nondeterministic: two runs on identical inputs differ in {} "
                                       "of {} elements{} (a race, uninitialised reads, or state kept between calls)",
                                       ctx.task.outputs[j].name, diff.mismatches, diff.numel, where),
                           ctx.task.outputs[j].name));
      }
  }
  return finish(outcome);
}

}  // namespace anvil::worker
