// Syntax tree of a formula, as written (before names, types and shapes are
// resolved). Produced by Parse (parser.h), consumed by BuildGraph (builder.h).
//
// Ownership: each Expr owns its children. Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formula/lexer.h"

namespace anvil::formula {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// One call argument: positional when `keyword` is empty.
struct Arg {
  std::string keyword;
  SourceLoc loc;  // of the keyword, or of the value when positional
  ExprPtr value;
};

struct Expr {
  enum class Kind {
    kInt,     // int_value
    kFloat,   // float_value
    kBool,    // True / False: bool_value
    kNone,    // None
    kString,  // text
    kName,    // text
    kUnary,   // text = "-", "+", "~"; children[0]
    kBinary,  // text = operator spelling; children[0], children[1]
    kCall,    // text = function name; args (a method call x.f(a) has x as first positional arg)
    kList,    // (a, b) or [a, b]: children
  };
  Kind kind;
  SourceLoc loc;  // first character of the expression (the operator for kBinary)
  std::string text;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  bool method_call = false;  // kCall written as receiver.name(...)
  std::vector<ExprPtr> children;
  std::vector<Arg> args;
};

struct Statement {
  std::string target;
  SourceLoc loc;  // of the target name
  ExprPtr value;
};

struct Program {
  std::vector<Statement> statements;
  SourceLoc end;  // just past the last character, for "never assigned" style messages
};

}  // namespace anvil::formula
