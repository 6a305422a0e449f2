/*
 * anvil/cuda_tensor.h — small helpers for CUDA C++ candidate kernels (C++17,
 * nvcc, header-only; depends on anvil/kernel.h and the CUDA runtime headers).
 * It includes anvil/abi_helpers.h, the host helpers CPU and CUDA candidates
 * share: dtype checks (IsF32, IsF16, IsBF16, ...), DTypeName, Numel,
 * IsContiguous, Stride, StridedOffset, DataPtr, SetError and FindAttr.
 *
 * What is here, for CUDA only:
 *   - StreamOf(call): the harness's stream. Launch every kernel on it and do
 *     not synchronise the device; the harness times and synchronises.
 *   - ANVIL_CUDA_CHECK(call, expr): returns ANVIL_ERROR_INTERNAL with the
 *     CUDA error text when `expr` is not cudaSuccess. After a launch,
 *     ANVIL_CUDA_CHECK(call, cudaGetLastError()) reports a bad launch
 *     configuration at once, in the candidate's own words.
 *   - CeilDiv, for grid sizes.
 *   - anvil::cuda::ToFloat / FromFloat<T>: device conversions between float
 *     and the storage types float, __half (f16) and __nv_bfloat16 (bf16),
 *     round to nearest even, so a kernel can be a template over its storage
 *     type; anvil::cuda::DispatchFloat picks that type from a tensor's dtype.
 *
 * Candidates are built with `-cudart shared` (the worker's own CUDA
 * runtime), so the runtime API used here is the harness's. Everything is
 * inline and stateless; nothing allocates.
 */
#ifndef ANVIL_CUDA_TENSOR_H_
#define ANVIL_CUDA_TENSOR_H_

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "anvil/abi_helpers.h"
#include "anvil/kernel.h"

// Evaluates `expr` (a cudaError_t) once; on failure writes "<expr>: <CUDA
// error string>" into call->error and returns ANVIL_ERROR_INTERNAL from the
// enclosing function, which must return int (give a lambda `-> int`).
#define ANVIL_CUDA_CHECK(call, expr)                                                          \
  do {                                                                                        \
    const cudaError_t anvil_cuda_status_ = (expr);                                            \
    if (anvil_cuda_status_ != cudaSuccess) {                                                  \
      ::anvil::SetError((call), "%s: %s", #expr, cudaGetErrorString(anvil_cuda_status_));     \
      return ANVIL_ERROR_INTERNAL;                                                            \
    }                                                                                         \
  } while (0)

namespace anvil {

// The stream to launch on (the harness passes a cudaStream_t in call->stream).
inline cudaStream_t StreamOf(const AnvilCall* call) { return static_cast<cudaStream_t>(call->stream); }

// ceil(a / b) for a >= 0, b > 0: the number of blocks of size b covering a elements.
__host__ __device__ constexpr int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

namespace cuda {

__device__ __forceinline__ float ToFloat(float v) { return v; }
__device__ __forceinline__ float ToFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class T> __device__ __forceinline__ T FromFloat(float v);
template <> __device__ __forceinline__ float FromFloat<float>(float v) { return v; }
template <> __device__ __forceinline__ __half FromFloat<__half>(float v) { return __float2half_rn(v); }
template <> __device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}

// Calls fn(float{}), fn(__half{}) or fn(__nv_bfloat16{}) according to the
// dtype of `like` and returns its status; other dtypes get
// ANVIL_ERROR_UNSUPPORTED with a message. Host code: fn launches the kernels.
template <class Fn>
int DispatchFloat(const AnvilCall* call, const DLTensor& like, Fn&& fn) {
  if (IsF32(like)) return fn(float{});
  if (IsF16(like)) return fn(__half{});
  if (IsBF16(like)) return fn(__nv_bfloat16{});
  SetError(call, "unsupported dtype %s: this kernel handles f32, f16 and bf16", DTypeName(like.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}

}  // namespace cuda
}  // namespace anvil

#endif  // ANVIL_CUDA_TENSOR_H_
