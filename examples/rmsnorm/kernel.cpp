// rmsnorm: out = x * rsqrt(mean(x * x, -1, keepdim=True) + eps) * w
//   x, out: T[R, C]; w: T[C]; T in {f32, f16, bf16}; attribute eps (f32).
//
// One row per OpenMP iteration, two passes over the row: the sum of squares
// (double accumulator; `omp simd` lets the compiler vectorise it, in a fixed
// order, so results are reproducible), then the scaled store, also in double
// and rounded once to T. Inputs may have any strides (w may be broadcast).
#include <cmath>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call, double eps) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& w = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  const T* wp = anvil::DataPtr<const T>(w);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
  const int64_t ws = anvil::Stride(w, 0);

#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (rows * cols > 16384)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = xp + r * xs0;
    T* o = op + r * cols;
    double ss = 0.0;
    if (xs1 == 1) {
#pragma omp simd reduction(+ : ss)
      for (int64_t c = 0; c < cols; ++c) {
        const double v = anvil::ToFloat(xr[c]);
        ss += v * v;
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const double v = anvil::ToFloat(xr[c * xs1]);
        ss += v * v;
      }
    }
    const double inv_rms = 1.0 / std::sqrt(ss / static_cast<double>(cols) + eps);
    if (xs1 == 1 && ws == 1) {
      for (int64_t c = 0; c < cols; ++c) {
        const double v = anvil::ToFloat(xr[c]) * inv_rms * anvil::ToFloat(wp[c]);
        o[c] = anvil::FromFloat<T>(static_cast<float>(v));
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const double v = anvil::ToFloat(xr[c * xs1]) * inv_rms * anvil::ToFloat(wp[c * ws]);
        o[c] = anvil::FromFloat<T>(static_cast<float>(v));
      }
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
