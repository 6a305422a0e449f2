// aten110.t as a view: the transpose of a 2-D x is x's storage with its two
// strides swapped. Nothing is copied (include/anvil/kernel.h, view outputs).
// Any dtype.
#include "anvil/kernel.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  DLTensor& out = call->outputs[0];
  out.data = x.data;
  out.byte_offset = x.byte_offset;
  out.strides[0] = x.strides[1];
  out.strides[1] = x.strides[0];
  return ANVIL_OK;
}
