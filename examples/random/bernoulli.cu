// aten110.bernoulli (CUDA): out[i] = 1 with probability p[i], else 0.
//   p, out: T[R, C], T in {f32, f16, bf16}; attribute seed (i64), set per case by the harness.
//
// cuRAND's Philox (header-only device API): curand_init(seed, i, 0) gives
// element i (row-major in the output) its own subsequence, so elements are
// independent, the output depends only on the inputs and the seed, and no
// state is kept between calls. p may have any strides; out is contiguous.
#include <curand_kernel.h>

#include "anvil/cuda_tensor.h"

namespace {

using anvil::cuda::FromFloat;
using anvil::cuda::ToFloat;

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    Bernoulli(const T* __restrict__ p, T* __restrict__ out, unsigned long long seed, long long n, long long cols,
              long long ps0, long long ps1) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long r = i / cols, c = i - r * cols;
  curandStatePhilox4_32_10_t state;
  curand_init(seed, static_cast<unsigned long long>(i), 0, &state);
  const float u = 1.0f - curand_uniform(&state);  // curand_uniform is in (0, 1]: u in [0, 1)
  out[i] = FromFloat<T>(u < ToFloat(p[r * ps0 + c * ps1]) ? 1.0f : 0.0f);
}

template <class T>
int Launch(const AnvilCall* call, unsigned long long seed) {
  const DLTensor& p = call->inputs[0];
  const long long rows = p.shape[0], cols = p.shape[1], n = rows * cols;
  if (n == 0) return ANVIL_OK;
  Bernoulli<T><<<static_cast<unsigned>(anvil::CeilDiv(n, kThreads)), kThreads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<const T>(p), anvil::DataPtr<T>(call->outputs[0]), seed, n, cols, anvil::Stride(p, 0),
      anvil::Stride(p, 1));
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const AnvilAttr* seed = anvil::FindAttr(call, "seed");
  if (seed == nullptr || call->num_inputs != 1 || call->num_outputs != 1 || call->inputs[0].ndim != 2) {
    anvil::SetError(call, "bernoulli expects p: T[R, C], one output and a seed attribute");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const auto s = static_cast<unsigned long long>(seed->value.i);
  return anvil::cuda::DispatchFloat(call, call->inputs[0], [&](auto tag) -> int { return Launch<decltype(tag)>(call, s); });
}
