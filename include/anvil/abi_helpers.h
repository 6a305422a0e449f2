/*
 * anvil/abi_helpers.h — host helpers every candidate may use, CPU (g++) and
 * CUDA (nvcc) alike: C++17, header-only, depends only on anvil/kernel.h.
 * anvil/cpu_tensor.h and anvil/cuda_tensor.h include it; include one of
 * those rather than this file.
 *
 * What is here:
 *   - dtype checks (IsF32, IsF16, IsBF16, ..., SameDType) and DTypeName;
 *   - shapes and layout: Numel, IsContiguous, StridedOffset, Stride, and
 *     DataPtr (the typed base pointer; on CUDA a device pointer, to pass to
 *     a kernel, never to dereference on the host);
 *   - SetError (writes call->error safely) and FindAttr.
 *
 * Everything is inline, stateless, thread-safe and host-only: these read the
 * DLTensor descriptors, which live in host memory even for CUDA tensors.
 * Offsets are in elements (DLPack strides are in elements); byte_offset is
 * honoured even though the harness always passes 0.
 */
#ifndef ANVIL_ABI_HELPERS_H_
#define ANVIL_ABI_HELPERS_H_

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cstdint>

#include "anvil/kernel.h"

namespace anvil {

// ---- dtype checks ------------------------------------------------------------

inline bool IsType(const DLTensor& t, uint8_t code, uint8_t bits) {
  return t.dtype.code == code && t.dtype.bits == bits && t.dtype.lanes == 1;
}
inline bool IsF32(const DLTensor& t) { return IsType(t, kDLFloat, 32); }
inline bool IsF16(const DLTensor& t) { return IsType(t, kDLFloat, 16); }
inline bool IsBF16(const DLTensor& t) { return IsType(t, kDLBfloat, 16); }
inline bool IsF64(const DLTensor& t) { return IsType(t, kDLFloat, 64); }
inline bool IsI32(const DLTensor& t) { return IsType(t, kDLInt, 32); }
inline bool IsI64(const DLTensor& t) { return IsType(t, kDLInt, 64); }
inline bool IsBool(const DLTensor& t) { return IsType(t, ANVIL_DL_BOOL, 8); }
inline bool SameDType(const DLTensor& a, const DLTensor& b) {
  return a.dtype.code == b.dtype.code && a.dtype.bits == b.dtype.bits && a.dtype.lanes == b.dtype.lanes;
}

// Short dtype name for messages: "f32", "bf16", "i64", "bool", ... ("?" if unknown).
inline const char* DTypeName(DLDataType t) {
  if (t.lanes != 1) return "?";
  if (t.code == kDLFloat) return t.bits == 16 ? "f16" : t.bits == 32 ? "f32" : t.bits == 64 ? "f64" : "?";
  if (t.code == kDLBfloat) return t.bits == 16 ? "bf16" : "?";
  if (t.code == ANVIL_DL_BOOL) return "bool";
  static const char* const kInt[] = {"i8", "i16", "i32", "i64"};
  static const char* const kUInt[] = {"u8", "u16", "u32", "u64"};
  const int i = t.bits == 8 ? 0 : t.bits == 16 ? 1 : t.bits == 32 ? 2 : t.bits == 64 ? 3 : -1;
  if (i < 0 || (t.code != kDLInt && t.code != kDLUInt)) return "?";
  return t.code == kDLInt ? kInt[i] : kUInt[i];
}

// ---- shapes, strides, pointers -----------------------------------------------

// Number of elements (1 for a 0-d tensor, 0 when any dim is 0).
inline int64_t Numel(const DLTensor& t) {
  int64_t n = 1;
  for (int d = 0; d < t.ndim; ++d) n *= t.shape[d];
  return n;
}

// True when the strides are row-major dense (dims of size 1 may have any stride).
inline bool IsContiguous(const DLTensor& t) {
  if (t.strides == nullptr) return true;
  int64_t expected = 1;
  for (int d = t.ndim - 1; d >= 0; --d) {
    if (t.shape[d] != 1 && t.strides[d] != expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

// Element offset of the element with row-major linear index `linear`, using
// the tensor's strides (NULL strides mean contiguous). Works for transposed,
// strided and stride-0 (broadcast) tensors.
inline int64_t StridedOffset(const DLTensor& t, int64_t linear) {
  if (t.strides == nullptr) return linear;
  int64_t offset = 0;
  for (int d = t.ndim - 1; d >= 0 && linear != 0; --d) {
    const int64_t size = t.shape[d];
    offset += (linear % size) * t.strides[d];
    linear /= size;
  }
  return offset;
}

// Stride of dim `d` in elements (the row-major stride when strides is NULL).
inline int64_t Stride(const DLTensor& t, int d) {
  if (t.strides != nullptr) return t.strides[d];
  int64_t s = 1;
  for (int k = t.ndim - 1; k > d; --k) s *= t.shape[k];
  return s;
}

// Typed base pointer (byte_offset applied).
template <class T> inline T* DataPtr(const DLTensor& t) {
  return reinterpret_cast<T*>(static_cast<char*>(t.data) + t.byte_offset);
}

// ---- call helpers ---------------------------------------------------------------

// printf-style message into call->error, truncated to error_capacity and
// always NUL-terminated; does nothing when there is no buffer.
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
inline void SetError(const AnvilCall* call, const char* fmt, ...) {
  if (call == nullptr || call->error == nullptr || call->error_capacity == 0) return;
  va_list args;
  va_start(args, fmt);
  vsnprintf(call->error, call->error_capacity, fmt, args);
  va_end(args);
  call->error[call->error_capacity - 1] = '\0';
}

// The attribute called `name`, or NULL.
inline const AnvilAttr* FindAttr(const AnvilCall* call, const char* name) {
  for (int32_t i = 0; i < call->num_attrs; ++i) {
    if (call->attrs[i].name != nullptr && strcmp(call->attrs[i].name, name) == 0) return &call->attrs[i];
  }
  return nullptr;
}

}  // namespace anvil

#endif  // ANVIL_ABI_HELPERS_H_
