// bias_add_relu: out = relu(x + b)
//   x, out: T[B, N]; b: T[N], broadcast over the rows; T in {f32, f16, bf16}.
//
// (row, column block) tiles over OpenMP threads. x + b is a single float
// addition (exactly what f32 PyTorch computes; for f16/bf16 it is rounded
// once to T). `v < 0 ? 0 : v` lets NaN through, as torch.relu does, and
// vectorises on the unit-stride path.
#include <algorithm>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  const T* bp = anvil::DataPtr<const T>(b);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
  const int64_t bs = anvil::Stride(b, 0);

  constexpr int64_t kBlock = 8192;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for collapse(2) schedule(static) num_threads(anvil::NumThreads(call)) \
    if (rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t blk = 0; blk < blocks; ++blk) {
      const int64_t c0 = blk * kBlock;
      const int64_t c1 = std::min(cols, c0 + kBlock);
      const T* xr = xp + r * xs0;
      T* o = op + r * cols;
      if (xs1 == 1 && bs == 1) {
        for (int64_t c = c0; c < c1; ++c) {
          const float v = anvil::ToFloat(xr[c]) + anvil::ToFloat(bp[c]);
          o[c] = anvil::FromFloat<T>(v < 0.0f ? 0.0f : v);
        }
      } else {
        for (int64_t c = c0; c < c1; ++c) {
          const float v = anvil::ToFloat(xr[c * xs1]) + anvil::ToFloat(bp[c * bs]);
          o[c] = anvil::FromFloat<T>(v < 0.0f ? 0.0f : v);
        }
      }
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
