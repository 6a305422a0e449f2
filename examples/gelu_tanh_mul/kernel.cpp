// gelu_tanh_mul: out = gelu(x, approximate='tanh') * y
//   x, y, out: T[B, N], T in {f32, f16, bf16}.
//
// Inputs may have any strides (transposed, strided, stride-0 broadcast); the
// output is contiguous. (row, column block) tiles are shared out over OpenMP
// threads. Each tile is seen as floats (contiguous f32 in place, anything
// else converted once into a stack buffer), computed in one vectorised loop
// and, for f16/bf16, rounded once to T.
#include <algorithm>
#include <type_traits>

#include "anvil/cpu_tensor.h"

namespace {

// gelu(x) = 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3).
// The sigmoid form has no cancellation for negative x, so it is more accurate
// in float than PyTorch's own float expression (whose 1 + tanh(u) cancels),
// and it vectorises with anvil::ExpF. Overflow is benign: x^3 -> +-Inf gives
// exp(-2u) = 0 (result x) or Inf (result -0).
// One subtlety: the f64 reference computes 1 + tanh(u) too, and it is exactly
// 0 once tanh(u) rounds to -1 in double (2u < -38.1, x < -7.2). The true value
// there is below 1e-16 * |x y|; zeroing it as the reference does keeps a tensor
// whose outputs are all in that range (whose tolerance is then tiny) correct.
inline float GeluTanh(float x) {
  constexpr float kTwoBeta = 1.5957691216057308f;         // 2 sqrt(2 / pi)
  constexpr float kTwoBetaKappa = 0.071354816272600f;      // 2 sqrt(2 / pi) * 0.044715
  const float two_u = x * (kTwoBeta + kTwoBetaKappa * (x * x));
  const float keep = two_u < -38.1f ? 0.0f : 1.0f;  // a select of constants: stays branch-free
  return x / (1.0f + anvil::ExpF(-two_u)) * keep;
}

template <class T>
int Run(const AnvilCall* call) {
  constexpr bool kIsF32 = std::is_same_v<T, float>;
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  const T* yp = anvil::DataPtr<const T>(y);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
  const int64_t ys0 = anvil::Stride(y, 0), ys1 = anvil::Stride(y, 1);

  // Columns per tile: small enough for stack buffers that stay in L1, and
  // lets a single long row use every thread.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) schedule(static) num_threads(anvil::NumThreads(call)) \
    if (rows * cols > 32768)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t c0 = b * kBlock;
      const int64_t n = std::min(cols, c0 + kBlock) - c0;
      float xbuf[kBlock], ybuf[kBlock], obuf[kBlock];
      const float* xf = anvil::AsFloats(xp + r * xs0 + c0 * xs1, xs1, n, xbuf);
      const float* yf = anvil::AsFloats(yp + r * ys0 + c0 * ys1, ys1, n, ybuf);
      T* o = op + r * cols + c0;
      float* of = obuf;
      if constexpr (kIsF32) of = o;
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) of[c] = GeluTanh(xf[c]) * yf[c];
      if constexpr (!kIsF32) anvil::StoreFloats(obuf, n, o);
    }
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "gelu_tanh_mul expects inputs (x, y) and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || y.ndim != 2 || out.ndim != 2 || y.shape[0] != x.shape[0] ||
      y.shape[1] != x.shape[1] || out.shape[0] != x.shape[0] || out.shape[1] != x.shape[1]) {
    anvil::SetError(call, "gelu_tanh_mul expects x, y and out of one shape [B, N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (!anvil::SameDType(x, y) || !anvil::SameDType(x, out)) {
    anvil::SetError(call, "gelu_tanh_mul expects x, y and out of one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  return anvil::DispatchFloat(call, x, [&](auto tag) { return Run<decltype(tag)>(call); });
}
