// Parser: tokens -> syntax tree (ast.h), with Python's operator precedence:
//   lowest   comparisons  < <= > >= == !=   (one per expression; chains are rejected)
//            |   then  ^   then  &
//            + -
//            * / // % @
//            unary - + ~
//   highest  **  (right associative; `-x**2` is `-(x**2)`, `2**-1` is allowed)
//            calls, method calls x.f(...), parentheses, tuples/lists
// Errors: InvalidInput "formula:L:C: expected ..., found ...".
// Thread-safety: pure function.
#pragma once

#include <string_view>

#include "formula/ast.h"
#include "util/status.h"

namespace anvil::formula {

Result<Program> Parse(std::string_view source);

}  // namespace anvil::formula
