/*
 * anvil/kernel.h — the candidate ABI.
 *
 * Every C++ (CPU) and CUDA C++ candidate kernel is a shared object exporting
 * one C function:
 *
 *     ANVIL_EXPORT int anvil_kernel(const AnvilCall* call);
 *
 * The harness (anvil-worker) owns every buffer. It passes:
 *   - inputs, in the order the task declares them, as DLPack DLTensors. They
 *     may be non-contiguous (strides are in elements, never NULL), transposed,
 *     or broadcast (stride 0). byte_offset is always 0. Inputs are read-only
 *     unless the task declares the op in place.
 *   - outputs, in the order the task declares them, pre-allocated and
 *     contiguous (row-major strides, never NULL), filled with a poison pattern:
 *     the candidate must write every element. For an in-place task an output
 *     is the very tensor passed as the input it aliases.
 *   - view outputs (the task declares the output `view_of` an input, e.g.
 *     select, t, expand): no buffer. The DLTensor has data = NULL,
 *     byte_offset = 0, shape = the expected sizes, strides = a writable array
 *     of ndim int64 entries holding INT64_MIN, and the viewed input's dtype
 *     and device. The candidate sets data (and may set byte_offset) so that
 *     (char*)data + byte_offset is the view's first element inside that
 *     input's storage, and fills every stride (in elements). It copies and
 *     writes nothing. The harness checks that every element the view
 *     addresses lies inside the input's storage (else "wrong": not a view),
 *     that the strides (on dims of size > 1) and the start equal those of
 *     ATen's own view of the same input, and the values.
 *   - attributes (scalars such as eps or a temperature), in task order.
 *   - a stream: cudaStream_t for CUDA candidates, NULL on the CPU.
 *   - num_threads: the CPU threads the candidate may use (the reference is
 *     timed with the same count). OpenMP's default is already set to it.
 *
 * Return ANVIL_OK on success. On failure return another status and write a
 * NUL-terminated message into call->error (at most call->error_capacity bytes,
 * terminator included); the message is shown to the user verbatim.
 *
 * Rules a candidate must follow (the harness checks them; breaking one is a
 * "suspicious" verdict): compute the result itself (no PyTorch, no calls into
 * the process that hosts it), do not keep results between calls, do not write
 * to inputs, do not create processes, threads that outlive the call, files or
 * sockets. Candidates compile with no PyTorch header or library available.
 *
 * This header is C and C++ compatible and depends only on dlpack/dlpack.h.
 */
#ifndef ANVIL_KERNEL_H_
#define ANVIL_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ANVIL_ABI_VERSION 1

#if defined(_WIN32)
#define ANVIL_EXPORT __declspec(dllexport)
#else
#define ANVIL_EXPORT __attribute__((visibility("default")))
#endif

/* Status codes a candidate returns. */
enum AnvilStatus {
  ANVIL_OK = 0,
  ANVIL_ERROR_UNSUPPORTED = 1, /* e.g. a dtype or rank the kernel does not handle */
  ANVIL_ERROR_INVALID_ARGUMENT = 2,
  ANVIL_ERROR_OUT_OF_MEMORY = 3,
  ANVIL_ERROR_INTERNAL = 4
};

/* DLPack type code for bool (kDLBool in DLPack >= 0.8; older headers lack
 * the name). Bool tensors and attributes use {ANVIL_DL_BOOL, 8, 1}. */
#define ANVIL_DL_BOOL 6

/* The value of a scalar attribute. `dtype.code` tells which member is set:
 * kDLFloat -> f; kDLInt and ANVIL_DL_BOOL -> i (0 or 1 for bool). */
typedef struct AnvilAttr {
  const char* name;
  DLDataType dtype;
  union {
    double f;
    int64_t i;
  } value;
} AnvilAttr;

typedef struct AnvilCall {
  int32_t abi_version; /* ANVIL_ABI_VERSION of the harness */
  int32_t num_inputs;
  const DLTensor* inputs;
  int32_t num_outputs;
  DLTensor* outputs;
  int32_t num_attrs;
  const AnvilAttr* attrs;
  void* stream;        /* cudaStream_t on CUDA, NULL on CPU */
  int32_t num_threads; /* CPU threads the candidate may use */
  char* error;         /* message buffer for a non-OK return */
  size_t error_capacity;
} AnvilCall;

/* The entry point each candidate defines. */
typedef int (*AnvilKernelFn)(const AnvilCall* call);
#define ANVIL_KERNEL_SYMBOL "anvil_kernel"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ANVIL_KERNEL_H_ */
