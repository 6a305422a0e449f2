// The steps of a correctness case that every comparison mode shares: one run
// of the candidate on fresh outputs with its checks (status, device fault,
// guard zones), the check that inputs kept their values, and the repeat run
// that must reproduce the outputs bit for bit. case_runner.h (value
// comparison) and statistical_case.h (random operators) are built from them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "verify/protocol.h"
#include "worker/evaluation_context.h"
#include "worker/view_output.h"

namespace anvil::worker {

// `o` with the verdict, reason and the output the reason is about.
CaseOutcome Fail(CaseOutcome o, Verdict v, std::string reason, std::string output = "");

// The candidate's outputs (on the host) from one call with `attrs`, or the
// failure: a non-OK status, a device fault, a write outside an output
// (wrong) or an input (suspicious).
// A view output (task `view_of`) must be an alias inside its input's storage
// (view_output.h), else the run fails as wrong; its entry in `outputs` is
// the view, and `views`/`placed` say what the candidate set.
struct CandidateRun {
  std::vector<at::Tensor> outputs;
  std::optional<CaseOutcome> failure;
  std::vector<ViewSlot> views;
  std::vector<PlacedView> placed;  // per entry of `views`
};
CandidateRun RunCandidate(const EvaluationContext& ctx, const CaseSpec& spec, const std::vector<at::Tensor>& inputs,
                          const NamedAttrs& attrs, const CaseOutcome& base);

// Suspicious when an input the task does not write in place changed.
std::optional<CaseOutcome> CheckInputsUnchanged(const EvaluationContext& ctx, const std::vector<at::Tensor>& inputs,
                                                const std::vector<at::Tensor>& pristine, const CaseOutcome& base);

// Runs the candidate again on fresh copies of `pristine` with the same
// attributes: wrong unless every output is bitwise identical to `first`.
std::optional<CaseOutcome> CheckRepeatable(const EvaluationContext& ctx, const CaseSpec& spec,
                                           const std::vector<at::Tensor>& pristine,
                                           const std::vector<at::Tensor>& first, const NamedAttrs& attrs,
                                           const CaseOutcome& outcome);

}  // namespace anvil::worker
