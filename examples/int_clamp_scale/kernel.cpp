// int_clamp_scale: out = clamp(x * k + y, -1000, 1000)
//   x, y, out: T[N], T in {i32, i64}; attribute k (i32).
//
// Integer arithmetic in T with two's-complement wrap-around, as PyTorch's
// integer tensors behave (done in the unsigned type, where wrapping is defined
// in C++). The comparison is exact. One flat OpenMP loop; the
// unit-stride path vectorises.
#include <cstdint>
#include <type_traits>

#include "anvil/cpu_tensor.h"

namespace {

template <class T>
int Run(const AnvilCall* call, int64_t k) {
  using U = std::make_unsigned_t<T>;
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t n = x.shape[0];
  const T* xp = anvil::DataPtr<const T>(x);
  const T* yp = anvil::DataPtr<const T>(y);
  T* op = anvil::DataPtr<T>(out);
  const int64_t xs = anvil::Stride(x, 0), ys = anvil::Stride(y, 0);
  const U ku = static_cast<U>(static_cast<T>(k));
  const auto compute = [ku](T xv, T yv) {
    const T v = static_cast<T>(static_cast<U>(xv) * ku + static_cast<U>(yv));
    return v < T(-1000) ? T(-1000) : (v > T(1000) ? T(1000) : v);
  };

  if (xs == 1 && ys == 1) {
#pragma omp parallel for simd schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) op[i] = compute(xp[i], yp[i]);
  } else {
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) op[i] = compute(xp[i * xs], yp[i * ys]);
  }
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "int_clamp_scale expects inputs (x, y) and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const AnvilAttr* k = anvil::FindAttr(call, "k");
  if (k == nullptr || k->dtype.code != kDLInt) {
    anvil::SetError(call, "int_clamp_scale expects an integer attribute k");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 1 || y.ndim != 1 || out.ndim != 1 || y.shape[0] != x.shape[0] || out.shape[0] != x.shape[0]) {
    anvil::SetError(call, "int_clamp_scale expects x, y and out of one shape [N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (!anvil::SameDType(x, y) || !anvil::SameDType(x, out)) {
    anvil::SetError(call, "int_clamp_scale expects x, y and out of one dtype");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  if (anvil::IsI32(x)) return Run<int32_t>(call, k->value.i);
  if (anvil::IsI64(x)) return Run<int64_t>(call, k->value.i);
  anvil::SetError(call, "unsupported dtype %s: int_clamp_scale handles i32 and i64", anvil::DTypeName(x.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}
