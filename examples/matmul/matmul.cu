// matmul (CUDA): out = matmul(a, b)
//   a: T[M, K], b: T[K, N], out: T[M, N]; T in {f32, f16, bf16}.
//
// A classic shared-memory tiled SGEMM-style kernel (CUDA cores, no tensor
// cores), f32 accumulation, one rounding to T at the end:
//   - a block of 256 threads computes a 128 x 128 tile of out; thread
//     (tx, ty) = (tid % 16, tid / 16) owns the 8 x 8 outputs at rows
//     ty + 16 i and columns tx + 16 j. This strided micro-tile makes the
//     shared-memory reads conflict-free (a half-warp reads 16 consecutive
//     floats of the b tile and one broadcast float of the a tile) and the
//     final stores coalesced in runs of 16;
//   - K is walked in steps of 16: each thread loads 8 elements of the a tile
//     (128 x 16) and 8 of the b tile (16 x 128) from global memory, converted
//     to float, into shared memory, then 16 rank-1 updates of its 64 f32
//     accumulators (fmaf);
//   - a and b may have any strides. The load order follows the operand's
//     unit-stride dim (k for a row-major a, m for a transposed one; n or k for
//     b), so consecutive threads read consecutive addresses in either layout.
//     The shared tiles are stored k-major, padded by 4 floats per row so
//     k-ordered stores hit at most 2-way bank conflicts;
//   - elements outside M, N or K load as 0 and are not stored, so any size
//     works; K = 0 writes zeros (an empty sum), as torch.matmul does.
#include "anvil/cuda_tensor.h"

namespace {

using anvil::cuda::FromFloat;
using anvil::cuda::ToFloat;

constexpr int kTile = 128;   // BM = BN
constexpr int kStep = 16;    // BK
constexpr int kThreads = 256;
constexpr int kMicro = 8;    // outputs per thread along each dim
constexpr int kPad = 4;
constexpr int kLoads = kTile * kStep / kThreads;  // elements of each tile per thread

template <class T>
__global__ void __launch_bounds__(kThreads)
    Matmul(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, long long M, long long N,
           long long K, long long as0, long long as1, long long bs0, long long bs1, bool a_k_fastest,
           bool b_n_fastest) {
  __shared__ float as[kStep][kTile + kPad];
  __shared__ float bs[kStep][kTile + kPad];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const long long m0 = static_cast<long long>(blockIdx.y) * kTile;
  const long long n0 = static_cast<long long>(blockIdx.x) * kTile;

  float acc[kMicro][kMicro];
#pragma unroll
  for (int i = 0; i < kMicro; ++i)
#pragma unroll
    for (int j = 0; j < kMicro; ++j) acc[i][j] = 0.0f;

  for (long long k0 = 0; k0 < K; k0 += kStep) {
#pragma unroll
    for (int l = 0; l < kLoads; ++l) {
      const int idx = tid + l * kThreads;
      // a tile: (mm, kk), consecutive threads along a's unit-stride dim.
      const int a_kk = a_k_fastest ? idx % kStep : idx / kTile;
      const int a_mm = a_k_fastest ? idx / kStep : idx % kTile;
      const long long am = m0 + a_mm, ak = k0 + a_kk;
      as[a_kk][a_mm] = (am < M && ak < K) ? ToFloat(a[am * as0 + ak * as1]) : 0.0f;
      // b tile: (kk, nn).
      const int b_kk = b_n_fastest ? idx / kTile : idx % kStep;
      const int b_nn = b_n_fastest ? idx % kTile : idx / kStep;
      const long long bk = k0 + b_kk, bn = n0 + b_nn;
      bs[b_kk][b_nn] = (bk < K && bn < N) ? ToFloat(b[bk * bs0 + bn * bs1]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kStep; ++kk) {
      float av[kMicro], bv[kMicro];
#pragma unroll
      for (int i = 0; i < kMicro; ++i) av[i] = as[kk][ty + 16 * i];
#pragma unroll
      for (int j = 0; j < kMicro; ++j) bv[j] = bs[kk][tx + 16 * j];
#pragma unroll
      for (int i = 0; i < kMicro; ++i)
#pragma unroll
        for (int j = 0; j < kMicro; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();  // the tiles are overwritten by the next step
  }

#pragma unroll
  for (int i = 0; i < kMicro; ++i) {
    const long long m = m0 + ty + 16 * i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < kMicro; ++j) {
      const long long n = n0 + tx + 16 * j;
      if (n < N) out[m * N + n] = FromFloat<T>(acc[i][j]);
    }
  }
}

template <class T>
int Launch(const AnvilCall* call) {
  const DLTensor& a = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const long long M = a.shape[0], K = a.shape[1], N = b.shape[1];
  if (M == 0 || N == 0) return ANVIL_OK;  // nothing to write
  const long long grid_n = anvil::CeilDiv(N, kTile), grid_m = anvil::CeilDiv(M, kTile);
  if (grid_n > 2147483647LL || grid_m > 65535) {
    anvil::SetError(call, "matmul: [%lld, %lld] output exceeds the grid limits", M, N);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  // Unit stride along k for a (row-major) or along n for b: load in that order.
  // Broadcast (stride 0) and strided operands take whichever order has the
  // smaller stride, which is just as correct.
  const bool a_k_fastest = anvil::Stride(a, 1) <= anvil::Stride(a, 0);
  const bool b_n_fastest = anvil::Stride(b, 1) <= anvil::Stride(b, 0);
  dim3 grid(static_cast<unsigned>(grid_n), static_cast<unsigned>(grid_m));
  Matmul<T><<<grid, kThreads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<const T>(a), anvil::DataPtr<const T>(b), anvil::DataPtr<T>(call->outputs[0]), M, N, K,
      anvil::Stride(a, 0), anvil::Stride(a, 1), anvil::Stride(b, 0), anvil::Stride(b, 1), a_k_fastest, b_n_fastest);
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "matmul expects inputs a, b and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& a = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (a.ndim != 2 || b.ndim != 2 || out.ndim != 2 || a.shape[1] != b.shape[0] || out.shape[0] != a.shape[0] ||
      out.shape[1] != b.shape[1] || !anvil::SameDType(a, b) ||
      !anvil::SameDType(a, out)) {
    anvil::SetError(call, "matmul expects a: T[M, K], b: T[K, N] and out: T[M, N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  return anvil::cuda::DispatchFloat(call, a, [&](auto tag) -> int { return Launch<decltype(tag)>(call); });
}
