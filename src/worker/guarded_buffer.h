// Guarded CPU tensors: the memory the worker hands to candidate kernels.
//
// Each allocation is its own mmap region laid out as
//
//   [guard page, PROT_NONE][slack | data | pad][guard page, PROT_NONE]
//
// The data start is 64-byte aligned and placed so that the data ends as close
// as possible to the trailing guard page: `pad` is 0..63 bytes. Slack and pad
// are filled with a canary pattern. A candidate that reads or writes well past
// either end hits a guard page and dies with SIGSEGV (a "crash" verdict); a
// small overrun lands in the pad or slack and CheckGuards reports it.
//
// Ownership: the returned tensor owns the mapping; it is unmapped when the
// last tensor (or view) sharing the storage is destroyed. Thread-safety: the
// functions are reentrant; a tensor is used by one thread at a time.
// Failure: mmap/mprotect failure (address space or memory limit) throws
// c10::Error, as at::empty does when it runs out of memory; the worker catches
// LibTorch errors at its boundary.
#pragma once

#include <string>

#include <ATen/ATen.h>

#include "util/status.h"

namespace anvil::worker {

// A CPU tensor of `dtype` with `sizes` and `strides` (in elements, storage
// offset 0) whose storage is a fresh guarded allocation of `storage_elements`
// elements (at least the span the view needs; checked). The contents are
// unspecified (zero pages): call Poison or copy values in.
at::Tensor AllocateGuarded(at::ScalarType dtype, at::IntArrayRef sizes, at::IntArrayRef strides,
                           int64_t storage_elements);

// Fills every byte of the tensor's storage (not only the viewed elements)
// with the poison pattern, so elements a candidate does not write are
// recognisable and fail comparison:
//   f64 0x7FFA5A5A5A5A5A5A, f32 0x7FDA5A5A, bf16 0x7FDA, f16 0x7E5A: quiet
//   NaNs with a 0x5A payload; integer types: every byte 0x5A; bool: the byte
//   0x5A (neither false nor true, so it is detectable).
// Works on any CPU tensor with its own storage, guarded or not.
void Poison(const at::Tensor& t);

// True when the element at `element` (one element of `dtype`) holds the poison
// pattern: an output element the candidate never wrote. For integer types the
// pattern is also an ordinary value, so this is a hint there, not proof.
bool IsPoisonElement(const void* element, at::ScalarType dtype);

// True when the tensor's storage comes from AllocateGuarded.
bool IsGuarded(const at::Tensor& t);

// Ok when the canary bytes before and after the data are intact; otherwise an
// InvalidInput error "wrote N bytes past the end of <what>" or "wrote N bytes
// before the start of <what>" (N: distance of the farthest changed byte from
// the data). `what` names the tensor, e.g. "output 'y'". A non-guarded tensor
// is an InternalError (the worker's bug).
Status CheckGuards(const at::Tensor& t, const std::string& what);

}  // namespace anvil::worker
