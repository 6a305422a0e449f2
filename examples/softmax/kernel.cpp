// softmax: out = softmax(x / t, -1)
//   x, out: T[R, C], T in {f32, f16, bf16}; attribute t (f32), the temperature.
//
// One row per OpenMP iteration: the row is loaded once into a per-thread
// float buffer (any input strides), then max, exp and sum, and a scaled store.
// Accuracy choices, for the tight f32 tolerance:
//   - exp((x - m) / t) rather than exp(x / t - m / t): x - m is exact for
//     nearby values, so large inputs (|x| ~ 1e4) keep their relative digits;
//   - m is the max of x for t > 0 and the min for t < 0 (the max of x / t);
//   - the sum is accumulated in double and the division is done in double.
// NaN or +Inf in a row makes the whole row NaN, as in PyTorch.
#include <cmath>
#include <vector>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call, float t) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = x.shape[0];
  const int64_t cols = x.shape[1];
  const T* xp = anvil::DataPtr<const T>(x);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
  const bool largest = !(t < 0.0f);

#pragma omp parallel num_threads(anvil::NumThreads(call)) if (rows * cols > 16384)
  {
    std::vector<float> buf(static_cast<size_t>(cols));
    float* e = buf.data();
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = xp + r * xs0;
      if (xs1 == 1) {
        for (int64_t c = 0; c < cols; ++c) e[c] = anvil::ToFloat(xr[c]);
      } else {
        for (int64_t c = 0; c < cols; ++c) e[c] = anvil::ToFloat(xr[c * xs1]);
      }
      float m = largest ? -INFINITY : INFINITY;
      if (largest) {
        for (int64_t c = 0; c < cols; ++c) m = e[c] > m ? e[c] : m;
      } else {
        for (int64_t c = 0; c < cols; ++c) m = e[c] < m ? e[c] : m;
      }
      double sum = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        e[c] = expf((e[c] - m) / t);
        sum += e[c];
      }
      T* o = op + r * cols;
      for (int64_t c = 0; c < cols; ++c) o[c] = anvil::FromFloat<T>(static_cast<float>(e[c] / sum));
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
