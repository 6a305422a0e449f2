// aten110.select as a view: torch.select(x, 1, -1) of [A, B, C] is x's
// storage seen at index B-1 of dim 1, with x's strides of dims 0 and 2.
// Nothing is copied: the kernel only says where the view starts and how to
// step through it (include/anvil/kernel.h, view outputs). Any dtype.
#include "anvil/kernel.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  DLTensor& out = call->outputs[0];
  const int64_t item = x.dtype.bits / 8;
  const int64_t last = x.shape[1] - 1;  // select index -1
  out.data = x.data;
  out.byte_offset = x.byte_offset + static_cast<uint64_t>(last * x.strides[1] * item);
  out.strides[0] = x.strides[0];
  out.strides[1] = x.strides[2];
  return ANVIL_OK;
}
