// The op catalog: one table (op_catalog.cpp) that says, for every IR op, its
// formula name and aliases, its kind, its parameters (tensor operands first),
// its dtype rule and which operand dtypes it accepts. The parser's call
// binding, type inference, Verify, Dump, the reference evaluator and
// docs/formula.md all read this table; adding an op starts here.
//
// Thread-safety: immutable static data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace anvil::formula {

// Every IR op. Order matches the catalog table (checked at first use).
enum class Op : uint8_t {
  // leaves
  kInput, kAttr, kConst,
  // unary elementwise
  kNeg, kAbs, kExp, kExp2, kExpm1, kLog, kLog2, kLog10, kLog1p, kSqrt, kRsqrt,
  kSin, kCos, kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kTanh, kAsinh, kAcosh, kAtanh,
  kSigmoid, kRelu, kGelu, kSilu, kMish, kSoftplus, kElu, kLeakyRelu, kHardsigmoid, kHardswish,
  kHardtanh, kErf, kErfc, kFloor, kCeil, kRound, kTrunc, kSign, kReciprocal, kSquare,
  kLogicalNot, kBitwiseNot, kIsnan, kIsinf, kIsfinite,
  // binary elementwise
  kAdd, kSub, kMul, kDiv, kFloorDivide, kRemainder, kFmod, kPow, kMaximum, kMinimum, kAtan2,
  kLogicalAnd, kLogicalOr, kLogicalXor, kBitwiseAnd, kBitwiseOr, kBitwiseXor,
  kEq, kNe, kLt, kLe, kGt, kGe, kClampMin, kClampMax,
  // others
  kWhere, kTo,
  kSum, kMean, kAmax, kAmin, kProd, kVar, kStd, kLogsumexp, kArgmax, kArgmin,
  kSoftmax, kLogSoftmax, kMatmul,
};

enum class OpKind : uint8_t {
  kLeaf,       // input, attribute or literal
  kUnary,      // elementwise, one operand
  kBinary,     // elementwise, two broadcast operands
  kWhere,      // elementwise select, three broadcast operands
  kCast,       // elementwise dtype conversion (attribute to_dtype)
  kReduce,     // reduces `dims` (all dims of the operand when the formula names none)
  kArgReduce,  // index of max/min along one dim, or over the flattened operand
  kNormalize,  // softmax-like: same shape, normalised along one dim
  kMatmul,     // torch.matmul
};

// Result dtype from the (promoted) operand dtype.
enum class DTypeRule : uint8_t {
  kSame,          // the operand's dtype (unary) / promoted dtype (binary)
  kFloat,         // like kSame, but integer and bool become the default float (f32)
  kBool,          // always bool
  kSumLike,       // integer and bool become i64 (torch.sum, torch.prod)
  kI64,           // always i64 (argmax, argmin)
  kCastTarget,    // the node's to_dtype
  kWhere,         // promotion of operands 1 and 2; operand 0 must be bool
  kMatmul,        // operands must already share one dtype (torch does not promote)
};

// Which operand dtypes an op accepts.
enum class OperandRule : uint8_t {
  kAny,
  kNotBool,    // numbers only (torch rejects bool for neg, sub, ...)
  kIntOrBool,  // bitwise ops
  kFloatOnly,  // mean, var, std: torch rejects integer inputs
};

enum class ParamType : uint8_t {
  kTensor,  // an operand: a tensor, scalar attribute or literal expression
  kDims,    // an int or a tuple/list of ints; None or absent = all dims
  kDim,     // one int
  kBool,
  kInt,
  kFloat,   // a number literal
  kString,  // a string literal (choices in `choices`)
  kDType,   // a dtype name (f32, float16, torch.half ...)
};

struct ParamSpec {
  std::string_view name;           // empty: unused slot
  ParamType type = ParamType::kTensor;
  std::string_view default_value;  // "" = required; "None" = optional without value
  bool keyword_only = false;
  std::string_view choices;        // kString: space separated
};

struct OpInfo {
  Op op;
  std::string_view name;     // the formula/torch function name, also the IR's spelling in Dump
  OpKind kind;
  int arity;                 // tensor operands (the first `arity` params)
  DTypeRule dtype_rule;
  OperandRule operand_rule;
  std::array<ParamSpec, 6> params;
  std::string_view aliases;  // space separated other names: "subtract" ...
  std::string_view summary;  // one line for docs and error messages
  bool callable = true;      // false: IR-only (leaves)
};

const std::vector<OpInfo>& Catalog();
const OpInfo& Info(Op op);
// By formula name or alias; nullptr when unknown.
const OpInfo* FindOp(std::string_view name);
// All callable names and aliases, for "did you mean".
std::vector<std::string_view> CallableNames();

}  // namespace anvil::formula
