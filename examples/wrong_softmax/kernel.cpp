// wrong_softmax: a DELIBERATELY WRONG kernel for out = softmax(x / t, -1)
//   (see README.md). x, out: T[R, C], T in {f32, f16, bf16}; attribute t.
//
// The bug: exp(x / t) is taken without subtracting the row maximum. For
// |x / t| > ~88 expf overflows (Inf / Inf = NaN) or the whole row underflows
// (0 / 0 = NaN); for small inputs it looks right, which is why the verifier
// needs large-magnitude distributions to catch it.
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

#pragma omp parallel num_threads(anvil::NumThreads(call)) if (rows * cols > 16384)
  {
    std::vector<float> e(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      double sum = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        e[c] = expf(anvil::ToFloat(xp[r * xs0 + c * xs1]) / t);  // BUG: no "- max"
        sum += e[c];
      }
      for (int64_t c = 0; c < cols; ++c) op[r * cols + c] = anvil::FromFloat<T>(static_cast<float>(e[c] / sum));
    }
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const AnvilAttr* t = anvil::FindAttr(call, "t");
  if (call->num_inputs != 1 || call->num_outputs != 1 || t == nullptr || call->inputs[0].ndim != 2) {
    anvil::SetError(call, "softmax expects one input x: [R, C], one output and an attribute t");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const float temperature = static_cast<float>(t->value.f);
  return anvil::DispatchFloat(call, call->inputs[0], [&](auto tag) { return Run<decltype(tag)>(call, temperature); });
}
