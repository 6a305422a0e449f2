// aten110.arange on the GPU (tasks/aten110/arange.toml): out[i] = start +
// i * step for i in [0, N). The task has no inputs: the output's DLTensor
// gives N and the dtype, the attributes start and step (f64). Each thread
// writes one element: f32 values are computed in double and rounded once
// (every value of the task is an integer below 2^24 in magnitude, so the
// result is exact either way), i32 / i64 in int64 from start and step
// converted to integers, as ATen converts its Scalars.
#include <cstdint>

#include "anvil/cuda_tensor.h"

namespace {

constexpr int kThreads = 256;

template <class T, class Acc>
__global__ void __launch_bounds__(kThreads)
    Arange(T* __restrict__ out, long long n, long long stride, Acc start, Acc step) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i * stride] = static_cast<T>(start + static_cast<Acc>(i) * step);
}

template <class T, class Acc>
int Launch(const AnvilCall* call, Acc start, Acc step) {
  const DLTensor& out = call->outputs[0];
  const long long n = out.shape[0];
  if (n == 0) return ANVIL_OK;
  const long long blocks = anvil::CeilDiv(n, kThreads);
  if (blocks > 2147483647LL) {
    anvil::SetError(call, "arange: %lld elements exceed the grid limit", n);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  Arange<T, Acc><<<static_cast<unsigned>(blocks), kThreads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<T>(out), n, anvil::Stride(out, 0), start, step);
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
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
  const long long si = static_cast<long long>(s), di = static_cast<long long>(d);
  if (anvil::IsF32(out)) return Launch<float, double>(call, s, d);
  if (anvil::IsI32(out)) return Launch<int32_t, long long>(call, si, di);
  if (anvil::IsI64(out)) return Launch<int64_t, long long>(call, si, di);
  anvil::SetError(call, "unsupported dtype %s: arange handles f32, i32 and i64", anvil::DTypeName(out.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}
