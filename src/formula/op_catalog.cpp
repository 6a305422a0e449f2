#include "formula/op_catalog.h"

#include "util/check.h"

namespace anvil::formula {
namespace {

using K = OpKind;
using R = DTypeRule;
using O = OperandRule;
using P = ParamType;

ParamSpec Tensor(std::string_view name) { return {name, P::kTensor, "", false, ""}; }
ParamSpec Param(std::string_view name, P type, std::string_view default_value, bool keyword_only = false,
                std::string_view choices = "") {
  return {name, type, default_value, keyword_only, choices};
}
const ParamSpec kX = Tensor("input");
const ParamSpec kOther = Tensor("other");

OpInfo Row(Op op, std::string_view name, K kind, int arity, R rule, O operands, std::initializer_list<ParamSpec> params,
           std::string_view aliases, std::string_view summary, bool callable = true) {
  OpInfo info{op, name, kind, arity, rule, operands, {}, aliases, summary, callable};
  size_t i = 0;
  for (const ParamSpec& p : params) info.params.at(i++) = p;
  return info;
}

// Shorthands for common rows.
OpInfo Unary(Op op, std::string_view name, R rule, O operands, std::string_view summary,
             std::string_view aliases = "") {
  return Row(op, name, K::kUnary, 1, rule, operands, {kX}, aliases, summary);
}
OpInfo Binary(Op op, std::string_view name, R rule, O operands, std::string_view summary,
              std::string_view aliases = "") {
  return Row(op, name, K::kBinary, 2, rule, operands, {kX, kOther}, aliases, summary);
}
OpInfo Reduce(Op op, std::string_view name, R rule, O operands, std::string_view summary) {
  return Row(op, name, K::kReduce, 1, rule, operands,
             {kX, Param("dim", P::kDims, "None"), Param("keepdim", P::kBool, "False")}, "", summary);
}

std::vector<OpInfo> BuildCatalog() {
  std::vector<OpInfo> c = {
      Row(Op::kInput, "input", K::kLeaf, 0, R::kSame, O::kAny, {}, "", "a declared input tensor", false),
      Row(Op::kAttr, "attr", K::kLeaf, 0, R::kSame, O::kAny, {}, "", "a declared scalar attribute", false),
      Row(Op::kConst, "const", K::kLeaf, 0, R::kSame, O::kAny, {}, "", "a number or bool literal", false),

      Unary(Op::kNeg, "neg", R::kSame, O::kNotBool, "-x", "negative"),
      Unary(Op::kAbs, "abs", R::kSame, O::kNotBool, "absolute value", "absolute"),
      Unary(Op::kExp, "exp", R::kFloat, O::kAny, "e^x"),
      Unary(Op::kExp2, "exp2", R::kFloat, O::kAny, "2^x"),
      Unary(Op::kExpm1, "expm1", R::kFloat, O::kAny, "e^x - 1"),
      Unary(Op::kLog, "log", R::kFloat, O::kAny, "natural logarithm"),
      Unary(Op::kLog2, "log2", R::kFloat, O::kAny, "base-2 logarithm"),
      Unary(Op::kLog10, "log10", R::kFloat, O::kAny, "base-10 logarithm"),
      Unary(Op::kLog1p, "log1p", R::kFloat, O::kAny, "log(1 + x)"),
      Unary(Op::kSqrt, "sqrt", R::kFloat, O::kAny, "square root"),
      Unary(Op::kRsqrt, "rsqrt", R::kFloat, O::kAny, "1 / sqrt(x)"),
      Unary(Op::kSin, "sin", R::kFloat, O::kAny, "sine"),
      Unary(Op::kCos, "cos", R::kFloat, O::kAny, "cosine"),
      Unary(Op::kTan, "tan", R::kFloat, O::kAny, "tangent"),
      Unary(Op::kAsin, "asin", R::kFloat, O::kAny, "arcsine", "arcsin"),
      Unary(Op::kAcos, "acos", R::kFloat, O::kAny, "arccosine", "arccos"),
      Unary(Op::kAtan, "atan", R::kFloat, O::kAny, "arctangent", "arctan"),
      Unary(Op::kSinh, "sinh", R::kFloat, O::kAny, "hyperbolic sine"),
      Unary(Op::kCosh, "cosh", R::kFloat, O::kAny, "hyperbolic cosine"),
      Unary(Op::kTanh, "tanh", R::kFloat, O::kAny, "hyperbolic tangent"),
      Unary(Op::kAsinh, "asinh", R::kFloat, O::kAny, "inverse hyperbolic sine", "arcsinh"),
      Unary(Op::kAcosh, "acosh", R::kFloat, O::kAny, "inverse hyperbolic cosine", "arccosh"),
      Unary(Op::kAtanh, "atanh", R::kFloat, O::kAny, "inverse hyperbolic tangent", "arctanh"),
      Unary(Op::kSigmoid, "sigmoid", R::kFloat, O::kAny, "1 / (1 + e^-x)"),
      Unary(Op::kRelu, "relu", R::kSame, O::kNotBool, "max(x, 0)"),
      Row(Op::kGelu, "gelu", K::kUnary, 1, R::kFloat, O::kAny, {kX, Param("approximate", P::kString, "none", true, "none tanh")}, "", "x * Phi(x); approximate='tanh' uses the tanh formula"),
      Unary(Op::kSilu, "silu", R::kFloat, O::kAny, "x * sigmoid(x)"),
      Unary(Op::kMish, "mish", R::kFloat, O::kAny, "x * tanh(softplus(x))"),
      Row(Op::kSoftplus, "softplus", K::kUnary, 1, R::kFloat, O::kAny, {kX, Param("beta", P::kFloat, "1"), Param("threshold", P::kFloat, "20")}, "", "log(1 + e^(beta x)) / beta; x where beta x > threshold"),
      Row(Op::kElu, "elu", K::kUnary, 1, R::kFloat, O::kAny, {kX, Param("alpha", P::kFloat, "1")}, "", "x if x > 0 else alpha (e^x - 1)"),
      Row(Op::kLeakyRelu, "leaky_relu", K::kUnary, 1, R::kFloat, O::kAny, {kX, Param("negative_slope", P::kFloat, "0.01")}, "", "x if x > 0 else negative_slope x"),
      Unary(Op::kHardsigmoid, "hardsigmoid", R::kFloat, O::kAny, "clamp(x / 6 + 1/2, 0, 1)"),
      Unary(Op::kHardswish, "hardswish", R::kFloat, O::kAny, "x * hardsigmoid(x)"),
      Row(Op::kHardtanh, "hardtanh", K::kUnary, 1, R::kFloat, O::kAny, {kX, Param("min_val", P::kFloat, "-1"), Param("max_val", P::kFloat, "1")}, "", "clamp(x, min_val, max_val)"),
      Unary(Op::kErf, "erf", R::kFloat, O::kAny, "error function"),
      Unary(Op::kErfc, "erfc", R::kFloat, O::kAny, "1 - erf(x)"),
      Unary(Op::kFloor, "floor", R::kSame, O::kNotBool, "round down"),
      Unary(Op::kCeil, "ceil", R::kSame, O::kNotBool, "round up"),
      Unary(Op::kRound, "round", R::kSame, O::kNotBool, "round half to even"),
      Unary(Op::kTrunc, "trunc", R::kSame, O::kNotBool, "round toward zero", "fix"),
      Unary(Op::kSign, "sign", R::kSame, O::kAny, "-1, 0 or 1"),
      Unary(Op::kReciprocal, "reciprocal", R::kFloat, O::kAny, "1 / x"),
      Unary(Op::kSquare, "square", R::kSame, O::kNotBool, "x * x"),
      Unary(Op::kLogicalNot, "logical_not", R::kBool, O::kAny, "x == 0"),
      Unary(Op::kBitwiseNot, "bitwise_not", R::kSame, O::kIntOrBool, "~x (logical not on bool)"),
      Unary(Op::kIsnan, "isnan", R::kBool, O::kAny, "x is NaN"),
      Unary(Op::kIsinf, "isinf", R::kBool, O::kAny, "x is +-inf"),
      Unary(Op::kIsfinite, "isfinite", R::kBool, O::kAny, "x is neither NaN nor +-inf"),

      Binary(Op::kAdd, "add", R::kSame, O::kAny, "a + b"),
      Binary(Op::kSub, "sub", R::kSame, O::kNotBool, "a - b", "subtract"),
      Binary(Op::kMul, "mul", R::kSame, O::kAny, "a * b", "multiply"),
      Binary(Op::kDiv, "div", R::kFloat, O::kAny, "a / b (true division)", "divide true_divide"),
      Binary(Op::kFloorDivide, "floor_divide", R::kSame, O::kNotBool, "a // b (rounds toward -inf)"),
      Binary(Op::kRemainder, "remainder", R::kSame, O::kNotBool, "a % b (sign of b, like Python)"),
      Binary(Op::kFmod, "fmod", R::kSame, O::kNotBool, "C fmod (sign of a)"),
      Row(Op::kPow, "pow", K::kBinary, 2, R::kSame, O::kNotBool, {kX, Tensor("exponent")}, "", "a ** b"),
      Binary(Op::kMaximum, "maximum", R::kSame, O::kAny, "elementwise max; NaN propagates"),
      Binary(Op::kMinimum, "minimum", R::kSame, O::kAny, "elementwise min; NaN propagates"),
      Binary(Op::kAtan2, "atan2", R::kFloat, O::kAny, "angle of (b, a)", "arctan2"),
      Binary(Op::kLogicalAnd, "logical_and", R::kBool, O::kAny, "a != 0 and b != 0"),
      Binary(Op::kLogicalOr, "logical_or", R::kBool, O::kAny, "a != 0 or b != 0"),
      Binary(Op::kLogicalXor, "logical_xor", R::kBool, O::kAny, "(a != 0) != (b != 0)"),
      Binary(Op::kBitwiseAnd, "bitwise_and", R::kSame, O::kIntOrBool, "a & b"),
      Binary(Op::kBitwiseOr, "bitwise_or", R::kSame, O::kIntOrBool, "a | b"),
      Binary(Op::kBitwiseXor, "bitwise_xor", R::kSame, O::kIntOrBool, "a ^ b"),
      Binary(Op::kEq, "eq", R::kBool, O::kAny, "a == b"),
      Binary(Op::kNe, "ne", R::kBool, O::kAny, "a != b", "not_equal"),
      Binary(Op::kLt, "lt", R::kBool, O::kAny, "a < b", "less"),
      Binary(Op::kLe, "le", R::kBool, O::kAny, "a <= b", "less_equal"),
      Binary(Op::kGt, "gt", R::kBool, O::kAny, "a > b", "greater"),
      Binary(Op::kGe, "ge", R::kBool, O::kAny, "a >= b", "greater_equal"),
      Binary(Op::kClampMin, "clamp_min", R::kSame, O::kNotBool, "max(a, b); NaN in a propagates"),
      Binary(Op::kClampMax, "clamp_max", R::kSame, O::kNotBool, "min(a, b); NaN in a propagates"),

      Row(Op::kWhere, "where", K::kWhere, 3, R::kWhere, O::kAny, {Tensor("condition"), kX, kOther}, "", "a where condition else b"),
      Row(Op::kTo, "to", K::kCast, 1, R::kCastTarget, O::kAny, {kX, Param("dtype", P::kDType, "")}, "type", "convert to dtype (floats to ints truncate toward zero)"),

      Reduce(Op::kSum, "sum", R::kSumLike, O::kAny, "sum over dims (integers sum in i64)"),
      Reduce(Op::kMean, "mean", R::kSame, O::kFloatOnly, "mean over dims"),
      Reduce(Op::kAmax, "amax", R::kSame, O::kAny, "max over dims; NaN propagates"),
      Reduce(Op::kAmin, "amin", R::kSame, O::kAny, "min over dims; NaN propagates"),
      Reduce(Op::kProd, "prod", R::kSumLike, O::kAny, "product over dims (integers in i64)"),
      Row(Op::kVar, "var", K::kReduce, 1, R::kSame, O::kFloatOnly, {kX, Param("dim", P::kDims, "None"), Param("unbiased", P::kBool, "None", true), Param("keepdim", P::kBool, "False", true),
        Param("correction", P::kInt, "None", true)},
       "", "variance: sum((x - mean)^2) / (n - correction); correction defaults to 1"),
      Row(Op::kStd, "std", K::kReduce, 1, R::kSame, O::kFloatOnly, {kX, Param("dim", P::kDims, "None"), Param("unbiased", P::kBool, "None", true), Param("keepdim", P::kBool, "False", true),
        Param("correction", P::kInt, "None", true)},
       "", "sqrt(var)"),
      Reduce(Op::kLogsumexp, "logsumexp", R::kFloat, O::kAny, "log(sum(exp(x))) over dims, computed stably"),
      Row(Op::kArgmax, "argmax", K::kArgReduce, 1, R::kI64, O::kAny, {kX, Param("dim", P::kDim, "None"), Param("keepdim", P::kBool, "False")}, "", "index of the first max along dim (flattened when no dim)"),
      Row(Op::kArgmin, "argmin", K::kArgReduce, 1, R::kI64, O::kAny, {kX, Param("dim", P::kDim, "None"), Param("keepdim", P::kBool, "False")}, "", "index of the first min along dim (flattened when no dim)"),
      Row(Op::kSoftmax, "softmax", K::kNormalize, 1, R::kFloat, O::kAny, {kX, Param("dim", P::kDim, "")}, "", "exp(x - max) / sum(exp(x - max)) along dim"),
      Row(Op::kLogSoftmax, "log_softmax", K::kNormalize, 1, R::kFloat, O::kAny, {kX, Param("dim", P::kDim, "")}, "", "x - logsumexp(x, dim, keepdim=True)"),
      Row(Op::kMatmul, "matmul", K::kMatmul, 2, R::kMatmul, O::kNotBool, {kX, kOther}, "mm bmm", "torch.matmul: 1-D, 2-D and batched with broadcast batch dims"),
  };
  for (size_t i = 0; i < c.size(); ++i) ANVIL_CHECK(static_cast<size_t>(c[i].op) == i);
  ANVIL_CHECK(c.back().op == Op::kMatmul);
  return c;
}

}  // namespace

const std::vector<OpInfo>& Catalog() {
  static const std::vector<OpInfo> catalog = BuildCatalog();
  return catalog;
}

const OpInfo& Info(Op op) { return Catalog()[static_cast<size_t>(op)]; }

namespace {
bool HasWord(std::string_view list, std::string_view word) {
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(' ', pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == word) return true;
    pos = end + 1;
  }
  return false;
}
}  // namespace

const OpInfo* FindOp(std::string_view name) {
  for (const OpInfo& info : Catalog())
    if (info.callable && (info.name == name || HasWord(info.aliases, name))) return &info;
  return nullptr;
}

std::vector<std::string_view> CallableNames() {
  std::vector<std::string_view> out;
  for (const OpInfo& info : Catalog()) {
    if (!info.callable) continue;
    out.push_back(info.name);
    std::string_view list = info.aliases;
    size_t pos = 0;
    while (pos < list.size()) {
      size_t end = list.find(' ', pos);
      if (end == std::string_view::npos) end = list.size();
      out.push_back(list.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  return out;
}

}  // namespace anvil::formula
