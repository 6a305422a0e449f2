// aten110.full (tasks/aten110/full.toml): every element of out is the
// attribute `value` (f64) converted to the output's dtype, as ATen's fill
// converts a Scalar: to float and then rounded to nearest even for f16 and
// bf16, truncated toward zero for integers, nonzero -> true for bool. The
// task has no inputs: the output's DLTensor gives the shape and dtype. The
// value is converted once; the loop only stores it. f32, f16, bf16, i32,
// i64 and bool, the task's dtypes.
#include <cstdint>

#include "anvil/cpu_tensor.h"

namespace {

// Stores `fill` at every element of out, contiguous or not.
template <class T>
int Fill(const AnvilCall* call, const DLTensor& out, T fill) {
  const int64_t n = anvil::Numel(out);
  T* p = anvil::DataPtr<T>(out);
  if (anvil::IsContiguous(out)) {
#pragma omp parallel for simd schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[i] = fill;
  } else {
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) p[anvil::StridedOffset(out, i)] = fill;
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 0 || call->num_outputs != 1) {
    anvil::SetError(call, "full expects no inputs and one output, got %d inputs and %d outputs", call->num_inputs,
                    call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* value = anvil::FindAttr(call, "value");
  if (value == nullptr || value->dtype.code != kDLFloat) {
    anvil::SetError(call, "full expects a floating attribute value");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& out = call->outputs[0];
  const double v = value->value.f;
  const float vf = static_cast<float>(v);
  // f16 and bf16 are stored as their 16 bits; bool is one byte holding 0 or 1.
  if (anvil::IsF32(out)) return Fill<float>(call, out, vf);
  if (anvil::IsF16(out)) return Fill<uint16_t>(call, out, anvil::FloatToHalf(vf));
  if (anvil::IsBF16(out)) return Fill<uint16_t>(call, out, anvil::FloatToBF16(vf));
  if (anvil::IsI32(out)) return Fill<int32_t>(call, out, static_cast<int32_t>(static_cast<int64_t>(v)));
  if (anvil::IsI64(out)) return Fill<int64_t>(call, out, static_cast<int64_t>(v));
  if (anvil::IsBool(out)) return Fill<uint8_t>(call, out, v != 0.0 ? 1 : 0);
  anvil::SetError(call, "unsupported dtype %s: full handles f32, f16, bf16, i32, i64 and bool",
                  anvil::DTypeName(out.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}
