// A deliberately wrong candidate for aten110.arange
// (tasks/aten110/arange.toml): it starts counting at 1, writing
// out[i] = start + (i + 1) * step, the values of arange shifted by one step
// (as if the loop index were one-based). Every value is a plausible member
// of the range and the length is right, so only the values give it away:
// the harness must judge it wrong on every case with N >= 1 (N = 0 has no
// element to be wrong). Same dtypes and structure as arange.cpp.
#include <cstdint>

#include "anvil/cpu_tensor.h"

namespace {

template <class T, class Value>
int Write(const AnvilCall* call, const DLTensor& out, Value value) {
  const int64_t n = out.shape[0];
  const int64_t stride = anvil::Stride(out, 0);
  T* p = anvil::DataPtr<T>(out);
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) p[i * stride] = value(i + 1);  // the bug: i + 1
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const AnvilAttr* start = anvil::FindAttr(call, "start");
  const AnvilAttr* step = anvil::FindAttr(call, "step");
  if (call->num_outputs != 1 || call->outputs[0].ndim != 1 || start == nullptr || step == nullptr) {
    anvil::SetError(call, "arange expects one 1-D output and attributes start and step");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& out = call->outputs[0];
  const double s = start->value.f, d = step->value.f;
  const int64_t si = static_cast<int64_t>(s), di = static_cast<int64_t>(d);
  if (anvil::IsF32(out))
    return Write<float>(call, out, [s, d](int64_t i) { return static_cast<float>(s + static_cast<double>(i) * d); });
  if (anvil::IsI32(out))
    return Write<int32_t>(call, out, [si, di](int64_t i) { return static_cast<int32_t>(si + i * di); });
  if (anvil::IsI64(out)) return Write<int64_t>(call, out, [si, di](int64_t i) { return si + i * di; });
  anvil::SetError(call, "unsupported dtype %s: arange handles f32, i32 and i64", anvil::DTypeName(out.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}
