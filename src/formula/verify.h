// Verify: checks the invariants of a Graph (ir.h) — operands precede their
// users, operand counts match the catalog, every node's dtype, shape and
// is_scalar equal what InferNode derives from its operands, leaves match the
// input/attribute declarations, attributes are well formed (dims, gelu mode,
// float params), and outputs exist, are tensors and carry their node's type.
// Compile runs it on every graph; later passes (lowering) should run it on
// their results.
//
// Failure: an Internal Status naming the node ("%3: ..."), since graphs are
// built by code, not by users. Thread-safety: pure function.
#pragma once

#include "formula/ir.h"

namespace anvil::formula {

Status Verify(const Graph& g);

}  // namespace anvil::formula
