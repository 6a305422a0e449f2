// softmax (CUDA): out = softmax(x / t, -1)
//   x, out: T[R, C], T in {f32, f16, bf16}; attribute t (f32), the temperature.
//
// One thread block per row; x may have any strides (transposed, strided,
// stride-0 broadcast), out is contiguous. Three passes over the row, each a
// block-stride loop (consecutive threads read consecutive columns, so a
// contiguous row is read coalesced):
//   1. m = max of x (the min for t < 0: it is the max of x / t), a block-wide
//      reduction: warp shuffles, then one value per warp in shared memory;
//   2. sum of expf((x - m) * (1 / t)), reduced the same way;
//   3. out = expf((x - m) * (1 / t)) / sum, rounded once to T.
// Everything is computed in f32. Taking x - m before scaling keeps the
// argument of exp accurate for large inputs (|x| ~ 1e4): for nearby values the
// subtraction is exact. NaN reaches the sum and +Inf gives Inf - Inf, so
// either makes the row NaN, as in PyTorch. A grid of R blocks (R <= 2^31 - 1).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstring>

#include "anvil/kernel.h"

namespace {

constexpr int kThreads = 512;  // 16 warps: enough loads in flight per row, any C

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
template <class T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ float FromFloat<float>(float v) { return v; }
template <>
__device__ __forceinline__ __half FromFloat<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// Reduces v over the block (op: 0 = max, 1 = sum); every thread gets the result.
// `scratch` holds one float per warp plus the broadcast slot.
template <int kOp>
__device__ float BlockReduce(float v, float* scratch) {
  auto combine = [](float a, float b) { return kOp == 0 ? fmaxf(a, b) : a + b; };
  for (int o = 16; o > 0; o >>= 1) v = combine(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = blockDim.x / 32;
    v = lane < warps ? scratch[lane] : (kOp == 0 ? -INFINITY : 0.0f);
    for (int o = 16; o > 0; o >>= 1) v = combine(v, __shfl_xor_sync(0xffffffffu, v, o));
    if (lane == 0) scratch[32] = v;
  }
  __syncthreads();
  v = scratch[32];
  __syncthreads();  // scratch is reused by the next reduction
  return v;
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    SoftmaxRows(const T* __restrict__ x, T* __restrict__ out, long long cols, long long xs0, long long xs1,
                float inv_t, bool largest) {
  __shared__ float scratch[33];
  const T* xr = x + static_cast<long long>(blockIdx.x) * xs0;
  T* orow = out + static_cast<long long>(blockIdx.x) * cols;

  // Pass 1: the max of x (or of -x, for t < 0; fmaxf ignores a NaN, which the
  // sum in pass 2 brings back).
  const float sign = largest ? 1.0f : -1.0f;
  float m = -INFINITY;
  for (long long c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, sign * ToFloat(xr[c * xs1]));
  m = sign * BlockReduce<0>(m, scratch);

  // Pass 2: the sum of the exponentials.
  float s = 0.0f;
  for (long long c = threadIdx.x; c < cols; c += blockDim.x) s += expf((ToFloat(xr[c * xs1]) - m) * inv_t);
  s = BlockReduce<1>(s, scratch);
  const float inv_s = 1.0f / s;

  // Pass 3: normalised, rounded once.
  for (long long c = threadIdx.x; c < cols; c += blockDim.x)
    orow[c] = FromFloat<T>(expf((ToFloat(xr[c * xs1]) - m) * inv_t) * inv_s);
}

template <class T>
int Launch(const AnvilCall* call, float t) {
  const DLTensor& x = call->inputs[0];
  const long long rows = x.shape[0], cols = x.shape[1];
  if (rows == 0 || cols == 0) return ANVIL_OK;  // nothing to write
  if (rows > 2147483647LL) {
    snprintf(call->error, call->error_capacity, "softmax: %lld rows exceed the grid limit", rows);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  // A short row needs fewer threads: round C up to whole warps.
  int threads = kThreads;
  while (threads > 32 && threads / 2 >= cols) threads /= 2;
  SoftmaxRows<T><<<static_cast<unsigned>(rows), threads, 0, static_cast<cudaStream_t>(call->stream)>>>(
      static_cast<const T*>(x.data), static_cast<T*>(call->outputs[0].data), cols, x.strides[0], x.strides[1],
      1.0f / t, !(t < 0.0f));
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    snprintf(call->error, call->error_capacity, "softmax: kernel launch failed: %s", cudaGetErrorString(err));
    return ANVIL_ERROR_INTERNAL;
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 1 || call->num_outputs != 1) {
    snprintf(call->error, call->error_capacity, "softmax expects one input x and one output, got %d and %d",
             call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* t = nullptr;
  for (int i = 0; i < call->num_attrs; ++i)
    if (std::strcmp(call->attrs[i].name, "t") == 0) t = &call->attrs[i];
  if (t == nullptr || t->dtype.code != kDLFloat) {
    snprintf(call->error, call->error_capacity, "softmax expects a floating attribute t (the temperature)");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || out.ndim != 2 || out.shape[0] != x.shape[0] || out.shape[1] != x.shape[1] ||
      x.dtype.code != out.dtype.code || x.dtype.bits != out.dtype.bits) {
    snprintf(call->error, call->error_capacity, "softmax expects x and out of one shape [R, C] and one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const float temperature = static_cast<float>(t->value.f);
  if (x.dtype.code == kDLFloat && x.dtype.bits == 32) return Launch<float>(call, temperature);
  if (x.dtype.code == kDLFloat && x.dtype.bits == 16) return Launch<__half>(call, temperature);
  if (x.dtype.code == kDLBfloat && x.dtype.bits == 16) return Launch<__nv_bfloat16>(call, temperature);
  snprintf(call->error, call->error_capacity, "softmax supports f32, f16 and bf16 (got DLPack code %d, %d bits)",
           x.dtype.code, x.dtype.bits);
  return ANVIL_ERROR_UNSUPPORTED;
}
