// Formula IR -> the source of a plain Python function over torch tensors.
//
// Why: the GPU worker times a `torch.compile` baseline of each formula task.
// That baseline must compute what the native-precision ("eager") reference
// computes (reference::Evaluate with Precision::kNative, src/reference/
// evaluate.cpp): the same ATen ops, in the graph's own dtypes, with the same
// explicit operand conversions and the same scalar promotion.
//
// The emitted text:
//   import torch
//
//
//   def anvil_formula(x, w, eps):      # graph inputs, then graph attrs, in declaration order
//       t0 = x                          # one SSA line per IR node, named t<node id>
//       t2 = float(eps)                 # attrs arrive as Python numbers; normalised to the
//       ...                             #   declared category (float / int / bool)
//       return (t7,)                    # outputs in graph output order, always a tuple
//
// How the reference's semantics are kept:
//  - Scalar nodes (attributes, literals and nodes computed only from them) are
//    Python numbers. A computed scalar is evaluated like the reference does:
//    on 0-dim CPU tensors of f64/i64/bool, then `.item()`. All scalar lines come
//    first, so torch.compile breaks the graph (at `.item()`) at most once,
//    before any tensor work.
//  - A scalar operand of add/sub/mul/div/floor-divide, a comparison or a
//    bitwise op is passed as a Python number: PyTorch wraps it exactly as the
//    reference does (C++ at::Tensor "wrapped number"). For the other ops
//    (maximum, pow, where, logical_and, clamp_min, ...) Python has no way to
//    pass a wrapped number, so the scalar becomes a 0-dim tensor of the op's
//    common dtype, which gives the same result dtype and, on CPU, the same
//    kernel and the same bits (ATen converts a wrapped scalar to the common
//    dtype before those kernels run).
//  - Conversions the reference makes explicit (integer operands of float-only
//    ops such as exp or softmax, where() values) are written as `.to(dtype)`.
//  - An output that would alias an input (`out = x`) is cloned, as the
//    reference never returns input storage.
//
// Errors: InvalidInput when an input or attribute name cannot be a Python
// parameter (not an identifier, a Python keyword, or `torch`); Unsupported
// naming the op for an op without an emission rule (none today: every catalog
// op is emitted).
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "formula/ir.h"
#include "util/status.h"

namespace anvil::formula {

struct PythonFunction {
  std::string source;               // a complete module: `import torch` and one `def`
  std::string name;                 // the function's name in `source`
  std::vector<std::string> params;  // graph input names, then attribute names
};

// `name` must be a Python identifier (InvalidInput otherwise).
Result<PythonFunction> EmitPython(const Graph& graph, const std::string& name = "anvil_formula");

// The Python spelling of a torch dtype ("torch.float16").
std::string TorchDTypeName(DType t);

// A Python literal that reads back as exactly this value: "0.1", "2.0",
// "float('inf')", "-3", "True". Floating dtypes print as float literals.
std::string PythonLiteral(const ScalarValue& v);

}  // namespace anvil::formula
