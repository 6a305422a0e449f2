#include "worker/expectation.h"

#include <fmt/format.h>

#include "worker/case_tolerance.h"
#include "worker/eager_baseline.h"

namespace anvil::worker {

CompareResult Expectation::Check(const EvaluationContext& ctx, size_t j, const at::Tensor& actual_host) const {
  return Compare(expected.at(j), actual_host, tolerance.at(j), mode.at(j), ctx.task.compare.unordered_dim);
}

Result<Expectation> Expect(const EvaluationContext& ctx, const CaseSpec& spec, const std::vector<at::Tensor>& inputs) {
  std::vector<at::Tensor> clones;
  for (const at::Tensor& t : inputs) clones.push_back(t.clone());
  const ReferenceCase where = ctx.ReferenceCaseFor(spec);
  ANVIL_ASSIGN_OR_RETURN(std::vector<at::Tensor> exact,
                         ctx.reference->Evaluate(spec.variant, clones, where, reference::Precision::kUpcast64));
  // PyTorch eager on the same values and device: the calibration of the
  // tolerance. (A reference never writes its inputs, so the clones serve twice.)
  auto eager = EvaluateEager(*ctx.reference, spec.variant, clones, where);
  Expectation e;
  const std::vector<formula::OutputInfo>& outputs = ctx.outputs.at(spec.variant);
  for (size_t j = 0; j < exact.size(); ++j) {
    e.expected.push_back(ctx.device->ToHost(exact[j]));
    const DType dtype = outputs.at(j).dtype;
    e.tolerance.push_back(CaseTolerance(dtype, ctx.reference->ReductionLength(spec.variant, j, spec.bindings),
                                        ctx.task.compare.overrides, e.expected.back(),
                                        eager.ok() ? ctx.device->ToHost(eager->outputs[j]) : at::Tensor()));
    e.mode.push_back(OutputCompareMode(ctx.task.compare.mode, dtype));
    // A floating output the task compares exactly: rtol and atol play no
    // part, and the rule shown with a mismatch must not suggest they do.
    if (e.mode.back() == CompareMode::kExact && !e.tolerance.back().exact)
      e.tolerance.back().rule = fmt::format("{}: exact (mode = \"exact\": every value must equal the reference's, "
                                            "NaN matching NaN)",
                                            DTypeName(dtype));
  }
  return e;
}

}  // namespace anvil::worker
