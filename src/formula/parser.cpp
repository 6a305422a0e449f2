#include "formula/parser.h"

#include <cerrno>
#include <cstdlib>

namespace anvil::formula {
namespace {

bool IsComparison(const std::string& op) {
  return op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<Program> Run() {
    Program program;
    while (true) {
      while (Cur().kind == TokenKind::kNewline) ++pos_;
      if (Cur().kind == TokenKind::kEnd) break;
      ANVIL_ASSIGN_OR_RETURN(Statement st, ParseStatement());
      program.statements.push_back(std::move(st));
    }
    program.end = Cur().loc;
    if (program.statements.empty())
      return ErrorAt(Cur().loc, "the formula is empty; expected at least one assignment like 'out = x * 2'");
    return program;
  }

 private:
  const Token& Cur() const { return toks_[pos_]; }
  const Token& Next() const { return toks_[pos_ + 1 < toks_.size() ? pos_ + 1 : pos_]; }
  bool IsOp(const char* op) const { return Cur().kind == TokenKind::kOp && Cur().text == op; }

  Status Expected(const std::string& what) const {
    return ErrorAt(Cur().loc, "expected " + what + ", found " + Describe(Cur()));
  }

  Result<Statement> ParseStatement() {
    if (Cur().kind != TokenKind::kName || !(Next().kind == TokenKind::kOp && Next().text == "=")) {
      if (Cur().kind == TokenKind::kName && Next().kind == TokenKind::kOp && Next().text == "==")
        return ErrorAt(Next().loc, "expected '=' to assign '" + Cur().text + "', found '=='");
      return Expected("an assignment like 'out = <expression>'");
    }
    Statement st;
    st.target = Cur().text;
    st.loc = Cur().loc;
    pos_ += 2;
    ANVIL_ASSIGN_OR_RETURN(st.value, ParseExpr());
    if (Cur().kind != TokenKind::kNewline && Cur().kind != TokenKind::kEnd)
      return Expected("an operator or the end of the statement");
    return st;
  }

  static ExprPtr MakeBinary(std::string op, SourceLoc loc, ExprPtr a, ExprPtr b) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->text = std::move(op);
    e->loc = loc;
    e->children.push_back(std::move(a));
    e->children.push_back(std::move(b));
    return e;
  }

  Result<ExprPtr> ParseExpr() {
    ANVIL_ASSIGN_OR_RETURN(ExprPtr lhs, ParseBinaryLevel(0));
    if (Cur().kind == TokenKind::kOp && IsComparison(Cur().text)) {
      Token op = Cur();
      ++pos_;
      ANVIL_ASSIGN_OR_RETURN(ExprPtr rhs, ParseBinaryLevel(0));
      if (Cur().kind == TokenKind::kOp && IsComparison(Cur().text))
        return ErrorAt(Cur().loc, "chained comparison ('a " + op.text + " b " + Cur().text +
                                      " c') is not supported; write '(a " + op.text + " b) & (b " + Cur().text +
                                      " c)'");
      lhs = MakeBinary(op.text, op.loc, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  // Left-associative binary levels, loosest first: | ^ & (+ -) (* / // % @).
  Result<ExprPtr> ParseBinaryLevel(int level) {
    static const std::vector<std::vector<std::string>> kLevels = {
        {"|"}, {"^"}, {"&"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
    if (level == static_cast<int>(kLevels.size())) return ParseUnary();
    ANVIL_ASSIGN_OR_RETURN(ExprPtr lhs, ParseBinaryLevel(level + 1));
    while (Cur().kind == TokenKind::kOp) {
      bool match = false;
      for (const auto& op : kLevels[level]) match = match || Cur().text == op;
      if (!match) break;
      Token op = Cur();
      ++pos_;
      ANVIL_ASSIGN_OR_RETURN(ExprPtr rhs, ParseBinaryLevel(level + 1));
      lhs = MakeBinary(op.text, op.loc, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  Result<ExprPtr> ParseUnary() {
    if (IsOp("-") || IsOp("+") || IsOp("~")) {
      Token op = Cur();
      ++pos_;
      ANVIL_ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary());
      // Fold a sign into a number literal so that "-1" is a literal (dims, kwargs).
      if (op.text != "~" && (operand->kind == Expr::Kind::kInt || operand->kind == Expr::Kind::kFloat)) {
        if (op.text == "-") {
          operand->int_value = -operand->int_value;
          operand->float_value = -operand->float_value;
        }
        operand->loc = op.loc;
        return operand;
      }
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kUnary;
      e->text = op.text;
      e->loc = op.loc;
      e->children.push_back(std::move(operand));
      return e;
    }
    return ParsePower();
  }

  Result<ExprPtr> ParsePower() {
    ANVIL_ASSIGN_OR_RETURN(ExprPtr base, ParsePostfix());
    if (IsOp("**")) {
      Token op = Cur();
      ++pos_;
      ANVIL_ASSIGN_OR_RETURN(ExprPtr exponent, ParseUnary());
      return MakeBinary("**", op.loc, std::move(base), std::move(exponent));
    }
    return base;
  }

  Result<ExprPtr> ParsePostfix() {
    ANVIL_ASSIGN_OR_RETURN(ExprPtr e, ParsePrimary());
    while (IsOp(".")) {
      ++pos_;
      if (Cur().kind != TokenKind::kName) return Expected("a method name after '.'");
      Token name = Cur();
      ++pos_;
      // torch.float16 and friends: a dotted name, resolved where a dtype is expected.
      if (!IsOp("(") && e->kind == Expr::Kind::kName && e->text == "torch") {
        e->text += "." + name.text;
        continue;
      }
      if (!IsOp("("))
        return ErrorAt(name.loc, "'." + name.text + "' is not supported; only method calls like x." + name.text +
                                     "(...) are");
      auto call = std::make_unique<Expr>();
      call->kind = Expr::Kind::kCall;
      call->text = name.text;
      call->loc = name.loc;
      call->method_call = true;
      SourceLoc receiver_loc = e->loc;
      call->args.push_back(Arg{"", receiver_loc, std::move(e)});
      ANVIL_RETURN_IF_ERROR(ParseArgs(*call));
      e = std::move(call);
    }
    return e;
  }

  // After the name; consumes "( args )".
  Status ParseArgs(Expr& call) {
    SourceLoc open = Cur().loc;
    ++pos_;  // '('
    bool seen_keyword = false;
    while (!IsOp(")")) {
      Arg arg;
      arg.loc = Cur().loc;
      if (Cur().kind == TokenKind::kName && Next().kind == TokenKind::kOp && Next().text == "=") {
        arg.keyword = Cur().text;
        pos_ += 2;
        seen_keyword = true;
      } else if (seen_keyword) {
        return ErrorAt(Cur().loc, "positional argument after a keyword argument in call to '" + call.text + "'");
      }
      ANVIL_ASSIGN_OR_RETURN(arg.value, ParseExpr());
      call.args.push_back(std::move(arg));
      if (IsOp(",")) {
        ++pos_;
        continue;
      }
      if (!IsOp(")")) return Expected("')' to close '(' opened at " + open.ToString());
    }
    ++pos_;  // ')'
    return Status::Ok();
  }

  Result<ExprPtr> ParsePrimary() {
    const Token& t = Cur();
    auto e = std::make_unique<Expr>();
    e->loc = t.loc;
    switch (t.kind) {
      case TokenKind::kInt: {
        errno = 0;
        long long v = std::strtoll(t.text.c_str(), nullptr, 10);
        if (errno == ERANGE) return ErrorAt(t.loc, "integer literal " + t.text + " does not fit in 64 bits");
        e->kind = Expr::Kind::kInt;
        e->int_value = v;
        e->float_value = static_cast<double>(v);
        ++pos_;
        return e;
      }
      case TokenKind::kFloat:
        e->kind = Expr::Kind::kFloat;
        e->float_value = std::strtod(t.text.c_str(), nullptr);
        ++pos_;
        return e;
      case TokenKind::kString:
        e->kind = Expr::Kind::kString;
        e->text = t.text;
        ++pos_;
        return e;
      case TokenKind::kName:
        ++pos_;
        if (t.text == "True" || t.text == "False") {
          e->kind = Expr::Kind::kBool;
          e->bool_value = t.text == "True";
          return e;
        }
        if (t.text == "None") {
          e->kind = Expr::Kind::kNone;
          return e;
        }
        e->text = t.text;
        if (IsOp("(")) {
          e->kind = Expr::Kind::kCall;
          ANVIL_RETURN_IF_ERROR(ParseArgs(*e));
          return e;
        }
        e->kind = Expr::Kind::kName;
        return e;
      case TokenKind::kOp:
        if (t.text == "(" || t.text == "[") return ParseGroup();
        return Expected("an expression");
      case TokenKind::kNewline:
      case TokenKind::kEnd:
        return Expected("an expression");
    }
    return Expected("an expression");
  }

  // "( expr )", "( a, b, ... )" or "[ a, b, ... ]".
  Result<ExprPtr> ParseGroup() {
    Token open = Cur();
    std::string close = open.text == "(" ? ")" : "]";
    ++pos_;
    auto list = std::make_unique<Expr>();
    list->kind = Expr::Kind::kList;
    list->loc = open.loc;
    bool trailing_comma = false;
    while (!IsOp(close.c_str())) {
      ANVIL_ASSIGN_OR_RETURN(ExprPtr item, ParseExpr());
      list->children.push_back(std::move(item));
      trailing_comma = false;
      if (IsOp(",")) {
        ++pos_;
        trailing_comma = true;
        continue;
      }
      if (!IsOp(close.c_str()))
        return Expected("'" + close + "' to close '" + open.text + "' opened at " + open.loc.ToString());
    }
    ++pos_;
    if (open.text == "(" && list->children.size() == 1 && !trailing_comma) return std::move(list->children[0]);
    if (open.text == "(" && list->children.empty()) return ErrorAt(open.loc, "empty parentheses '()'; expected an expression");
    return list;
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

Result<Program> Parse(std::string_view source) {
  ANVIL_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source));
  return Parser(std::move(tokens)).Run();
}

}  // namespace anvil::formula
