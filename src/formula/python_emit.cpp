#include "formula/python_emit.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

#include "formula/infer.h"

namespace anvil::formula {

std::string TorchDTypeName(DType t) {
  switch (t) {
    case DType::kBool: return "torch.bool";
    case DType::kU8: return "torch.uint8";
    case DType::kI8: return "torch.int8";
    case DType::kI16: return "torch.int16";
    case DType::kI32: return "torch.int32";
    case DType::kI64: return "torch.int64";
    case DType::kF16: return "torch.float16";
    case DType::kBF16: return "torch.bfloat16";
    case DType::kF32: return "torch.float32";
    case DType::kF64: return "torch.float64";
  }
  return "torch.float32";
}

namespace {

std::string FloatLiteral(double d) {
  if (std::isnan(d)) return "float('nan')";
  if (std::isinf(d)) return d > 0 ? "float('inf')" : "float('-inf')";
  // Shortest text that round-trips (what Python's repr prints).
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  std::string s(buf.data(), end);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";  // "2" would read back as an int
  return s;
}

}  // namespace

std::string PythonLiteral(const ScalarValue& v) {
  switch (Category(v.dtype)) {
    case DTypeCategory::kBool: return v.i != 0 ? "True" : "False";
    case DTypeCategory::kInteger: return std::to_string(v.i);
    case DTypeCategory::kFloating: return FloatLiteral(v.f);
  }
  return "None";
}

namespace {

bool IsPythonKeyword(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {
      "False", "None",   "True",  "and",      "as",     "assert", "async",  "await",    "break",
      "class", "continue", "def", "del",      "elif",   "else",   "except", "finally",  "for",
      "from",  "global", "if",    "import",   "in",     "is",     "lambda", "nonlocal", "not",
      "or",    "pass",   "raise", "return",   "try",    "while",  "with",   "yield"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

Status CheckName(const std::string& s, const std::string& what) {
  if (!IsIdentifier(s) || IsPythonKeyword(s) || s == "torch")
    return InvalidInput("python emit: " + what + " '" + s +
                        "' cannot be a Python parameter name (it must be an ASCII identifier, not a Python keyword "
                        "and not 'torch'); rename it in the task");
  return Status::Ok();
}

// The dtype of the number the reference wraps for a scalar node: attributes
// and literals become f64/i64/bool by category; a computed scalar keeps its
// graph dtype (see reference::Evaluator::Compute).
DType CarriedDType(const Node& n) {
  DType t = n.op == Op::kConst ? n.value.dtype : n.dtype;
  if (n.op != Op::kAttr && n.op != Op::kConst) return t;
  switch (Category(t)) {
    case DTypeCategory::kBool: return DType::kBool;
    case DTypeCategory::kInteger: return DType::kI64;
    case DTypeCategory::kFloating: return DType::kF64;
  }
  return t;
}

// One operand as the op's Python expression will see it.
struct Arg {
  std::string text;     // a variable, possibly with `.to(...)`, or `torch.tensor(...)`
  DType dtype;          // the ATen dtype of the value after conversion
  bool is_number;       // a Python number (the reference's wrapped scalar)
  std::string var;      // the operand's variable (for `.device`)
};

std::string Join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

std::string PyBool(bool b) { return b ? "True" : "False"; }

class Emitter {
 public:
  explicit Emitter(const Graph& g) : g_(g) {}

  Result<PythonFunction> Run(const std::string& name) {
    ANVIL_RETURN_IF_ERROR(CheckName(name, "function name"));
    PythonFunction fn;
    fn.name = name;
    for (const InputDecl& d : g_.inputs()) {
      ANVIL_RETURN_IF_ERROR(CheckName(d.name, "input"));
      fn.params.push_back(d.name);
    }
    for (const AttrDecl& d : g_.attrs()) {
      ANVIL_RETURN_IF_ERROR(CheckName(d.name, "attribute"));
      fn.params.push_back(d.name);
    }
    PickPrefix(fn.params);

    std::string body;
    // Scalars first (see the header: one graph break for torch.compile); the
    // order stays topological because a scalar's operands are all scalars.
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t i = 0; i < g_.nodes().size(); ++i) {
        const Node& n = g_.nodes()[i];
        bool first_pass = n.is_scalar || Info(n.op).kind == OpKind::kLeaf;
        if (first_pass != (pass == 0)) continue;
        ANVIL_ASSIGN_OR_RETURN(std::string rhs, Line(n));
        body += "    " + Var(static_cast<NodeId>(i)) + " = " + rhs + "\n";
      }
    }
    std::string ret;
    for (NodeId id : g_.output_nodes()) {
      if (!ret.empty()) ret += ", ";
      ret += Var(id) + (MayAliasInput(id) ? ".clone()" : "");
    }
    if (g_.output_nodes().size() == 1) ret += ",";
    body += "    return (" + ret + ")\n";

    std::string params;
    for (size_t i = 0; i < fn.params.size(); ++i) params += (i ? ", " : "") + fn.params[i];
    fn.source = "import torch\n\n\ndef " + name + "(" + params + "):\n" + body;
    return fn;
  }

 private:
  // Temporaries are t<id> unless a parameter already looks like that.
  void PickPrefix(const std::vector<std::string>& params) {
    auto clashes = [&](const std::string& prefix) {
      for (const std::string& p : params) {
        if (p.size() <= prefix.size() || p.compare(0, prefix.size(), prefix) != 0) continue;
        if (std::all_of(p.begin() + static_cast<std::ptrdiff_t>(prefix.size()), p.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
          return true;
      }
      return false;
    };
    while (clashes(prefix_)) prefix_ += "_";
  }

  std::string Var(NodeId id) const { return prefix_ + std::to_string(id); }

  bool MayAliasInput(NodeId id) const {
    const Node& n = g_.node(id);
    if (n.op == Op::kInput) return true;
    if (n.op == Op::kTo && !n.is_scalar) return g_.node(n.operands[0]).dtype == n.to_dtype && MayAliasInput(n.operands[0]);
    return false;
  }

  Result<std::string> Line(const Node& n) {
    switch (n.op) {
      case Op::kInput: return g_.inputs().at(static_cast<size_t>(n.index)).name;
      case Op::kAttr: {
        const std::string& a = g_.attrs().at(static_cast<size_t>(n.index)).name;
        switch (Category(n.dtype)) {
          case DTypeCategory::kBool: return "bool(" + a + ")";
          case DTypeCategory::kInteger: return "int(" + a + ")";
          case DTypeCategory::kFloating: return "float(" + a + ")";
        }
        return a;
      }
      case Op::kConst: return PythonLiteral(n.value);
      default: break;
    }
    const OpKind kind = Info(n.op).kind;
    const bool floating_node = IsFloating(n.dtype);
    std::vector<Arg> args;
    std::string device;  // `<var>.device` of a tensor operand
    for (NodeId id : n.operands)
      if (!g_.node(id).is_scalar && device.empty()) device = Var(id) + ".device";
    for (size_t k = 0; k < n.operands.size(); ++k) {
      NodeId id = n.operands[k];
      const Node& o = g_.node(id);
      // The reference converts where()'s values to the result dtype, and the
      // operands of a floating node when it is a scalar or a float-only op.
      bool convert = kind == OpKind::kWhere
                         ? k >= 1
                         : kind != OpKind::kCast && floating_node &&
                               (n.is_scalar || Info(n.op).dtype_rule == DTypeRule::kFloat);
      Arg a{Var(id), o.dtype, false, Var(id)};
      if (o.is_scalar) {
        DType carried = CarriedDType(o);
        a.dtype = carried;
        if (n.is_scalar || kind == OpKind::kWhere) {
          // A real 0-dim tensor: what the reference computes scalars on, and
          // what where() sees after its conversion.
          std::string dev = n.is_scalar ? "" : ", device=" + device;
          a.text = "torch.tensor(" + a.var + ", dtype=" + TorchDTypeName(carried) + dev + ")";
          if (convert && carried != n.dtype) {
            a.text += ".to(" + TorchDTypeName(n.dtype) + ")";
            a.dtype = n.dtype;
          }
        } else {
          a.is_number = true;  // wrapped: converted by ATen's promotion, never by the reference
        }
      } else if (convert && o.dtype != n.dtype) {
        a.text += ".to(" + TorchDTypeName(n.dtype) + ")";
        a.dtype = n.dtype;
      }
      args.push_back(std::move(a));
    }
    ANVIL_ASSIGN_OR_RETURN(std::string expr, Expression(n, args));
    if (n.is_scalar) return expr + ".to(" + TorchDTypeName(n.dtype) + ").item()";
    return expr;
  }

  Result<std::string> Expression(const Node& n, std::vector<Arg>& a) {
    const std::string name(Info(n.op).name);
    switch (Info(n.op).kind) {
      case OpKind::kUnary: return UnaryExpr(n, a[0]);
      case OpKind::kBinary: return BinaryExpr(n, a);
      case OpKind::kWhere: return "torch.where(" + a[0].text + ", " + a[1].text + ", " + a[2].text + ")";
      case OpKind::kCast: return a[0].text + ".to(" + TorchDTypeName(n.to_dtype) + ")";
      case OpKind::kMatmul: return "torch.matmul(" + a[0].text + ", " + a[1].text + ")";
      case OpKind::kReduce: return ReduceExpr(n, a[0]);
      case OpKind::kArgReduce: {
        if (!n.dims.empty())
          return "torch." + name + "(" + a[0].text + ", dim=" + std::to_string(n.dims[0]) +
                 ", keepdim=" + PyBool(n.keepdim) + ")";
        // Flattened, like the reference: argmax of x.reshape(-1), then all-ones shape for keepdim.
        std::string e = "torch." + name + "(" + a[0].text + ".reshape(-1))";
        if (n.keepdim) {
          std::vector<int64_t> ones(g_.node(n.operands[0]).shape.size(), 1);
          e += ".reshape(" + Join(ones) + ")";
        }
        return e;
      }
      case OpKind::kNormalize: {
        int64_t dim = n.dims.empty() ? 0 : n.dims[0];  // rank 0: torch accepts dim 0
        return "torch." + name + "(" + a[0].text + ", dim=" + std::to_string(dim) + ")";
      }
      case OpKind::kLeaf: break;
    }
    return Unsupported("python emit: op '" + name + "' has no Python emission rule");
  }

  Result<std::string> UnaryExpr(const Node& n, const Arg& x) {
    const std::string& t = x.text;
    const std::vector<double>& p = n.params;
    auto f = [](double d) { return FloatLiteral(d); };
    if (x.is_number) return InternalError("python emit: unary op on a number outside a scalar node");
    switch (n.op) {
      case Op::kGelu: return "torch.nn.functional.gelu(" + t + ", approximate='" + n.approximate + "')";
      case Op::kSilu: return "torch.nn.functional.silu(" + t + ")";
      case Op::kMish: return "torch.nn.functional.mish(" + t + ")";
      case Op::kHardsigmoid: return "torch.nn.functional.hardsigmoid(" + t + ")";
      case Op::kHardswish: return "torch.nn.functional.hardswish(" + t + ")";
      case Op::kSoftplus:
        return "torch.nn.functional.softplus(" + t + ", beta=" + f(p.at(0)) + ", threshold=" + f(p.at(1)) + ")";
      case Op::kElu: return "torch.nn.functional.elu(" + t + ", alpha=" + f(p.at(0)) + ")";
      case Op::kLeakyRelu: return "torch.nn.functional.leaky_relu(" + t + ", negative_slope=" + f(p.at(0)) + ")";
      case Op::kHardtanh:
        return "torch.nn.functional.hardtanh(" + t + ", min_val=" + f(p.at(0)) + ", max_val=" + f(p.at(1)) + ")";
      case Op::kFloor:
      case Op::kCeil:
      case Op::kRound:
      case Op::kTrunc:
        // The reference leaves integers as they are (torch.floor of an int is an error in old versions).
        if (!IsFloating(x.dtype)) return t + ".clone()";
        break;
      default: break;
    }
    return "torch." + std::string(Info(n.op).name) + "(" + t + ")";
  }

  Result<std::string> BinaryExpr(const Node& n, std::vector<Arg>& a) {
    std::string fn = "torch." + std::string(Info(n.op).name);
    std::string tail;
    if (n.op == Op::kFloorDivide) {
      fn = "torch.div";
      tail = ", rounding_mode='floor'";
    }
    int number = a[0].is_number ? 0 : a[1].is_number ? 1 : -1;
    if (number >= 0) {
      switch (n.op) {
        // Python wraps a number given to these exactly as the reference does.
        case Op::kAdd: case Op::kSub: case Op::kMul: case Op::kDiv: case Op::kFloorDivide:
          break;
        // The Scalar overloads wrap the number; a number on the left is
        // swapped to the right (exact: these are symmetric or mirrored).
        case Op::kBitwiseAnd: case Op::kBitwiseOr: case Op::kBitwiseXor: case Op::kEq: case Op::kNe:
        case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe:
          if (number == 0) {
            std::swap(a[0], a[1]);
            static const std::pair<Op, const char*> kMirror[] = {
                {Op::kLt, "torch.gt"}, {Op::kLe, "torch.ge"}, {Op::kGt, "torch.lt"}, {Op::kGe, "torch.le"}};
            for (const auto& [op, mirrored] : kMirror)
              if (n.op == op) fn = mirrored;
          }
          break;
        default: {
          // A 0-dim tensor of the common dtype (see the header comment).
          Arg& s = a[static_cast<size_t>(number)];
          const Arg& t = a[static_cast<size_t>(1 - number)];
          DType common = n.dtype;
          if (Info(n.op).dtype_rule == DTypeRule::kBool) {
            std::vector<ValueType> vts;
            for (NodeId id : n.operands) vts.push_back({g_.node(id).dtype, g_.node(id).shape, g_.node(id).is_scalar});
            common = PromoteOperands(vts);
          }
          s.text = "torch.tensor(" + s.var + ", dtype=" + TorchDTypeName(s.dtype) + ", device=" + t.var + ".device)";
          if (s.dtype != common) s.text += ".to(" + TorchDTypeName(common) + ")";
          break;
        }
      }
    }
    return fn + "(" + a[0].text + ", " + a[1].text + tail + ")";
  }

  Result<std::string> ReduceExpr(const Node& n, const Arg& x) {
    const std::string name(Info(n.op).name);
    const std::string keep = ", keepdim=" + PyBool(n.keepdim);
    switch (n.op) {
      case Op::kVar:
      case Op::kStd:
        return "torch." + name + "(" + x.text + ", dim=" + Join(n.dims) + ", correction=" +
               std::to_string(n.correction) + keep + ")";
      case Op::kProd: {
        // torch.prod takes one dim: reduce the dims back to front with
        // keepdim, then squeeze (the reference's order, so the same rounding).
        if (n.dims.empty()) return "torch.prod(" + x.text + ")";
        std::string e = x.text;
        for (auto it = n.dims.rbegin(); it != n.dims.rend(); ++it)
          e = "torch.prod(" + e + ", dim=" + std::to_string(*it) + ", keepdim=True)";
        if (!n.keepdim)
          for (auto it = n.dims.rbegin(); it != n.dims.rend(); ++it) e += ".squeeze(" + std::to_string(*it) + ")";
        return e;
      }
      case Op::kSum: case Op::kMean: case Op::kAmax: case Op::kAmin: case Op::kLogsumexp:
        return "torch." + name + "(" + x.text + ", dim=" + Join(n.dims) + keep + ")";
      default: break;
    }
    return Unsupported("python emit: reduction '" + name + "' has no Python emission rule");
  }

  const Graph& g_;
  std::string prefix_ = "t";
};

}  // namespace

Result<PythonFunction> EmitPython(const Graph& graph, const std::string& name) { return Emitter(graph).Run(name); }

}  // namespace anvil::formula
