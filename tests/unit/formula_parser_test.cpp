// Parser: Python precedence and associativity, literal folding, calls,
// and syntax errors with exact positions.
#include "formula/parser.h"

#include <gtest/gtest.h>

namespace anvil::formula {
namespace {

// Fully parenthesised rendering of the tree.
std::string Show(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kInt: return std::to_string(e.int_value);
    case Expr::Kind::kFloat: return "f" + std::to_string(e.float_value).substr(0, 4);
    case Expr::Kind::kBool: return e.bool_value ? "True" : "False";
    case Expr::Kind::kNone: return "None";
    case Expr::Kind::kString: return "'" + e.text + "'";
    case Expr::Kind::kName: return e.text;
    case Expr::Kind::kUnary: return "(" + e.text + Show(*e.children[0]) + ")";
    case Expr::Kind::kBinary: return "(" + Show(*e.children[0]) + " " + e.text + " " + Show(*e.children[1]) + ")";
    case Expr::Kind::kCall: {
      std::string s = (e.method_call ? "." : "") + e.text + "(";
      for (size_t i = 0; i < e.args.size(); ++i)
        s += (i ? ", " : "") + (e.args[i].keyword.empty() ? "" : e.args[i].keyword + "=") + Show(*e.args[i].value);
      return s + ")";
    }
    case Expr::Kind::kList: {
      std::string s = "[";
      for (size_t i = 0; i < e.children.size(); ++i) s += (i ? ", " : "") + Show(*e.children[i]);
      return s + "]";
    }
  }
  return "?";
}

std::string P(const std::string& expr) {
  auto p = Parse("y = " + expr);
  if (!p.ok()) return p.status().message();
  return Show(*p->statements.at(0).value);
}

TEST(FormulaParser, ArithmeticPrecedenceAndAssociativity) {
  EXPECT_EQ(P("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(P("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(P("a / b // c % d @ e"), "((((a / b) // c) % d) @ e)");
  EXPECT_EQ(P("a ** b ** c"), "(a ** (b ** c))");
  EXPECT_EQ(P("-a ** 2"), "(-(a ** 2))");
  EXPECT_EQ(P("a ** -b"), "(a ** (-b))");
  EXPECT_EQ(P("-a * b"), "((-a) * b)");
  EXPECT_EQ(P("~a + +b"), "((~a) + (+b))");
}

TEST(FormulaParser, BitwiseAndComparisonLevelsFollowPython) {
  EXPECT_EQ(P("a | b ^ c & d"), "(a | (b ^ (c & d)))");
  EXPECT_EQ(P("a & b + c"), "(a & (b + c))");
  EXPECT_EQ(P("x > 0 & y"), "(x > (0 & y))");  // Python's precedence, not C's
  EXPECT_EQ(P("(x > 0) & (y < 1)"), "((x > 0) & (y < 1))");
  EXPECT_EQ(P("a + b == c * d"), "((a + b) == (c * d))");
}

TEST(FormulaParser, LiteralsFoldSigns) {
  EXPECT_EQ(P("-1"), "-1");
  EXPECT_EQ(P("-2.5 + True"), "(f-2.5 + True)");
  EXPECT_EQ(P("-2 ** 2"), "(-(2 ** 2))");  // the sign applies to the power, as in Python
}

TEST(FormulaParser, CallsMethodsAndLists) {
  EXPECT_EQ(P("sum(x, (0, 1), keepdim=True)"), "sum(x, [0, 1], keepdim=True)");
  EXPECT_EQ(P("x.sum(-1).exp()"), ".exp(.sum(x, -1))");
  EXPECT_EQ(P("f(x, [1], None, 'tanh')"), "f(x, [1], None, 'tanh')");
  EXPECT_EQ(P("(x,)"), "[x]");
  EXPECT_EQ(P("(x)"), "x");
  EXPECT_EQ(P("x.to(torch.float16)"), ".to(x, torch.float16)");
}

TEST(FormulaParser, SeveralStatements) {
  auto p = Parse("a = 1; b = 2\n\n# comment\nc = a + b\n");
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->statements.size(), 3u);
  EXPECT_EQ(p->statements[2].target, "c");
  EXPECT_EQ(p->statements[2].loc.ToString(), "4:1");
}

TEST(FormulaParser, SyntaxErrors) {
  EXPECT_EQ(P("(x + 1"), "formula:1:11: expected ')' to close '(' opened at 1:5, found end of input");
  EXPECT_EQ(P("[1, 2"), "formula:1:10: expected ']' to close '[' opened at 1:5, found end of input");
  EXPECT_EQ(P("f(x,, y)"), "formula:1:9: expected an expression, found ','");
  EXPECT_EQ(P("f(dim=1, x)"), "formula:1:14: positional argument after a keyword argument in call to 'f'");
  EXPECT_EQ(P("a < b <= c"), "formula:1:11: chained comparison ('a < b <= c') is not supported; write '(a < b) & (b <= c)'");
  EXPECT_EQ(P("x."), "formula:1:7: expected a method name after '.', found end of input");
  EXPECT_EQ(P("()"), "formula:1:5: empty parentheses '()'; expected an expression");
  EXPECT_EQ(P("a +"), "formula:1:8: expected an expression, found end of input");
  EXPECT_EQ(P("99999999999999999999"), "formula:1:5: integer literal 99999999999999999999 does not fit in 64 bits");
  EXPECT_EQ(Parse("\n\n").status().message(),
            "formula:3:1: the formula is empty; expected at least one assignment like 'out = x * 2'");
}

}  // namespace
}  // namespace anvil::formula
