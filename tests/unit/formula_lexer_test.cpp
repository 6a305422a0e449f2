// Tokenizer: kinds, spellings, 1-based positions, and error messages.
#include "formula/lexer.h"

#include <gtest/gtest.h>

namespace anvil::formula {
namespace {

std::string Kinds(const std::vector<Token>& toks) {
  std::string s;
  for (const Token& t : toks) {
    switch (t.kind) {
      case TokenKind::kName: s += "N(" + t.text + ")"; break;
      case TokenKind::kInt: s += "I(" + t.text + ")"; break;
      case TokenKind::kFloat: s += "F(" + t.text + ")"; break;
      case TokenKind::kString: s += "S(" + t.text + ")"; break;
      case TokenKind::kOp: s += "O(" + t.text + ")"; break;
      case TokenKind::kNewline: s += "NL"; break;
      case TokenKind::kEnd: s += "END"; break;
    }
    s += " ";
  }
  return s;
}

TEST(FormulaLexer, TokenKindsAndLongestOperators) {
  auto t = Tokenize("y = x**2 // 3 <= a != b @ c");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Kinds(*t), "N(y) O(=) N(x) O(**) I(2) O(//) I(3) O(<=) N(a) O(!=) N(b) O(@) N(c) END ");
}

TEST(FormulaLexer, NumberForms) {
  auto t = Tokenize("1e-5 .5 2. 10 3E+2 0.25");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Kinds(*t), "F(1e-5) F(.5) F(2.) I(10) F(3E+2) F(0.25) END ");
}

TEST(FormulaLexer, StatementsCommentsAndBrackets) {
  auto t = Tokenize("a = (x +\n 1)  # c\nb = [0,\n1]; c = 'tanh'");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Kinds(*t),
            "N(a) O(=) O(() N(x) O(+) I(1) O()) NL N(b) O(=) O([) I(0) O(,) I(1) O(]) NL N(c) O(=) S(tanh) END ");
}

TEST(FormulaLexer, PositionsAreOneBased) {
  auto t = Tokenize("a = 1\n  bb = c");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)[0].loc.ToString(), "1:1");
  EXPECT_EQ((*t)[2].loc.ToString(), "1:5");
  EXPECT_EQ((*t)[4].loc.ToString(), "2:3");  // bb
  EXPECT_EQ((*t)[6].loc.ToString(), "2:8");  // c
  EXPECT_EQ(t->back().loc.ToString(), "2:9");
}

TEST(FormulaLexer, Errors) {
  EXPECT_EQ(Tokenize("a = b ? c").status().message(), "formula:1:7: unexpected character '?'");
  EXPECT_EQ(Tokenize("a = 'x").status().message(), "formula:1:5: unterminated string; expected a closing '");
  EXPECT_EQ(Tokenize("a = 1e").status().message(), "formula:1:6: malformed number exponent; expected digits after 'e'");
  EXPECT_EQ(Tokenize("a = 12abc").status().message(), "formula:1:7: unexpected 'a' after number 12");
  EXPECT_EQ(Tokenize("a = f(x;\n)").status().message(), "formula:1:8: ';' inside brackets; close the bracket first");
  EXPECT_EQ(Tokenize("a = b ? c").status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace anvil::formula
