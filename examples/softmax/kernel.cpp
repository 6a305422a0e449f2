// softmax: out = softmax(x / t, -1)
//   x, out: T[R, C], T in {f32, f16, bf16}; attribute t (f32), the temperature.
//
// Rows are shared out over OpenMP threads. Each row is seen as floats (a
// contiguous f32 row in place, anything else converted once into a
// per-thread buffer: any input strides), then three vectorised passes:
//   1. m = max of x (the min for t < 0: the max of x / t);
//   2. e = exp((x - m) / t) with anvil::ExpF (~1 ulp, vectorises), summed in
//      float over SIMD lanes; e goes straight into an f32 output row, else
//      into the buffer;
//   3. e * (1 / sum), rounded once to T.
// Accuracy: x - m is exact for nearby values, so large inputs (|x| ~ 1e4)
// keep their relative digits; every output carries the same relative error
// of the sum (~1e-7 over lanes), far inside the tolerance.
// NaN in a row reaches the sum, and +Inf gives Inf - Inf, so either makes the
// whole row NaN, as in PyTorch.
#include <cmath>
#include <type_traits>
#include <vector>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call, float t) {
  constexpr bool kIsF32 = std::is_same_v<T, float>;
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
  const bool largest = !(t < 0.0f);
  // A multiply instead of a divide per element: the extra rounding of 1 / t
  // moves exp's argument by |x - m| * 6e-8, i.e. an output e^a by a relative
  // |a| * 6e-8; that is under 3e-8 of the row's largest output for every a.
  const float inv_t = 1.0f / t;

#pragma omp parallel num_threads(anvil::NumThreads(call)) if (rows * cols > 16384)
  {
    std::vector<float> buf(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xf = anvil::AsFloats(xp + r * xs0, xs1, cols, buf.data());
      float m = largest ? -INFINITY : INFINITY;
      if (largest) {
#pragma omp simd reduction(max : m)
        for (int64_t c = 0; c < cols; ++c) m = xf[c] > m ? xf[c] : m;
      } else {
#pragma omp simd reduction(min : m)
        for (int64_t c = 0; c < cols; ++c) m = xf[c] < m ? xf[c] : m;
      }
      // The exponentials: in the f32 output row itself, else in the buffer
      // (which may hold xf: each element is read before it is overwritten).
      float* e = buf.data();
      if constexpr (kIsF32) e = op + r * cols;
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t c = 0; c < cols; ++c) {
        e[c] = anvil::ExpF((xf[c] - m) * inv_t);
        sum += e[c];
      }
      const float inv = 1.0f / sum;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) e[c] *= inv;
      if constexpr (!kIsF32) anvil::StoreFloats(e, cols, op + r * cols);
    }
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 1 || call->num_outputs != 1) {
    anvil::SetError(call, "softmax expects one input x and one output, got %d and %d", call->num_inputs,
                    call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* t = anvil::FindAttr(call, "t");
  if (t == nullptr || t->dtype.code != kDLFloat) {
    anvil::SetError(call, "softmax expects a floating attribute t (the temperature)");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || out.ndim != 2 || out.shape[0] != x.shape[0] || out.shape[1] != x.shape[1]) {
    anvil::SetError(call, "softmax expects x and out of one shape [R, C]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (!anvil::SameDType(x, out)) {
    anvil::SetError(call, "softmax expects x and out of one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const float temperature = static_cast<float>(t->value.f);
  return anvil::DispatchFloat(call, x, [&](auto tag) { return Run<decltype(tag)>(call, temperature); });
}
