// A hand-written CPU kernel for the task `anvil import kernelbench` makes of
// tests/data/kernelbench/19_ReLU.py (x: f32[batch_size, dim] -> out, same
// shape): the integration test verifies it against the imported task, which
// proves the import gives a usable task end to end.
//
// x may have any strides (the correctness cases include transposed, strided
// and broadcast layouts); out is contiguous. `v < 0 ? 0 : v` lets NaN
// through, as torch.relu does.
#include "anvil/cpu_tensor.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 1 || call->num_outputs != 1) {
    anvil::SetError(call, "relu expects one input and one output, got %d and %d", call->num_inputs,
                    call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || out.ndim != 2 || !anvil::IsF32(x) || !anvil::IsF32(out)) {
    anvil::SetError(call, "relu expects x and out: f32[B, N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const int64_t rows = x.shape[0], cols = x.shape[1];
  const float* xp = anvil::DataPtr<const float>(x);
  float* op = anvil::DataPtr<float>(out);
  const int64_t xs0 = anvil::Stride(x, 0), xs1 = anvil::Stride(x, 1);
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call)) if (rows * cols > 65536)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = xp[r * xs0 + c * xs1];
      op[r * cols + c] = v < 0.0f ? 0.0f : v;
    }
  return ANVIL_OK;
}
