// bias_add_relu (CUDA): out = relu(x + b)
//   x, out: T[B, N]; b: T[N], broadcast over the rows; T in {f32, f16, bf16}.
//
// Elementwise with a broadcast operand. The grid is (column tiles of 256,
// row slices): a thread owns one column, loads its bias once into a register
// and walks rows by, by + gridDim.y, ...; consecutive threads touch
// consecutive columns, so contiguous rows are read and written coalesced. x
// and b may have any strides (transposed, strided, stride 0); out is
// contiguous. x + b is one f32 addition, rounded once to T; `v < 0 ? 0 : v`
// lets NaN through, as torch.relu does.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>

#include "anvil/kernel.h"

namespace {

constexpr int kThreads = 256;

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

template <class T>
__global__ void __launch_bounds__(kThreads)
    BiasAddRelu(const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ out, long long rows,
                long long cols, long long xs0, long long xs1, long long bs0) {
  const long long c = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const float bias = ToFloat(b[c * bs0]);
  for (long long r = blockIdx.y; r < rows; r += gridDim.y) {
    const float v = ToFloat(x[r * xs0 + c * xs1]) + bias;
    out[r * cols + c] = FromFloat<T>(v < 0.0f ? 0.0f : v);
  }
}

template <class T>
int Launch(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const long long rows = x.shape[0], cols = x.shape[1];
  if (rows == 0 || cols == 0) return ANVIL_OK;  // nothing to write
  const long long col_tiles = (cols + kThreads - 1) / kThreads;
  if (col_tiles > 2147483647LL) {
    snprintf(call->error, call->error_capacity, "bias_add_relu: %lld columns exceed the grid limit", cols);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const long long row_slices = std::min<long long>(rows, std::max<long long>(1, 8192 / col_tiles));
  dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(std::min<long long>(row_slices, 65535)));
  BiasAddRelu<T><<<grid, kThreads, 0, static_cast<cudaStream_t>(call->stream)>>>(
      static_cast<const T*>(x.data), static_cast<const T*>(b.data), static_cast<T*>(call->outputs[0].data), rows,
      cols, x.strides[0], x.strides[1], b.strides[0]);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    snprintf(call->error, call->error_capacity, "bias_add_relu: kernel launch failed: %s", cudaGetErrorString(err));
    return ANVIL_ERROR_INTERNAL;
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    snprintf(call->error, call->error_capacity, "bias_add_relu expects inputs x, b and one output, got %d and %d",
             call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || b.ndim != 1 || out.ndim != 2 || b.shape[0] != x.shape[1] || out.shape[0] != x.shape[0] ||
      out.shape[1] != x.shape[1] || x.dtype.code != b.dtype.code || x.dtype.bits != b.dtype.bits ||
      x.dtype.code != out.dtype.code || x.dtype.bits != out.dtype.bits) {
    snprintf(call->error, call->error_capacity, "bias_add_relu expects x, out: T[B, N] and b: T[N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (x.dtype.code == kDLFloat && x.dtype.bits == 32) return Launch<float>(call);
  if (x.dtype.code == kDLFloat && x.dtype.bits == 16) return Launch<__half>(call);
  if (x.dtype.code == kDLBfloat && x.dtype.bits == 16) return Launch<__nv_bfloat16>(call);
  snprintf(call->error, call->error_capacity,
           "bias_add_relu supports f32, f16 and bf16 (got DLPack code %d, %d bits)", x.dtype.code, x.dtype.bits);
  return ANVIL_ERROR_UNSUPPORTED;
}
