// Lexer for the formula language: source text -> tokens with 1-based
// line:column positions.
//
// Newlines end statements, except inside brackets (like Python's implicit
// line joining); `;` also ends a statement. `#` starts a comment to the end of
// the line. Errors are InvalidInput Statuses naming "formula:L:C".
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace anvil::formula {

struct SourceLoc {
  int line = 1;
  int column = 1;
  std::string ToString() const { return std::to_string(line) + ":" + std::to_string(column); }
};

// "formula:3:7: <message>" as an InvalidInput Status.
Status ErrorAt(SourceLoc loc, const std::string& message);

enum class TokenKind {
  kName,
  kInt,
  kFloat,
  kString,
  kOp,       // operators and punctuation: + - * / // % ** @ < <= ... ( ) [ ] , = . ~ & | ^
  kNewline,  // statement end: a newline outside brackets or ';'
  kEnd,
};

struct Token {
  TokenKind kind;
  std::string text;  // operator spelling, name, literal digits, or string contents
  SourceLoc loc;
};

// Describes a token for "found ..." in error messages: "')'", "name 'x'", "end of input".
std::string Describe(const Token& t);

// Tokenizes `source`; the result always ends with one kEnd token.
Result<std::vector<Token>> Tokenize(std::string_view source);

}  // namespace anvil::formula
