// row_sum (CUDA): out = sum(x, -1)
//   x: T[R, C]; out: T[R]; T in {f32, f16, bf16}.
//
// One thread block per row; x may have any strides (transposed, strided,
// stride-0 broadcast), out is contiguous. Each thread sums a block-stride
// slice of the row (consecutive threads read consecutive columns: coalesced
// for contiguous x, with 4 independent accumulators per thread to keep
// several loads in flight), then the block reduces with warp shuffles and one
// value per warp in shared memory. Accumulation is in double: summing values
// of mixed sign and magnitudes up to ~1e19 (the "special" distribution) in
// float loses digits the f64 reference keeps, and the op is memory-bound, so
// double costs nothing measurable. The sum is rounded once to T; an empty row
// (C = 0) sums to 0, so the kernel still runs and writes zeros.
#include "anvil/cuda_tensor.h"

namespace {

using anvil::cuda::ToFloat;

constexpr int kThreads = 512;

// The sum is rounded once from double to T; anvil/cuda_tensor.h converts
// only from float (a double -> float -> f16 path would round twice).
template <class T>
__device__ __forceinline__ T FromDouble(double v);
template <>
__device__ __forceinline__ float FromDouble<float>(double v) { return __double2float_rn(v); }
template <>
__device__ __forceinline__ __half FromDouble<__half>(double v) { return __double2half(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 FromDouble<__nv_bfloat16>(double v) { return __double2bfloat16(v); }

template <class T>
__global__ void __launch_bounds__(kThreads)
    RowSum(const T* __restrict__ x, T* __restrict__ out, long long cols, long long xs0, long long xs1) {
  __shared__ double scratch[32];
  const T* xr = x + static_cast<long long>(blockIdx.x) * xs0;
  const long long step = blockDim.x;
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  long long c = threadIdx.x;
  for (; c + 3 * step < cols; c += 4 * step) {
    a0 += ToFloat(xr[c * xs1]);
    a1 += ToFloat(xr[(c + step) * xs1]);
    a2 += ToFloat(xr[(c + 2 * step) * xs1]);
    a3 += ToFloat(xr[(c + 3 * step) * xs1]);
  }
  for (; c < cols; c += step) a0 += ToFloat(xr[c * xs1]);
  double v = (a0 + a1) + (a2 + a3);
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) out[blockIdx.x] = FromDouble<T>(v);
  }
}

template <class T>
int Launch(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const long long rows = x.shape[0], cols = x.shape[1];
  if (rows == 0) return ANVIL_OK;  // nothing to write
  if (rows > 2147483647LL) {
    anvil::SetError(call, "row_sum: %lld rows exceed the grid limit", rows);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  int threads = kThreads;
  while (threads > 32 && threads / 2 >= cols) threads /= 2;
  RowSum<T><<<static_cast<unsigned>(rows), threads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<const T>(x), anvil::DataPtr<T>(call->outputs[0]), cols, anvil::Stride(x, 0), anvil::Stride(x, 1));
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 1 || call->num_outputs != 1) {
    anvil::SetError(call, "row_sum expects one input x and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || out.ndim != 1 || out.shape[0] != x.shape[0] || !anvil::SameDType(x, out)) {
    anvil::SetError(call, "row_sum expects x: T[R, C] and out: T[R]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  return anvil::cuda::DispatchFloat(call, x, [&](auto tag) -> int { return Launch<decltype(tag)>(call); });
}
