// Type and shape inference for one IR node from its operands' types; the
// rules are stated at the top of ir.h and the per-op data in op_catalog.h.
// The builder uses it while building and Verify re-runs it on a whole graph,
// so both always agree.
//
// Errors are InvalidInput without a location prefix (the caller adds
// "formula:L:C: "). Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "formula/ir.h"

namespace anvil::formula {

struct ValueType {
  DType dtype = DType::kF32;
  SymShape shape;
  bool is_scalar = false;
};

// NumPy/PyTorch broadcasting of two symbolic shapes; labels name the operands
// in the error: "cannot broadcast 'x' [B, N] with 'y' [M]: dim N vs M".
Result<SymShape> Broadcast(const SymShape& a, const std::string& label_a, const SymShape& b,
                           const std::string& label_b);

// torch.result_type over elementwise operands (tiers: rank >= 1, rank 0,
// scalars); `all scalars` gives Python semantics (f64/i64/bool).
DType PromoteOperands(const std::vector<ValueType>& operands);

// Infers dtype, shape and is_scalar of a non-leaf node. `labels[i]` names
// operand i for messages (e.g. "'x'" or "'sigmoid(...)'").
Result<ValueType> InferNode(const Node& n, const std::vector<ValueType>& operands,
                            const std::vector<std::string>& labels);

}  // namespace anvil::formula
