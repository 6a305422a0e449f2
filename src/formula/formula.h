// The formula front end's facade: source text + declarations -> a verified,
// typed Graph (ir.h states the semantics; docs/formula.md is the language
// reference for users).
//
// Errors: every problem in the formula is an InvalidInput Status whose message
// starts with "formula:LINE:COL: " and says what was expected. A failure of
// Verify on a built graph is an Internal Status (our bug).
// Thread-safety: pure function; the returned Graph is an immutable value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "formula/ir.h"
#include "formula/verify.h"

namespace anvil::formula {

// Parses, infers dtypes/shapes, verifies. `output_names` in the order the task
// declares them; graph outputs follow that order.
Result<Graph> Compile(std::string_view source, const std::vector<InputDecl>& inputs,
                      const std::vector<AttrDecl>& attrs, const std::vector<std::string>& output_names);

}  // namespace anvil::formula
