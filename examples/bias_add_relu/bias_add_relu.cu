// bias_add_relu (CUDA): out = relu(x + b)
//   x, out: T[B, N]; b: T[N], broadcast over the rows; T in {f32, f16, bf16}.
//
// Elementwise with a broadcast operand. The grid is (column tiles of 256,
// row slices): a thread owns one column, loads its bias once into a register
// and walks rows by, by + gridDim.y, ...; consecutive threads touch
// consecutive columns, so contiguous rows are read and written coalesced. x
// and b may have any strides (transposed, strided, stride 0); out is
// contiguous. x + b is one f32 addition, rounded once to T; `v < 0 ? 0 : v`
// lets NaN through, as torch.relu does.
#include <algorithm>

#include "anvil/cuda_tensor.h"

namespace {

using anvil::cuda::FromFloat;
using anvil::cuda::ToFloat;

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    BiasAddRelu(const T* __restrict__ x, const T* __restrict__ b, T* __restrict__ out, long long rows,
                long long cols, long long xs0, long long xs1, long long bs0) {
  const long long c = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= cols) return;
  const float bias = ToFloat(b[c * bs0]);
  for (long long r = blockIdx.y; r < rows; r += gridDim.y) {
    const float v = ToFloat(x[r * xs0 + c * xs1]) + bias;
    out[r * cols + c] = FromFloat<T>(v < 0.0f ? 0.0f : v);
  }
}

template <class T>
int Launch(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const long long rows = x.shape[0], cols = x.shape[1];
  if (rows == 0 || cols == 0) return ANVIL_OK;  // nothing to write
  const long long col_tiles = anvil::CeilDiv(cols, kThreads);
  if (col_tiles > 2147483647LL) {
    anvil::SetError(call, "bias_add_relu: %lld columns exceed the grid limit", cols);
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const long long row_slices = std::min<long long>(rows, std::max<long long>(1, 8192 / col_tiles));
  dim3 grid(static_cast<unsigned>(col_tiles), static_cast<unsigned>(std::min<long long>(row_slices, 65535)));
  BiasAddRelu<T><<<grid, kThreads, 0, anvil::StreamOf(call)>>>(
      anvil::DataPtr<const T>(x), anvil::DataPtr<const T>(b), anvil::DataPtr<T>(call->outputs[0]), rows,
      cols, anvil::Stride(x, 0), anvil::Stride(x, 1), anvil::Stride(b, 0));
  ANVIL_CUDA_CHECK(call, cudaGetLastError());
  return ANVIL_OK;
}

}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  if (call->num_inputs != 2 || call->num_outputs != 1) {
    anvil::SetError(call, "bias_add_relu expects inputs x, b and one output, got %d and %d",
                    call->num_inputs, call->num_outputs);
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  const DLTensor& x = call->inputs[0];
  const DLTensor& b = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  if (x.ndim != 2 || b.ndim != 1 || out.ndim != 2 || b.shape[0] != x.shape[1] || out.shape[0] != x.shape[0] ||
      out.shape[1] != x.shape[1] || !anvil::SameDType(x, b) ||
      !anvil::SameDType(x, out)) {
    anvil::SetError(call, "bias_add_relu expects x, out: T[B, N] and b: T[N]");
    return ANVIL_ERROR_INVALID_ARGUMENT;
  }
  return anvil::cuda::DispatchFloat(call, x, [&](auto tag) -> int { return Launch<decltype(tag)>(call); });
}
