// aten110.arange (tasks/aten110/arange.toml): out[i] = start + i * step for
// i in [0, N), the N values of torch.arange(start, start + N * step, step).
// The task has no inputs: the output's DLTensor gives N and the dtype, the
// attributes give start and step (f64). Computed as ATen does on the CPU:
// floating results in double, rounded once to the output's dtype; integer
// results in int64 from start and step converted to integers (ATen converts
// the Scalars the same way). f32, i32 and i64, the task's dtypes.
#include <cstdint>

#include "anvil/cpu_tensor.h"

namespace {

// Writes value(i) at every index of the 1-D out, contiguous or not.
template <class T, class Value>
int Write(const AnvilCall* call, const DLTensor& out, Value value) {
  const int64_t n = out.shape[0];
  const int64_t stride = anvil::Stride(out, 0);
  T* p = anvil::DataPtr<T>(out);
  if (stride == 1) {
#pragma omp parallel for simd schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = value(i);
  } else {
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i * stride] = value(i);
  }
  return ANVIL_OK;
}

template <class T>
int WriteInteger(const AnvilCall* call, const DLTensor& out, double start, double step) {
  const int64_t s = static_cast<int64_t>(start), d = static_cast<int64_t>(step);
  return Write<T>(call, out, [s, d](int64_t i) { return static_cast<T>(s + i * d); });
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 0 || call->num_outputs != 1 || call->outputs[0].ndim != 1) {
    anvil::SetError(call, "arange expects no inputs and one 1-D output, got %d inputs and %d outputs",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* start = anvil::FindAttr(call, "start");
  const AnvilAttr* step = anvil::FindAttr(call, "step");
  if (start == nullptr || step == nullptr || start->dtype.code != kDLFloat || step->dtype.code != kDLFloat) {
    anvil::SetError(call, "arange expects floating attributes start and step");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& out = call->outputs[0];
  const double s = start->value.f, d = step->value.f;
  if (anvil::IsF32(out))
    return Write<float>(call, out, [s, d](int64_t i) { return static_cast<float>(s + static_cast<double>(i) * d); });
  if (anvil::IsI32(out)) return WriteInteger<int32_t>(call, out, s, d);
  if (anvil::IsI64(out)) return WriteInteger<int64_t>(call, out, s, d);
  anvil::SetError(call, "unsupported dtype %s: arange handles f32, i32 and i64", anvil::DTypeName(out.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}
