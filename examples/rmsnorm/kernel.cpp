// rmsnorm: out = x * rsqrt(mean(x * x, -1, keepdim=True) + eps) * w
//   x, out: T[R, C]; w: T[C]; T in {f32, f16, bf16}; attribute eps (f32).
//
// w is converted to floats once (any stride, also stride 0). Rows are shared
// out over OpenMP threads; each row is seen as floats (a contiguous f32 row
// in place, anything else converted once into a per-thread buffer), then two
// vectorised passes:
//   1. the sum of squares, in double: squares of large f32 values (|x| ~ 1e20)
//      overflow float, and a double sum stays exact enough for any C;
//   2. x * inv_rms * w in float, rounded once to T. inv_rms is a normal float
//      unless the row's rms is beyond ~1e37; such rows take the same loop in
//      double, so no precision is lost to a subnormal factor.
#include <cmath>
#include <type_traits>
#include <vector>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call, double eps) {
  constexpr bool kIsF32 = std::is_same_v<T, float>;
  const DLTensor& x = call->inputs[0];
  const DLTensor& w = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);

  std::vector<float> wbuf(static_cast<size_t>(cols));
  const float* wf = anvil::AsFloats(anvil::DataPtr<const T>(w), anvil::Stride(w, 0), cols, wbuf.data());

#pragma omp parallel num_threads(anvil::NumThreads(call)) if (rows * cols > 16384)
  {
    std::vector<float> buf(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xf = anvil::AsFloats(xp + r * xs0, xs1, cols, buf.data());
      double ss = 0.0;
#pragma omp simd reduction(+ : ss)
      for (int64_t c = 0; c < cols; ++c) ss += static_cast<double>(xf[c]) * xf[c];
      const double inv_rms = 1.0 / std::sqrt(ss / static_cast<double>(cols) + eps);

      // The result: in the f32 output row itself, else in the buffer (which
      // may hold xf: each element is read before it is overwritten).
      float* o = buf.data();
      if constexpr (kIsF32) o = op + r * cols;
      if (inv_rms >= 1e-37) {  // a normal float: the fast loop
        const float s = static_cast<float>(inv_rms);
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) o[c] = xf[c] * s * wf[c];
      } else {
        for (int64_t c = 0; c < cols; ++c) o[c] = static_cast<float>(xf[c] * inv_rms * wf[c]);
      }
      if constexpr (!kIsF32) anvil::StoreFloats(o, cols, op + r * cols);
    }
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "rmsnorm expects inputs (x, w) and one output, got %d and %d", call->num_inputs,
                    call->num_outputs);
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
      out.shape[1] != x.shape[1]) {
    anvil::SetError(call, "rmsnorm expects x: [R, C], w: [C], out: [R, C]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (!anvil::SameDType(x, w) || !anvil::SameDType(x, out)) {
    anvil::SetError(call, "rmsnorm expects x, w and out of one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  // eps is declared f32, so its value is an f32 (1e-6 rounded); either rounding is far
  // below the tolerance.
  const double eps_value = static_cast<float>(eps->value.f);
  return anvil::DispatchFloat(call, x, [&](auto tag) { return Run<decltype(tag)>(call, eps_value); });
}
