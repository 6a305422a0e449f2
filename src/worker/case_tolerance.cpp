#include "worker/case_tolerance.h"

#include <fmt/format.h>

#include "worker/compare.h"

namespace anvil::worker {

Tolerance CaseTolerance(DType dtype, int64_t reduction_length, const ToleranceOverrides& overrides,
                        const at::Tensor& expected, const at::Tensor& eager) {
  Tolerance tol = ToleranceFor(dtype, OutputScale(expected), reduction_length, overrides);
  if (tol.exact || !eager.defined() || expected.numel() == 0) return tol;
  auto it = overrides.per_dtype.find(dtype);
  if (it != overrides.per_dtype.end() && it->second.atol) return tol;  // the task fixed atol itself

  // Eager's worst error over elements where both are finite.
  at::Tensor e = expected.to(at::kDouble), a = eager.to(at::kDouble);
  at::Tensor finite = at::isfinite(e) & at::isfinite(a);
  if (!finite.any().item<bool>()) return tol;
  double eager_err = (a - e).abs().masked_select(finite).max().item<double>();
  double calibrated = kBaselineFactor * eager_err;
  if (calibrated > tol.atol) {
    tol.rule += fmt::format("; atol raised to {:.3g} = {} x PyTorch eager's own max error {:.3g} on this case",
                            calibrated, kBaselineFactor, eager_err);
    tol.atol = calibrated;
  }
  return tol;
}

CompareMode OutputCompareMode(CompareMode task_mode, DType dtype) {
  return IsIntegral(dtype) && task_mode == CompareMode::kAllClose ? CompareMode::kExact : task_mode;
}

}  // namespace anvil::worker
