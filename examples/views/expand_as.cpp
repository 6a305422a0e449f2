// aten110.expand_as as a view: x [1, C] broadcast to other's [R, C] repeats
// x's one row by stepping 0 along dim 0. Nothing is copied
// (include/anvil/kernel.h, view outputs). Any dtype.
#include "anvil/kernel.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  DLTensor& out = call->outputs[0];
  out.data = x.data;
  out.byte_offset = x.byte_offset;
  out.strides[0] = 0;
  out.strides[1] = x.strides[1];
  return ANVIL_OK;
}
