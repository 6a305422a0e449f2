// Op kinds: a task described by the kinds of computation its reference does,
// for searching proven kernels (store: proven_kernels.op_kinds, `anvil
// search --op KIND`) and for telling a model what kind of kernel it writes.
//
// The kinds, each present when the formula (any dtype variant) has one
// tensor node of that sort (scalar arithmetic on attributes does not count):
//   elementwise  unary, binary, where and cast ops
//   reduction    sum, mean, var, std, prod, amax, amin, logsumexp, argmax, argmin
//   index        a result that is an index (argmax, argmin)
//   softmax      softmax, log_softmax
//   norm         tensor data scaled (multiplied or divided) by a square root
//                of a statistic: sqrt / rsqrt of a value computed through a
//                sum, mean or var reduction, or a std, e.g. (x - mean) * rstd,
//                x * rsqrt(mean(x*x) + eps), x / sqrt(sum(x*x)): layer norm,
//                RMS norm, L2 normalisation. A heuristic: the catalog has no
//                norm op; a root alone (a vector norm, std) is a reduction,
//                and a norm whose statistics are inputs (batch norm at
//                inference) is elementwise only.
//   matmul       matmul, mm, bmm, @
// A task whose reference is a PyTorch module has no formula to read: {"module"}.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "task/task.h"

namespace anvil {

// The kinds above that occur in `task`, in the order listed there. Empty
// only for a formula task that does not compile (a loaded task always does).
std::vector<std::string> OpKinds(const Task& task);

}  // namespace anvil
