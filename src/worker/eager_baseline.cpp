#include "worker/eager_baseline.h"

namespace anvil::worker {

Result<EagerResult> EvaluateEager(const ReferenceModel& reference, int variant, const std::vector<at::Tensor>& inputs,
                                  const ReferenceCase& where) {
  EagerResult r;
  auto native = reference.Evaluate(variant, inputs, where, reference::Precision::kNative);
  if (native.ok()) {
    r.outputs = std::move(native).value();
    return r;
  }
  if (native.status().code() != ErrorCode::kUnsupported) return native.status();
  auto f32 = reference.Evaluate(variant, inputs, where, reference::Precision::kUpcast32);
  if (!f32.ok()) return f32.status();
  r.outputs = std::move(f32).value();
  r.precision = reference::Precision::kUpcast32;
  r.note = "computed in f32 and cast back: " + native.status().message();
  return r;
}

}  // namespace anvil::worker
