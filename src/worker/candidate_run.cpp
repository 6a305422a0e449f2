#include "worker/candidate_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "anvil/kernel.h"
#include "worker/case_runner.h"
#include "worker/compare.h"

namespace anvil::worker {
namespace {

bool IsInplaceTarget(const Task& task, const std::string& input) {
  for (const TaskOutput& o : task.outputs)
    if (o.inplace && *o.inplace == input) return true;
  return false;
}

}  // namespace

CaseOutcome Fail(CaseOutcome o, Verdict v, std::string reason, std::string output) {
  o.verdict = v;
  o.reason = std::move(reason);
  o.output = std::move(output);
  return o;
}

CandidateRun RunCandidate(const EvaluationContext& ctx, const CaseSpec& spec, const std::vector<at::Tensor>& inputs,
                          const NamedAttrs& attrs, const CaseOutcome& base) {
  CandidateRun r;
  auto outputs = MakeOutputs(ctx, spec, inputs);
  if (!outputs.ok()) {
    r.failure = Fail(base, Verdict::kRuntimeError, "harness could not allocate outputs: " + outputs.status().message());
    return r;
  }
  r.outputs = std::move(outputs).value();
  auto views = MakeViewSlots(ctx.task, ctx.outputs, spec.variant, spec.bindings, inputs);
  if (!views.ok()) {
    r.failure = Fail(base, Verdict::kRuntimeError, "harness could not size view outputs: " + views.status().message());
    return r;
  }
  r.views = std::move(views).value();
  CallResult call =
      ctx.candidate->CallWithViews(inputs, r.outputs, r.views, attrs, ctx.threads, ctx.device->stream());
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
    if (!r.outputs[j].defined()) continue;  // a view output: no buffer of its own
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
  for (const ViewSlot& v : r.views) {
    auto placed = PlaceView(ctx.task, v);
    if (!placed.ok()) {
      r.failure = Fail(base, Verdict::kWrong, placed.status().message(), ctx.task.outputs[v.output].name);
      return r;
    }
    r.outputs[v.output] = placed->tensor;
    r.placed.push_back(std::move(placed).value());
  }
  for (at::Tensor& t : r.outputs) t = ctx.device->ToHost(t);
  return r;
}

std::optional<CaseOutcome> CheckInputsUnchanged(const EvaluationContext& ctx, const std::vector<at::Tensor>& inputs,
                                                const std::vector<at::Tensor>& pristine, const CaseOutcome& base) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = ctx.task.inputs[i].name;
    if (IsInplaceTarget(ctx.task, name)) continue;
    if (!BitwiseEqual(ctx.device->ToHost(inputs[i]), pristine[i].contiguous()))
      return Fail(base, Verdict::kSuspicious,
                  fmt::format("input '{}' was modified by the candidate (inputs are read-only; declare the output "
                              "inplace if the op writes it)",
                              name));
  }
  return std::nullopt;
}

std::optional<CaseOutcome> CheckRepeatable(const EvaluationContext& ctx, const CaseSpec& spec,
                                           const std::vector<at::Tensor>& pristine,
                                           const std::vector<at::Tensor>& first, const NamedAttrs& attrs,
                                           const CaseOutcome& outcome) {
  std::vector<at::Tensor> again;
  for (const auto& t : pristine) again.push_back(ctx.device->Place(t));
  CandidateRun second = RunCandidate(ctx, spec, again, attrs, outcome);
  if (second.failure) {
    CaseOutcome f = *second.failure;
    f.reason = "second run on identical inputs: " + f.reason;
    return f;
  }
  for (size_t j = 0; j < first.size(); ++j) {
    if (BitwiseEqual(first[j], second.outputs[j])) continue;
    CompareResult diff =
        Compare(first[j], second.outputs[j], Tolerance{0, 0, true, "bitwise"}, CompareMode::kExact, -1);
    std::string where = diff.first_mismatches.empty()
                            ? std::string("")
                            : fmt::format("; first difference at [{}]: {} then {}",
                                          fmt::join(diff.first_mismatches[0].index, ", "),
                                          diff.first_mismatches[0].expected, diff.first_mismatches[0].actual);
    return Fail(outcome, Verdict::kWrong,
                fmt::format("output '{}' is nondeterministic: two runs on identical inputs differ in {} of {} "
                            "elements{} (a race, uninitialised reads, or state kept between calls)",
                            ctx.task.outputs[j].name, diff.mismatches, diff.numel, where),
                ctx.task.outputs[j].name);
  }
  return std::nullopt;
}

}  // namespace anvil::worker
