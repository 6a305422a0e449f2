#include "formula/builder.h"

#include <algorithm>
#include <array>
#include <map>
#include <span>

#include <fmt/format.h>

#include "formula/infer.h"
#include "formula/suggest.h"
#include "formula/verify.h"

namespace anvil::formula {
namespace {

// Compact source text of an expression, for operand labels in messages.
std::string Unparse(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kInt: return std::to_string(e.int_value);
    case Expr::Kind::kFloat: return fmt::format("{}", e.float_value);
    case Expr::Kind::kBool: return e.bool_value ? "True" : "False";
    case Expr::Kind::kNone: return "None";
    case Expr::Kind::kString: return "'" + e.text + "'";
    case Expr::Kind::kName: return e.text;
    case Expr::Kind::kUnary: return e.text + Unparse(*e.children[0]);
    case Expr::Kind::kBinary: {
      auto side = [](const Expr& c) {
        return c.kind == Expr::Kind::kBinary ? "(" + Unparse(c) + ")" : Unparse(c);
      };
      return side(*e.children[0]) + " " + e.text + " " + side(*e.children[1]);
    }
    case Expr::Kind::kCall: {
      std::string s;
      size_t first = 0;
      if (e.method_call) {
        s = Unparse(*e.args[0].value) + ".";
        first = 1;
      }
      s += e.text + "(";
      for (size_t i = first; i < e.args.size(); ++i) {
        if (i > first) s += ", ";
        if (!e.args[i].keyword.empty()) s += e.args[i].keyword + "=";
        s += Unparse(*e.args[i].value);
      }
      return s + ")";
    }
    case Expr::Kind::kList: {
      std::string s = "(";
      for (size_t i = 0; i < e.children.size(); ++i) s += (i ? ", " : "") + Unparse(*e.children[i]);
      return s + ")";
    }
  }
  return "?";
}

std::string Label(const Expr& e) {
  std::string s = Unparse(e);
  if (s.size() > 32) s = s.substr(0, 29) + "...";
  return "'" + s + "'";
}

struct Operand {
  NodeId id;
  const Expr* expr;
};

// Casting methods: x.float() == x.to(f32).
const std::map<std::string, DType, std::less<>> kCastMethods = {
    {"float", DType::kF32}, {"half", DType::kF16}, {"bfloat16", DType::kBF16}, {"double", DType::kF64},
    {"int", DType::kI32},   {"long", DType::kI64}, {"bool", DType::kBool},     {"short", DType::kI16}};

// Sugar over catalog ops, and their parameters.
constexpr std::array<ParamSpec, 3> kClampParams = {{{"input", ParamType::kTensor, "", false, ""},
                                                     {"min", ParamType::kTensor, "None", false, ""},
                                                     {"max", ParamType::kTensor, "None", false, ""}}};

const std::map<std::string, Op, std::less<>> kBinaryOperators = {
    {"+", Op::kAdd},         {"-", Op::kSub},         {"*", Op::kMul},         {"/", Op::kDiv},
    {"//", Op::kFloorDivide}, {"%", Op::kRemainder}, {"**", Op::kPow},        {"@", Op::kMatmul},
    {"&", Op::kBitwiseAnd},  {"|", Op::kBitwiseOr},   {"^", Op::kBitwiseXor},  {"==", Op::kEq},
    {"!=", Op::kNe},         {"<", Op::kLt},          {"<=", Op::kLe},         {">", Op::kGt},
    {">=", Op::kGe}};

std::vector<std::string_view> FunctionNames() {
  std::vector<std::string_view> names = CallableNames();
  for (const char* s : {"clamp", "clip", "max", "min"}) names.push_back(s);
  for (const auto& [name, t] : kCastMethods) names.push_back(name);
  return names;
}

std::string ParamList(std::span<const ParamSpec> params, bool keyword_only) {
  std::string s;
  for (const ParamSpec& p : params)
    if (!p.name.empty() && p.keyword_only == keyword_only) s += (s.empty() ? "" : ", ") + std::string(p.name);
  return s;
}

// Binds call arguments to parameter slots; nullptr where absent.
Result<std::vector<const Arg*>> BindArgs(std::string_view fn, SourceLoc call_loc, std::span<const ParamSpec> params,
                                         const std::vector<const Arg*>& args) {
  size_t count = 0;
  while (count < params.size() && !params[count].name.empty()) ++count;
  params = params.first(count);
  std::vector<const Arg*> slots(count, nullptr);
  size_t max_positional = 0;
  for (const ParamSpec& p : params) max_positional += !p.keyword_only;
  size_t positional = 0;
  for (const Arg* a : args) {
    if (a->keyword.empty()) {
      if (positional >= max_positional) {
        std::string kw = ParamList(params, true);
        return ErrorAt(a->loc, std::string(fn) + "() takes at most " + std::to_string(max_positional) +
                                   " positional argument(s) (" + ParamList(params, false) + ")" +
                                   (kw.empty() ? "" : "; pass " + kw + " by keyword"));
      }
      slots[positional++] = a;
      continue;
    }
    auto it = std::find_if(params.begin(), params.end(), [&](const ParamSpec& p) { return p.name == a->keyword; });
    if (it == params.end()) {
      std::vector<std::string_view> names;
      for (const ParamSpec& p : params) names.push_back(p.name);
      return ErrorAt(a->loc, std::string(fn) + "() got an unexpected keyword argument '" + a->keyword + "'" +
                                 DidYouMean(a->keyword, names) + " (parameters: " + ParamList(params, false) +
                                 (ParamList(params, true).empty() ? "" : ", " + ParamList(params, true)) + ")");
    }
    size_t idx = static_cast<size_t>(it - params.begin());
    if (slots[idx]) return ErrorAt(a->loc, std::string(fn) + "() got multiple values for argument '" + a->keyword + "'");
    slots[idx] = a;
  }
  for (size_t i = 0; i < count; ++i) {
    if (slots[i] || !params[i].default_value.empty()) continue;
    std::string_view name = params[i].name;
    if (params[i].type == ParamType::kDim || params[i].type == ParamType::kDims)
      return ErrorAt(call_loc, std::string(fn) + "() needs a dim (e.g. " + std::string(fn) + "(x, -1))");
    if (params[i].type == ParamType::kDType)
      return ErrorAt(call_loc, std::string(fn) + "() needs a dtype (e.g. x.to(f16))");
    return ErrorAt(call_loc, std::string(fn) + "() is missing argument '" + std::string(name) + "' (" +
                                 std::string(fn) + "(" + ParamList(params, false) + "))");
  }
  return slots;
}

bool IsNone(const Arg* a) { return !a || a->value->kind == Expr::Kind::kNone; }

class Builder {
 public:
  Builder(const std::vector<InputDecl>& inputs, const std::vector<AttrDecl>& attrs) : graph_(inputs, attrs) {}

  Result<Graph> Run(const Program& program, const std::vector<std::string>& output_names);

 private:
  enum class NameKind { kInput, kAttr, kTemp };
  struct Binding {
    NodeId id;
    SourceLoc loc;
    NameKind kind;
    bool used = false;
  };

  Result<NodeId> Lower(const Expr& e);
  Result<NodeId> LowerCall(const Expr& call);
  Result<NodeId> LowerOp(const OpInfo& info, std::string_view fn, SourceLoc loc, const std::vector<const Arg*>& args);
  Result<NodeId> Emit(Node n, const std::vector<Operand>& operands, SourceLoc loc);
  Result<NodeId> Const(ScalarValue v, SourceLoc loc) {
    Node n;
    n.op = Op::kConst;
    n.value = v;
    n.dtype = v.dtype;
    n.is_scalar = true;
    n.loc = loc;
    return graph_.AddNode(std::move(n));
  }
  Result<std::vector<int64_t>> Dims(const Arg* a, const Operand& x, std::string_view fn, bool single);
  Result<DType> ParseDTypeArg(const Arg& a, std::string_view fn);

  std::vector<std::string_view> KnownNames() const {
    std::vector<std::string_view> out;
    for (const auto& [name, b] : names_) out.push_back(name);
    return out;
  }

  Graph graph_;
  std::map<std::string, Binding, std::less<>> names_;
};

Result<NodeId> Builder::Emit(Node n, const std::vector<Operand>& operands, SourceLoc loc) {
  std::vector<ValueType> types;
  std::vector<std::string> labels;
  for (const Operand& o : operands) {
    const Node& on = graph_.node(o.id);
    types.push_back({on.dtype, on.shape, on.is_scalar});
    labels.push_back(Label(*o.expr));
    n.operands.push_back(o.id);
  }
  Result<ValueType> t = InferNode(n, types, labels);
  if (!t.ok()) {
    if (t.status().code() != ErrorCode::kInvalidInput) return t.status();
    return ErrorAt(loc, t.status().message());
  }
  n.dtype = t->dtype;
  n.shape = t->shape;
  n.is_scalar = t->is_scalar;
  n.loc = loc;
  return graph_.AddNode(std::move(n));
}

Result<std::vector<int64_t>> Builder::Dims(const Arg* a, const Operand& x, std::string_view fn, bool single) {
  const SymShape& shape = graph_.node(x.id).shape;
  int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  if (IsNone(a)) {
    if (single) return dims;  // flattened (argmax)
    for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
    return dims;
  }
  std::vector<const Expr*> items;
  const Expr& v = *a->value;
  if (v.kind == Expr::Kind::kList && !single) {
    for (const auto& c : v.children) items.push_back(c.get());
  } else {
    items.push_back(&v);
  }
  for (const Expr* item : items) {
    if (item->kind != Expr::Kind::kInt)
      return ErrorAt(item->loc, std::string(fn) + "(): expected " +
                                    (single ? "a dim (an int literal)" : "a dim (an int) or a tuple of dims") +
                                    ", found " + Label(*item));
    int64_t d = item->int_value;
    int64_t lo = rank == 0 ? -1 : -rank, hi = rank == 0 ? 0 : rank - 1;
    if (d < lo || d > hi)
      return ErrorAt(item->loc, std::string(fn) + "(): dim " + std::to_string(d) + " is out of range for " +
                                    Label(*x.expr) + " " + ShapeToString(shape) + " (expected " + std::to_string(lo) +
                                    " to " + std::to_string(hi) + ")");
    if (rank == 0) continue;  // a rank-0 tensor has nothing to reduce (torch accepts dim 0 and -1)
    if (d < 0) d += rank;
    if (std::find(dims.begin(), dims.end(), d) != dims.end())
      return ErrorAt(item->loc, std::string(fn) + "(): dim " + std::to_string(d) + " appears more than once");
    dims.push_back(d);
  }
  std::sort(dims.begin(), dims.end());
  return dims;
}

Result<DType> Builder::ParseDTypeArg(const Arg& a, std::string_view fn) {
  const Expr& v = *a.value;
  if (v.kind == Expr::Kind::kName || v.kind == Expr::Kind::kString) {
    std::string_view name = v.text;
    if (name.rfind("torch.", 0) == 0) name.remove_prefix(6);  // torch.half == half
    if (auto t = ParseDType(name)) return *t;
    return ErrorAt(v.loc, std::string(fn) + "(): unknown dtype '" + v.text + "'; expected one of " + DTypeNameList());
  }
  return ErrorAt(v.loc, std::string(fn) + "(): expected a dtype (e.g. f16), found " + Label(v));
}

Result<NodeId> Builder::LowerOp(const OpInfo& info, std::string_view fn, SourceLoc loc,
                                const std::vector<const Arg*>& args) {
  ANVIL_ASSIGN_OR_RETURN(std::vector<const Arg*> slots, BindArgs(fn, loc, info.params, args));
  Node n;
  n.op = info.op;
  std::vector<Operand> operands;
  for (int i = 0; i < info.arity; ++i) {
    const Arg* a = slots[static_cast<size_t>(i)];
    ANVIL_ASSIGN_OR_RETURN(NodeId id, Lower(*a->value));
    operands.push_back({id, a->value.get()});
  }
  std::optional<int64_t> correction;
  std::optional<bool> unbiased;
  for (size_t i = static_cast<size_t>(info.arity); i < slots.size(); ++i) {
    const ParamSpec& p = info.params[i];
    const Arg* a = slots[i];
    const Expr* v = a ? a->value.get() : nullptr;
    auto expect = [&](const char* what) {
      return ErrorAt(v->loc, std::string(fn) + "(): '" + std::string(p.name) + "' must be " + what + ", found " +
                                 Label(*v));
    };
    switch (p.type) {
      case ParamType::kTensor: break;
      case ParamType::kDims:
      case ParamType::kDim: {
        ANVIL_ASSIGN_OR_RETURN(n.dims, Dims(a, operands[0], fn, p.type == ParamType::kDim));
        break;
      }
      case ParamType::kBool: {
        if (IsNone(a)) break;
        if (v->kind != Expr::Kind::kBool) return expect("True or False");
        if (p.name == "keepdim") n.keepdim = v->bool_value;
        if (p.name == "unbiased") unbiased = v->bool_value;
        break;
      }
      case ParamType::kInt: {
        if (IsNone(a)) break;
        if (v->kind != Expr::Kind::kInt || v->int_value < 0) return expect("a non-negative int literal");
        correction = v->int_value;  // the only int param (var/std)
        break;
      }
      case ParamType::kFloat: {
        if (IsNone(a)) {
          n.params.push_back(std::stod(std::string(p.default_value)));
          break;
        }
        if (v->kind != Expr::Kind::kInt && v->kind != Expr::Kind::kFloat) return expect("a number literal");
        n.params.push_back(v->float_value);
        break;
      }
      case ParamType::kString: {
        std::string s = a ? v->text : std::string(p.default_value);
        if (a && v->kind != Expr::Kind::kString) return expect("a string literal");
        std::string choices(p.choices);
        if (std::string(" " + choices + " ").find(" " + s + " ") == std::string::npos)
          return ErrorAt(v->loc, std::string(fn) + "(): '" + std::string(p.name) + "' must be one of: " + choices +
                                     "; found '" + s + "'");
        n.approximate = s;  // the only string param (gelu)
        break;
      }
      case ParamType::kDType: {
        ANVIL_ASSIGN_OR_RETURN(n.to_dtype, ParseDTypeArg(*a, fn));
        break;
      }
    }
  }
  if (correction && unbiased)
    return ErrorAt(loc, std::string(fn) + "(): pass either unbiased= or correction=, not both");
  n.correction = correction ? *correction : (unbiased && !*unbiased ? 0 : 1);
  return Emit(std::move(n), operands, loc);
}

Result<NodeId> Builder::LowerCall(const Expr& call) {
  std::vector<const Arg*> args;
  for (const Arg& a : call.args) args.push_back(&a);
  const std::string& fn = call.text;
  // torch.f(x) / F.f(x) parse as method calls on a module name: drop the module.
  if (call.method_call && call.args[0].value->kind == Expr::Kind::kName) {
    const std::string& module = call.args[0].value->text;
    bool is_module = module == "torch" || module == "F" || module == "torch.nn.functional";
    if (is_module && !names_.count(module)) args.erase(args.begin());
  }
  if (fn == "clamp" || fn == "clip") {
    ANVIL_ASSIGN_OR_RETURN(std::vector<const Arg*> slots, BindArgs(fn, call.loc, kClampParams, args));
    if (IsNone(slots[1]) && IsNone(slots[2]))
      return ErrorAt(call.loc, fn + "() needs min= or max= (e.g. clamp(x, min=0))");
    ANVIL_ASSIGN_OR_RETURN(NodeId x, Lower(*slots[0]->value));
    const Expr* x_expr = slots[0]->value.get();
    for (int i = 1; i <= 2; ++i) {
      if (IsNone(slots[static_cast<size_t>(i)])) continue;
      const Expr& bound = *slots[static_cast<size_t>(i)]->value;
      ANVIL_ASSIGN_OR_RETURN(NodeId b, Lower(bound));
      Node n;
      n.op = i == 1 ? Op::kClampMin : Op::kClampMax;
      ANVIL_ASSIGN_OR_RETURN(x, Emit(std::move(n), {{x, x_expr}, {b, &bound}}, call.loc));
    }
    return x;
  }
  if (fn == "max" || fn == "min") {
    // max(x) and max(x, dim[, keepdim]) reduce (values only); max(a, b) is maximum(a, b).
    bool reduce = args.size() == 1;
    for (size_t i = 1; i < args.size(); ++i) {
      const Arg& a = *args[i];
      if (a.keyword == "dim" || a.keyword == "keepdim") reduce = true;
      if (i == 1 && a.keyword.empty() &&
          (a.value->kind == Expr::Kind::kInt || a.value->kind == Expr::Kind::kList))
        reduce = true;
    }
    Op op = fn == "max" ? (reduce ? Op::kAmax : Op::kMaximum) : (reduce ? Op::kAmin : Op::kMinimum);
    return LowerOp(Info(op), fn, call.loc, args);
  }
  if (auto it = kCastMethods.find(fn); it != kCastMethods.end()) {
    if (args.size() != 1 || !args[0]->keyword.empty())
      return ErrorAt(call.loc, fn + "() takes only the tensor (e.g. x." + fn + "())");
    ANVIL_ASSIGN_OR_RETURN(NodeId x, Lower(*args[0]->value));
    Node n;
    n.op = Op::kTo;
    n.to_dtype = it->second;
    return Emit(std::move(n), {{x, args[0]->value.get()}}, call.loc);
  }
  const OpInfo* info = FindOp(fn);
  if (!info) return ErrorAt(call.loc, "unknown function '" + fn + "'" + DidYouMean(fn, FunctionNames()));
  if (args.empty()) return ErrorAt(call.loc, fn + "() needs an input");
  return LowerOp(*info, fn, call.loc, args);
}

Result<NodeId> Builder::Lower(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kInt: return Const(ScalarValue::Int(e.int_value), e.loc);
    case Expr::Kind::kFloat: return Const(ScalarValue::Float(e.float_value), e.loc);
    case Expr::Kind::kBool: return Const(ScalarValue::Bool(e.bool_value), e.loc);
    case Expr::Kind::kNone: return ErrorAt(e.loc, "None is only allowed as a function argument (e.g. dim=None)");
    case Expr::Kind::kString:
      return ErrorAt(e.loc, "a string is only allowed as a function argument (e.g. gelu(x, approximate='tanh'))");
    case Expr::Kind::kList:
      return ErrorAt(e.loc, "a tuple or list is only allowed as dims (e.g. sum(x, (0, 1)))");
    case Expr::Kind::kName: {
      auto it = names_.find(e.text);
      if (it != names_.end()) {
        it->second.used = true;
        return it->second.id;
      }
      if (ParseDType(e.text))
        return ErrorAt(e.loc, "dtype '" + e.text + "' is only allowed where a dtype is expected (e.g. x.to(" +
                                  e.text + "))");
      if (FindOp(e.text) || kCastMethods.count(e.text))
        return ErrorAt(e.loc, "'" + e.text + "' is a function; call it, e.g. " + e.text + "(x)");
      return ErrorAt(e.loc, "unknown name '" + e.text + "'" + DidYouMean(e.text, KnownNames()) +
                                " (inputs, attributes and earlier assignments can be used)");
    }
    case Expr::Kind::kUnary: {
      ANVIL_ASSIGN_OR_RETURN(NodeId x, Lower(*e.children[0]));
      if (e.text == "+") return x;
      Node n;
      n.op = e.text == "-" ? Op::kNeg : Op::kBitwiseNot;
      return Emit(std::move(n), {{x, e.children[0].get()}}, e.loc);
    }
    case Expr::Kind::kBinary: {
      auto it = kBinaryOperators.find(e.text);
      if (it == kBinaryOperators.end()) return InternalError("parser produced unknown operator " + e.text);
      ANVIL_ASSIGN_OR_RETURN(NodeId a, Lower(*e.children[0]));
      ANVIL_ASSIGN_OR_RETURN(NodeId b, Lower(*e.children[1]));
      Node n;
      n.op = it->second;
      return Emit(std::move(n), {{a, e.children[0].get()}, {b, e.children[1].get()}}, e.loc);
    }
    case Expr::Kind::kCall: return LowerCall(e);
  }
  return InternalError("unknown expression kind");
}

Result<Graph> Builder::Run(const Program& program, const std::vector<std::string>& output_names) {
  for (size_t i = 0; i < graph_.inputs().size(); ++i) {
    const InputDecl& d = graph_.inputs()[i];
    Node n;
    n.op = Op::kInput;
    n.index = static_cast<int32_t>(i);
    n.dtype = d.dtype;
    n.shape = d.shape;
    if (names_.count(d.name)) return InvalidInput("formula: input '" + d.name + "' is declared twice");
    names_[d.name] = {graph_.AddNode(std::move(n)), program.end, NameKind::kInput};
  }
  for (size_t i = 0; i < graph_.attrs().size(); ++i) {
    const AttrDecl& d = graph_.attrs()[i];
    Node n;
    n.op = Op::kAttr;
    n.index = static_cast<int32_t>(i);
    n.dtype = d.dtype;
    n.is_scalar = true;
    if (names_.count(d.name)) return InvalidInput("formula: attribute '" + d.name + "' clashes with another name");
    names_[d.name] = {graph_.AddNode(std::move(n)), program.end, NameKind::kAttr};
  }
  if (output_names.empty()) return InvalidInput("formula: the task declares no outputs");
  for (size_t i = 0; i < output_names.size(); ++i) {
    if (std::count(output_names.begin(), output_names.end(), output_names[i]) > 1)
      return InvalidInput("formula: output '" + output_names[i] + "' is declared twice");
  }
  auto is_output = [&](const std::string& name) {
    return std::find(output_names.begin(), output_names.end(), name) != output_names.end();
  };

  for (const Statement& st : program.statements) {
    if (auto it = names_.find(st.target); it != names_.end()) {
      if (it->second.kind == NameKind::kTemp)
        return ErrorAt(st.loc, "'" + st.target + "' is already assigned at " + it->second.loc.ToString() +
                                   "; use a new name");
      return ErrorAt(st.loc, "cannot assign to '" + st.target + "': it is " +
                                 (it->second.kind == NameKind::kInput ? "an input" : "an attribute"));
    }
    if (st.target == "True" || st.target == "False" || st.target == "None")
      return ErrorAt(st.loc, "cannot assign to '" + st.target + "'");
    ANVIL_ASSIGN_OR_RETURN(NodeId id, Lower(*st.value));
    names_[st.target] = {id, st.loc, NameKind::kTemp};
  }

  for (const std::string& name : output_names) {
    auto it = names_.find(name);
    if (it == names_.end() || it->second.kind != NameKind::kTemp) {
      std::string assigned;
      for (const Statement& st : program.statements) assigned += (assigned.empty() ? "'" : ", '") + st.target + "'";
      return ErrorAt(program.end, "output '" + name + "' is never assigned; the formula assigns " + assigned +
                                      DidYouMean(name, KnownNames()));
    }
    if (graph_.node(it->second.id).is_scalar)
      return ErrorAt(it->second.loc, "output '" + name +
                                         "' does not depend on any input tensor; an output must be computed from an input");
    graph_.AddOutput(name, it->second.id);
  }
  for (const Statement& st : program.statements) {
    const Binding& b = names_.at(st.target);
    if (!b.used && !is_output(st.target)) {
      std::string outs;
      for (const auto& o : output_names) outs += (outs.empty() ? "'" : ", '") + o + "'";
      return ErrorAt(st.loc, "'" + st.target + "' is assigned but never used and is not an output (outputs: " + outs +
                                 ")");
    }
  }
  for (const InputDecl& d : graph_.inputs())
    if (!names_.at(d.name).used)
      return ErrorAt(program.end, "input '" + d.name + "' is declared but the formula never uses it");
  for (const AttrDecl& d : graph_.attrs())
    if (!names_.at(d.name).used)
      return ErrorAt(program.end, "attribute '" + d.name + "' is declared but the formula never uses it");
  ANVIL_RETURN_IF_ERROR(Verify(graph_));
  return std::move(graph_);
}

}  // namespace

Result<Graph> BuildGraph(const Program& program, const std::vector<InputDecl>& inputs,
                         const std::vector<AttrDecl>& attrs, const std::vector<std::string>& output_names) {
  return Builder(inputs, attrs).Run(program, output_names);
}

}  // namespace anvil::formula
