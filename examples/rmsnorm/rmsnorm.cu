// rmsnorm (CUDA): out = x * rsqrt(mean(x * x, -1, keepdim=True) + eps) * w
//   x, out: T[R, C]; w: T[C]; T in {f32, f16, bf16}; attribute eps (f32).
//
// One thread block per row; x and w may have any strides (transposed,
// strided, stride 0), out is contiguous. Two block-stride passes over the row
// (consecutive threads read consecutive columns: coalesced for contiguous x):
//   1. the sum of squares, accumulated in double and reduced over the block
//      with warp shuffles and one value per warp in shared memory. Squares
//      of large f32 values (|x| ~ 1e20) overflow float, and the double sum is
//      exact enough for any C; the pass is memory-bound, so double costs
//      nothing measurable;
//   2. x * inv_rms * w in f32, rounded once to T. inv_rms = 1 / sqrt(mean +
//      eps) is a normal float unless the row's rms is beyond ~1e37; such rows
//      multiply in double, so no precision is lost to a subnormal factor.
#include "anvil/cuda_tensor.h"

namespace {

using anvil::cuda::FromFloat;
using anvil::cuda::ToFloat;

constexpr int kThreads = 512;

// Sums v over the block; every thread gets the result.
__device__ double BlockSum(double v) {
  __shared__ double scratch[33];
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : 0.0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) scratch[32] = v;
  }
  __syncthreads();
  return scratch[32];
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    RmsNormRows(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ out, long long cols,
                long long xs0, long long xs1, long long ws0, double eps) {
  const T* xr = x + static_cast<long long>(blockIdx.x) * xs0;
  T* orow = out + static_cast<long long>(blockIdx.x) * cols;
  double ss = 0.0;
  for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
    const double v = ToFloat(xr[c * xs1]);
    ss += v * v;
  }
  ss = BlockSum(ss);
  const double inv_rms = 1.0 / sqrt(ss / static_cast<double>(cols) + eps);
  if (inv_rms >= 1e-37) {  // a normal float (or NaN/Inf, which propagate either way)
    const float s = static_cast<float>(inv_rms);
    for (long long c = threadIdx.x; c < cols; c += blockDim.x)
      orow[c] = FromFloat<T>(ToFloat(xr[c * xs1]) * s * ToFloat(w[c * ws0]));
  } else {
    for (long long c = threadIdx.x; c < cols; c += blockDim.x)
      orow[c] = FromFloat<T>(static_cast<float>(ToFloat(xr[c * xs1]) * inv_rms * ToFloat(w[c * ws0])));
  }
}

template <class T>
int Launch(const AnvilCall* call, double eps) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& w = call->inputs[1];
  const long long rows = x.shape[0], cols = x.shape[1];
  if (rows == 0 || cols == 0) return ANVIL_OK;  // nothing to write
  if (rows > 2147483647LL) {
    anvil::SetError(call, "rmsnorm: %lld rows exceed the grid limit", rows);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  int threads = kThreads;
  while (threads > 32 && threads / 2 >= cols) threads /= 2;
  RmsNormRows<T><<<static_cast<unsigned>(rows), threads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<const T>(x), anvil::DataPtr<const T>(w), anvil::DataPtr<T>(call->outputs[0]), cols,
      anvil::Stride(x, 0), anvil::Stride(x, 1), anvil::Stride(w, 0), eps);
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "rmsnorm expects inputs x, w and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* eps = anvil::FindAttr(call, "eps");
  if (eps == nullptr || eps->dtype.code != kDLFloat) {
    anvil::SetError(call, "rmsnorm expects a floating attribute eps");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& w = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || w.ndim != 1 || out.ndim != 2 || w.shape[0] != x.shape[1] || out.shape[0] != x.shape[0] ||
      out.shape[1] != x.shape[1] || !anvil::SameDType(x, w) ||
      !anvil::SameDType(x, out)) {
    anvil::SetError(call, "rmsnorm expects x, out: T[R, C] and w: T[C]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  // eps is an f32 attribute: the reference adds its f32 value.
  const double e = static_cast<double>(static_cast<float>(eps->value.f));
  return anvil::cuda::DispatchFloat(call, x, [&](auto tag) -> int { return Launch<decltype(tag)>(call, e); });
}
