// bias_add_relu: out = relu(x + b)
//   x, out: T[B, N]; b: T[N], broadcast over the rows; T in {f32, f16, bf16}.
//
// b is converted to floats once (any stride). (row, column block) tiles are
// shared out over OpenMP threads; each tile of x is seen as floats (contiguous
// f32 in place, anything else converted once into a stack buffer), added and
// clamped in one vectorised loop, and for f16/bf16 rounded once to T. x + b is
// a single float addition (exactly what f32 PyTorch computes). `v < 0 ? 0 : v`
// lets NaN through, as torch.relu does, and compiles to a branch-free select.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call) {
  constexpr bool kIsF32 = std::is_same_v<T, float>;
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);

  std::vector<float> bbuf(static_cast<size_t>(cols));
  const float* bf = anvil::AsFloats(anvil::DataPtr<const T>(b), anvil::Stride(b, 0), cols, bbuf.data());

  constexpr int64_t kBlock = 2048;  // columns per tile: stack buffers in L1; long rows still split
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) schedule(static) num_threads(anvil::NumThreads(call)) \
    if (rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t c0 = blk * kBlock;
      const int64_t n = std::min(cols, c0 + kBlock) - c0;
      float xbuf[kBlock], obuf[kBlock];
      const float* xf = anvil::AsFloats(xp + r * xs0 + c0 * xs1, xs1, n, xbuf);
      const float* bc = bf + c0;
      T* o = op + r * cols + c0;
      float* of = obuf;
      if constexpr (kIsF32) of = o;
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) {
        const float v = xf[c] + bc[c];
        of[c] = v < 0.0f ? 0.0f : v;
      }
      if constexpr (!kIsF32) anvil::StoreFloats(obuf, n, o);
    }
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "bias_add_relu expects inputs (x, b) and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || b.ndim != 1 || out.ndim != 2 || b.shape[0] != x.shape[1] || out.shape[0] != x.shape[0] ||
      out.shape[1] != x.shape[1]) {
    anvil::SetError(call, "bias_add_relu expects x: [B, N], b: [N], out: [B, N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (!anvil::SameDType(x, b) || !anvil::SameDType(x, out)) {
    anvil::SetError(call, "bias_add_relu expects x, b and out of one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  return anvil::DispatchFloat(call, x, [&](auto tag) { return Run<decltype(tag)>(call); });
}
