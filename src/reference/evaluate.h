// The LibTorch reference: evaluates a formula Graph (formula/ir.h) with ATen.
//
// Three precisions:
//  - kUpcast64 (the correctness reference): floating inputs are converted to
//    f64 and every floating intermediate is computed in f64; an explicit cast
//    in the formula to a lower floating type rounds through that type and then
//    continues in f64; integer and bool nodes keep their dtypes. Each output
//    is finally cast to its graph dtype.
//  - kNative (the "PyTorch eager" timing baseline): every op runs in the
//    graph's own dtypes, exactly as PyTorch eager runs the formula (f16 input
//    -> f16 ops with PyTorch's own internal accumulation).
//  - kUpcast32: like kUpcast64 but f16/bf16/f32 values are computed in f32
//    (f64 stays f64): what a PyTorch user does where LibTorch has no CPU
//    kernel for a half type (LibTorch 1.13 lacks f16 softmax and gelu on CPU),
//    and what the verifier uses to measure how far an honest f32-compute
//    implementation lands from the f64 reference.
// Scalars (attributes, literals) are passed to ATen as wrapped numbers, the
// way Python numbers are, so promotion matches eager PyTorch.
//
// Inputs: one at::Tensor (CPU or CUDA, all on one device) per graph input in declaration order, any
// strides, dtype and rank as declared; symbol sizes are read from the inputs
// and must agree ("B is 3 in 'x' but 4 in 'y'"). Attrs: one ScalarValue per
// attribute in declaration order.
// Returns outputs in graph output order, each with the graph's dtype and the
// concrete shape; outputs are fresh tensors (never aliases of the inputs).
//
// Failure: InvalidInput for mismatched inputs; an ATen error (c10::Error) is
// caught and returned as Unsupported with ATen's message (e.g. an op without
// an f16 CPU kernel in kNative); Internal if ATen's result dtype or shape
// disagrees with the graph (a bug in inference or here).
// Thread-safety: reentrant; ATen may use its intra-op thread pool.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "core/scalar.h"
#include "formula/ir.h"
#include "util/status.h"

namespace anvil::reference {

enum class Precision { kUpcast64, kNative, kUpcast32 };

Result<std::vector<at::Tensor>> Evaluate(const formula::Graph& g, const std::vector<at::Tensor>& inputs,
                                         const std::vector<ScalarValue>& attrs, Precision precision);

// ATen's scalar type for a DType, and back (nullopt for types Anvil lacks).
at::ScalarType ToAten(DType t);
std::optional<DType> FromAten(at::ScalarType t);

}  // namespace anvil::reference
