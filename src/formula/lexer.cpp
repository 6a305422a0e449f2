#include "formula/lexer.h"

#include <array>
#include <cctype>

namespace anvil::formula {

Status ErrorAt(SourceLoc loc, const std::string& message) {
  return InvalidInput("formula:" + loc.ToString() + ": " + message);
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::kName: return "name '" + t.text + "'";
    case TokenKind::kInt:
    case TokenKind::kFloat: return "number " + t.text;
    case TokenKind::kString: return "string '" + t.text + "'";
    case TokenKind::kOp: return "'" + t.text + "'";
    case TokenKind::kNewline: return t.text == ";" ? "';'" : "end of line";
    case TokenKind::kEnd: return "end of input";
  }
  return "?";
}

namespace {

// Longest spellings first so "**" wins over "*".
constexpr std::array<std::string_view, 26> kOperators = {
    "**", "//", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "@", "<", ">",
    "(",  ")",  "[",  "]",  ",",  "=",  ".", "~", "&", "|", "^", ":"};

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    int depth = 0;  // bracket nesting: newlines inside brackets are whitespace
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      SourceLoc loc = Loc();
      if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') Advance();
      } else if (c == '\n' || c == ';') {
        if (depth == 0) out.push_back({TokenKind::kNewline, c == ';' ? ";" : "\n", loc});
        else if (c == ';') return ErrorAt(loc, "';' inside brackets; close the bracket first");
        Advance();
      } else if (c == ' ' || c == '\t' || c == '\r') {
        Advance();
      } else if (c == '\\' && Peek(1) == '\n') {
        Advance();
        Advance();
      } else if (IsNameStart(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && IsNameChar(src_[pos_])) Advance();
        out.push_back({TokenKind::kName, std::string(src_.substr(start, pos_ - start)), loc});
      } else if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) {
        ANVIL_ASSIGN_OR_RETURN(Token t, Number(loc));
        out.push_back(std::move(t));
      } else if (c == '\'' || c == '"') {
        ANVIL_ASSIGN_OR_RETURN(Token t, String(loc));
        out.push_back(std::move(t));
      } else {
        std::string_view rest = src_.substr(pos_);
        std::string_view op;
        for (auto cand : kOperators)
          if (rest.substr(0, cand.size()) == cand) {
            op = cand;
            break;
          }
        if (op.empty()) {
          std::string shown = std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : "\\x" + Hex(c);
          return ErrorAt(loc, "unexpected character '" + shown + "'");
        }
        if (op == "(" || op == "[") ++depth;
        if ((op == ")" || op == "]") && depth > 0) --depth;
        for (size_t i = 0; i < op.size(); ++i) Advance();
        out.push_back({TokenKind::kOp, std::string(op), loc});
      }
    }
    out.push_back({TokenKind::kEnd, "", Loc()});
    return out;
  }

 private:
  static std::string Hex(char c) {
    const char* digits = "0123456789abcdef";
    auto u = static_cast<unsigned char>(c);
    return {digits[u >> 4], digits[u & 15]};
  }
  char Peek(size_t ahead) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
  SourceLoc Loc() const { return {line_, column_}; }
  void Advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    ++pos_;
  }

  Result<Token> Number(SourceLoc loc) {
    size_t start = pos_;
    bool is_float = false;
    while (IsDigit(Peek(0))) Advance();
    if (Peek(0) == '.') {
      is_float = true;
      Advance();
      while (IsDigit(Peek(0))) Advance();
    }
    if (Peek(0) == 'e' || Peek(0) == 'E') {
      size_t save = pos_;
      SourceLoc save_loc = Loc();
      Advance();
      if (Peek(0) == '+' || Peek(0) == '-') Advance();
      if (!IsDigit(Peek(0))) {
        pos_ = save;
        line_ = save_loc.line;
        column_ = save_loc.column;
        return ErrorAt(Loc(), "malformed number exponent; expected digits after 'e'");
      }
      while (IsDigit(Peek(0))) Advance();
      is_float = true;
    }
    if (IsNameStart(Peek(0)))
      return ErrorAt(Loc(), "unexpected '" + std::string(1, Peek(0)) + "' after number " +
                                std::string(src_.substr(start, pos_ - start)));
    return Token{is_float ? TokenKind::kFloat : TokenKind::kInt, std::string(src_.substr(start, pos_ - start)), loc};
  }

  Result<Token> String(SourceLoc loc) {
    char quote = src_[pos_];
    Advance();
    size_t start = pos_;
    while (pos_ < src_.size() && src_[pos_] != quote && src_[pos_] != '\n') Advance();
    if (pos_ >= src_.size() || src_[pos_] != quote)
      return ErrorAt(loc, std::string("unterminated string; expected a closing ") + quote);
    std::string text(src_.substr(start, pos_ - start));
    Advance();
    return Token{TokenKind::kString, std::move(text), loc};
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source) { return Lexer(source).Run(); }

}  // namespace anvil::formula
