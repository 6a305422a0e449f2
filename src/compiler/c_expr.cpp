// C++ expression text for kernel plans (c_expr.h). The semantics of every op
// live in include/anvil/fused_math.h; this file only chooses which helper or
// operator applies to which dtype.
#include "compiler/c_expr.h"

#include <cmath>

#include <fmt/format.h>

namespace anvil::compiler {
namespace {

using formula::Op;

bool IsFloatCompute(DType t) { return IsFloating(t); }

std::string Cast(const std::string& type, const std::string& v, DType from, DType to) {
  if (ComputeType(from) == ComputeType(to)) return v;
  return fmt::format("static_cast<{}>({})", type, v);
}

}  // namespace

std::string ComputeType(DType t) {
  switch (t) {
    case DType::kBool: return "bool";
    case DType::kU8: return "uint8_t";
    case DType::kI8: return "int8_t";
    case DType::kI16: return "int16_t";
    case DType::kI32: return "int32_t";
    case DType::kI64: return "int64_t";
    case DType::kF64: return "double";
    case DType::kF16:
    case DType::kBF16:
    case DType::kF32: return "float";
  }
  return "float";
}

std::string StorageType(DType t) {
  switch (t) {
    case DType::kF16: return "anvil::fm::f16_t";
    case DType::kBF16: return "anvil::fm::bf16_t";
    default: return ComputeType(t);
  }
}

std::string LoadAs(DType t, const std::string& ref) {
  if (t == DType::kF16 || t == DType::kBF16) return fmt::format("anvil::fm::ToCompute({})", ref);
  return ref;
}

std::string StoreAs(DType t, const std::string& value) {
  if (t == DType::kF16 || t == DType::kBF16) return fmt::format("anvil::fm::FromCompute<{}>({})", StorageType(t), value);
  return fmt::format("static_cast<{}>({})", StorageType(t), value);
}

std::string ScalarLiteral(const ScalarValue& v) {
  if (v.dtype == DType::kBool) return v.i ? "true" : "false";
  if (!IsFloating(v.dtype)) return fmt::format("static_cast<int64_t>({}LL)", v.i);
  if (std::isnan(v.f)) return "static_cast<double>(NAN)";
  if (std::isinf(v.f)) return v.f > 0 ? "static_cast<double>(INFINITY)" : "static_cast<double>(-INFINITY)";
  std::string s = fmt::format("{:.17g}", v.f);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string VarName(int id) { return "v" + std::to_string(id); }

Result<std::string> ConstAttrOrOpValue(const KernelPlan& plan, int id) {
  const KNode& n = plan.nodes.at(id);
  switch (n.kind) {
    case KNode::Kind::kConst: return ScalarLiteral(n.value);
    case KNode::Kind::kAttr:
      return fmt::format("static_cast<{}>(AttrValue(call, \"{}\"))", ComputeType(n.dtype), plan.attrs.at(n.index).name);
    case KNode::Kind::kOp: {
      std::vector<std::string> args;
      std::vector<DType> types;
      for (int o : n.operands) {
        args.push_back(VarName(o));
        types.push_back(plan.nodes[o].dtype);
      }
      return OpExpression(n, args, types);
    }
    default:
      return InternalError(fmt::format("C++ printer: node %{} ({}) is not a constant, attribute or op", id, n.origin));
  }
}

Result<std::string> OpExpression(const KNode& n, const std::vector<std::string>& args,
                                 const std::vector<DType>& arg_dtypes) {
  const DType wt = n.operand_dtype;  // the dtype the op works in
  const std::string ct = ComputeType(wt);
  const bool fl = IsFloatCompute(wt);
  const bool boolean = wt == DType::kBool;
  auto arg = [&](size_t i) { return Cast(ct, args[i], arg_dtypes[i], wt); };
  auto unsupported = [&](const std::string& why) -> Result<std::string> {
    return Unsupported(fmt::format("{} on {} values: {} (node {})", formula::Info(n.op).name, DTypeName(wt), why,
                                   n.origin));
  };
  auto p = [&](size_t i, double fallback) {
    return ScalarLiteral(ScalarValue::Float(i < n.params.size() ? n.params[i] : fallback));
  };
  auto fcall = [&](const char* fn) -> Result<std::string> {
    if (!fl) return unsupported("integer arguments; the formula should have made them floating");
    return fmt::format("anvil::fm::{}({})", fn, arg(0));
  };
  auto with_params = [&](const char* fn, std::vector<std::string> params) -> Result<std::string> {
    if (!fl) return unsupported("integer arguments");
    std::string s = fmt::format("anvil::fm::{}({}", fn, arg(0));
    for (const std::string& q : params) s += fmt::format(", static_cast<{}>({})", ct, q);
    return s + ")";
  };
  switch (n.op) {
    // ---- unary ----
    case Op::kNeg: return fmt::format("(-{})", arg(0));
    case Op::kAbs: return boolean ? arg(0) : fmt::format("({0} < {1}(0) ? -{0} : {0})", arg(0), ct);
    case Op::kExp: return fcall("Exp");
    case Op::kExp2: return fcall("Exp2");
    case Op::kExpm1: return fcall("Expm1");
    case Op::kLog: return fcall("Log");
    case Op::kLog2: return fcall("Log2");
    case Op::kLog10: return fcall("Log10");
    case Op::kLog1p: return fcall("Log1p");
    case Op::kSqrt: return fcall("Sqrt");
    case Op::kRsqrt:
      if (!fl) return unsupported("integer arguments");
      return fmt::format("({}(1) / anvil::fm::Sqrt({}))", ct, arg(0));
    case Op::kSin: return fcall("Sin");
    case Op::kCos: return fcall("Cos");
    case Op::kTan: return fcall("Tan");
    case Op::kAsin: return fcall("Asin");
    case Op::kAcos: return fcall("Acos");
    case Op::kAtan: return fcall("Atan");
    case Op::kSinh: return fcall("Sinh");
    case Op::kCosh: return fcall("Cosh");
    case Op::kTanh: return fcall("Tanh");
    case Op::kAsinh: return fcall("Asinh");
    case Op::kAcosh: return fcall("Acosh");
    case Op::kAtanh: return fcall("Atanh");
    case Op::kSigmoid: return fcall("Sigmoid");
    case Op::kRelu:
      if (boolean) return unsupported("relu of bool");
      return fmt::format("anvil::fm::Relu({})", arg(0));
    case Op::kGelu: return fcall(n.approximate == "tanh" ? "GeluTanh" : "GeluErf");
    case Op::kSilu: return fcall("Silu");
    case Op::kMish: return fcall("Mish");
    case Op::kSoftplus: return with_params("Softplus", {p(0, 1), p(1, 20)});
    case Op::kElu: return with_params("Elu", {p(0, 1)});
    case Op::kLeakyRelu: return with_params("LeakyRelu", {p(0, 0.01)});
    case Op::kHardsigmoid: return fcall("Hardsigmoid");
    case Op::kHardswish: return fcall("Hardswish");
    case Op::kHardtanh: return with_params("Hardtanh", {p(0, -1), p(1, 1)});
    case Op::kErf: return fcall("Erf");
    case Op::kErfc: return fcall("Erfc");
    case Op::kFloor: return fl ? fcall("Floor") : Result<std::string>(arg(0));
    case Op::kCeil: return fl ? fcall("Ceil") : Result<std::string>(arg(0));
    case Op::kRound: return fl ? fcall("Rint") : Result<std::string>(arg(0));
    case Op::kTrunc: return fl ? fcall("Trunc") : Result<std::string>(arg(0));
    case Op::kSign:
      if (boolean) return unsupported("sign of bool");
      return fmt::format("anvil::fm::Sign({})", arg(0));
    case Op::kReciprocal:
      if (!fl) return unsupported("integer arguments");
      return fmt::format("({}(1) / {})", ct, arg(0));
    case Op::kSquare:
      return fl ? fmt::format("anvil::fm::Mul({0}, {0})", arg(0)) : fmt::format("({0} * {0})", arg(0));
    case Op::kLogicalNot: return fmt::format("(!({} != {}(0)))", arg(0), ct);
    case Op::kBitwiseNot:
      if (fl) return unsupported("bitwise op on floats");
      return boolean ? fmt::format("(!{})", arg(0)) : fmt::format("static_cast<{}>(~{})", ct, arg(0));
    case Op::kIsnan: return fl ? fmt::format("anvil::fm::IsNan({})", arg(0)) : Result<std::string>("false");
    case Op::kIsinf:
      return fl ? fmt::format("(anvil::fm::IsNan({0} - {0}) && !anvil::fm::IsNan({0}))", arg(0))
                : Result<std::string>("false");
    case Op::kIsfinite: return fl ? fmt::format("(!anvil::fm::IsNan({0} - {0}))", arg(0)) : Result<std::string>("true");
    // ---- binary ----
    case Op::kAdd:
      return boolean ? fmt::format("({} || {})", arg(0), arg(1)) : fmt::format("({} + {})", arg(0), arg(1));
    case Op::kSub: return fmt::format("({} - {})", arg(0), arg(1));
    case Op::kMul:
      if (boolean) return fmt::format("({} && {})", arg(0), arg(1));
      // Floats: a rounded product (never contracted into an FMA), so each pass recomputes the same bits.
      return fl ? fmt::format("anvil::fm::Mul({}, {})", arg(0), arg(1)) : fmt::format("({} * {})", arg(0), arg(1));
    case Op::kDiv:
      if (!fl) return unsupported("integer division should have been promoted to floating");
      return fmt::format("({} / {})", arg(0), arg(1));
    case Op::kFloorDivide:
      return fmt::format("anvil::fm::FloorDivide{}({}, {})", fl ? "F" : "I", arg(0), arg(1));
    case Op::kRemainder: return fmt::format("anvil::fm::Remainder{}({}, {})", fl ? "F" : "I", arg(0), arg(1));
    case Op::kFmod:
      return fl ? fmt::format("anvil::fm::Fmod({}, {})", arg(0), arg(1)) : fmt::format("({} % {})", arg(0), arg(1));
    case Op::kPow:
      if (!fl) return unsupported("integer powers are not printed by the built-in compiler yet");
      return fmt::format("anvil::fm::Pow({}, {})", arg(0), arg(1));
    case Op::kMaximum:
    case Op::kClampMin: return fmt::format("anvil::fm::Maximum<{}>({}, {})", ct, arg(0), arg(1));
    case Op::kMinimum:
    case Op::kClampMax: return fmt::format("anvil::fm::Minimum<{}>({}, {})", ct, arg(0), arg(1));
    case Op::kAtan2:
      if (!fl) return unsupported("integer arguments");
      return fmt::format("anvil::fm::Atan2({}, {})", arg(0), arg(1));
    case Op::kLogicalAnd: return fmt::format("(({} != {}(0)) && ({} != {}(0)))", arg(0), ct, arg(1), ct);
    case Op::kLogicalOr: return fmt::format("(({} != {}(0)) || ({} != {}(0)))", arg(0), ct, arg(1), ct);
    case Op::kLogicalXor: return fmt::format("(({} != {}(0)) != ({} != {}(0)))", arg(0), ct, arg(1), ct);
    case Op::kBitwiseAnd:
    case Op::kBitwiseOr:
    case Op::kBitwiseXor: {
      if (fl) return unsupported("bitwise op on floats");
      const char* sym = n.op == Op::kBitwiseAnd ? "&" : n.op == Op::kBitwiseOr ? "|" : "^";
      return fmt::format("static_cast<{}>({} {} {})", ct, arg(0), sym, arg(1));
    }
    case Op::kEq: return fmt::format("({} == {})", arg(0), arg(1));
    case Op::kNe: return fmt::format("({} != {})", arg(0), arg(1));
    case Op::kLt: return fmt::format("({} < {})", arg(0), arg(1));
    case Op::kLe: return fmt::format("({} <= {})", arg(0), arg(1));
    case Op::kGt: return fmt::format("({} > {})", arg(0), arg(1));
    case Op::kGe: return fmt::format("({} >= {})", arg(0), arg(1));
    // ---- others ----
    case Op::kWhere: {
      const std::string cond = arg_dtypes[0] == DType::kBool ? args[0] : fmt::format("({} != 0)", args[0]);
      return fmt::format("({} ? {} : {})", cond, arg(1), arg(2));
    }
    case Op::kTo: {
      const DType to = n.to_dtype;
      const std::string v = args[0];
      if (to == DType::kBool) return fmt::format("({} != {}(0))", v, ComputeType(arg_dtypes[0]));
      if (to == DType::kF16) return fmt::format("anvil::fm::Round16(static_cast<float>({}))", v);
      if (to == DType::kBF16) return fmt::format("anvil::fm::RoundBF16(static_cast<float>({}))", v);
      return fmt::format("static_cast<{}>({})", ComputeType(to), v);
    }
    default: return unsupported("not an elementwise op");
  }
}

std::string AccumulatorType(const KNode& n) {
  const DType t = n.operand_dtype;
  // Sums and products of floats in double: a float sum of 20000 equal values
  // is off by ~1e-3 relative, enough to make x - mean(x) of a constant row
  // noise; max and min are exact in the operand's own type.
  if (IsFloating(t))
    return t == DType::kF64 || n.op == Op::kSum || n.op == Op::kProd ? "double" : "float";
  return "int64_t";
}

std::string ReduceIdentity(const KNode& n) {
  const bool fl = IsFloating(n.operand_dtype);
  const std::string acc = AccumulatorType(n);
  switch (n.op) {
    case Op::kSum: return fmt::format("{}(0)", acc);
    case Op::kProd: return fmt::format("{}(1)", acc);
    case Op::kAmax: return fl ? fmt::format("static_cast<{}>(-INFINITY)", acc) : "(-9223372036854775807LL - 1)";
    case Op::kAmin: return fl ? fmt::format("static_cast<{}>(INFINITY)", acc) : "9223372036854775807LL";
    default: return "0";
  }
}

std::string ReduceUpdate(const KNode& n, const std::string& acc, const std::string& v) {
  const std::string t = AccumulatorType(n);
  switch (n.op) {
    case Op::kSum: return fmt::format("({} + {})", acc, v);
    case Op::kProd: return fmt::format("({} * {})", acc, v);
    case Op::kAmax: return fmt::format("anvil::fm::Maximum<{}>({}, {})", t, acc, v);
    case Op::kAmin: return fmt::format("anvil::fm::Minimum<{}>({}, {})", t, acc, v);
    default: return acc;
  }
}

}  // namespace anvil::compiler
