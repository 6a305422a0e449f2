// BuildGraph: syntax tree -> typed Graph. Resolves names (inputs, attributes,
// earlier assignments), binds call arguments against the op catalog, lowers
// operators and sugar (clamp, max/min, x.float() ...) to catalog ops, and
// infers every node's dtype and shape (infer.h).
//
// Rules it enforces (each an InvalidInput "formula:L:C: ..."): names are
// assigned once; inputs and attributes cannot be assigned; every declared
// input and attribute is used; every assigned name is used or is an output;
// every output is assigned and depends on an input tensor.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "formula/ast.h"
#include "formula/ir.h"

namespace anvil::formula {

Result<Graph> BuildGraph(const Program& program, const std::vector<InputDecl>& inputs,
                         const std::vector<AttrDecl>& attrs, const std::vector<std::string>& output_names);

}  // namespace anvil::formula
