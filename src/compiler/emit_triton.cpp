// The Triton printer of the built-in compiler: KernelPlans (one per dtype
// variant) -> one Python file that is a Triton candidate (docs/task-format.md,
// the Triton section of docs/verification-policy.md).
//
// What the printed file holds, per variant v<i>:
//   - one @triton.jit kernel. An elementwise plan (passes == 0) runs a flat
//     1-D grid of rows * cdiv(L, BLOCK) programs (flat because grid axes 1
//     and 2 stop at 65535); program p covers row p // nblk, positions
//     (p % nblk) * BLOCK + [0, BLOCK). A row plan runs one program per row:
//     per pass one loop over the row in BLOCK chunks folding that pass's
//     reductions into BLOCK-wide accumulators (masked lanes keep the
//     identity), then tl.sum / tl.max / tl.min / tl.reduce to the row value
//     (max and min propagate NaN through an explicit NaN test, since Triton's
//     tree reductions do not), then the row nodes of that stage; a last loop
//     computes and stores the element outputs; row outputs are stored once,
//     at r. Empty rows still store their row outputs (the identities).
//   - a launcher `_launch_v<i>` reading the domain's sizes from the inputs'
//     shapes (DimSource), each input's stride per domain dim (0 where the
//     plan says it broadcasts: the argument is left out), and the attributes.
//   - a plan with a matmul gets a tiled tl.dot kernel instead, its epilogue
//     evaluated on the finished tile (MatmulKernel()).
//   - outputs are contiguous (stored at r * L + j, or r), except in-place
//     ones (the input tensor itself, kernel_plan.h), whose strides the
//     launcher passes (os<o>_<d>) and which are stored at obase<o> + joffo<o>.
//     A program loads every position it stores before storing it (an
//     elementwise chunk; a row plan's passes, then its output loop).
// `anvil_kernel(inputs..., outputs..., attrs...)` picks the variant whose
// input dtypes match, else raises TypeError naming what it got and serves.
//
// Values: f16/bf16/f32 compute in f32, f64 in f64, integers and bool in their
// own type; loads convert up, stores round (`.to(storage)`). Offsets are int64
// (program ids widened before any multiplication). Transcendentals use
// libdevice (tl.extra.cuda.libdevice: accurate __nv_* functions; Triton's own
// tl.exp is an approximation whose error breaks f32 tolerances far from 0);
// true division in f32 is IEEE-rounded (_anvil_div_rn), as the reference's. Kernels
// launch with enable_fp_fusion=False: a row plan recomputes element values in
// every pass, and each pass must get the same bits (see Launcher()).
// Scalar nodes are computed in the kernel, once per program, in f64/i64/bool
// (the reference evaluates them on 0-dim f64/i64/bool tensors, so IEEE
// results such as 1/0 = inf hold); floating attributes travel as the int64
// bit pattern of the double, because Triton types every Python float
// argument as fp32.
//
// The printed file passes the Triton gate (python/anvil_worker/triton_gate.py):
// it imports only math, torch, triton and triton.language, and outside the
// kernels touches tensors only through .shape, .stride() and .dtype.
//
// A plan this printer cannot make correct is kUnsupported naming the op.
// Thread-safety: pure functions.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/emit.h"
#include "compiler/kernel_plan.h"
#include "formula/op_catalog.h"
#include "formula/python_emit.h"

namespace anvil::compiler {
namespace {

using formula::Op;
using Kind = KNode::Kind;

constexpr const char* kLib = "tl.extra.cuda.libdevice";
constexpr const char* kNanAll = "propagate_nan=tl.PropagateNan.ALL";

std::string N(int64_t v) { return std::to_string(v); }

// tl dtype of a tensor element in memory.
std::string StorageTl(DType t) {
  switch (t) {
    case DType::kBool: return "tl.int1";
    case DType::kU8: return "tl.uint8";
    case DType::kI8: return "tl.int8";
    case DType::kI16: return "tl.int16";
    case DType::kI32: return "tl.int32";
    case DType::kI64: return "tl.int64";
    case DType::kF16: return "tl.float16";
    case DType::kBF16: return "tl.bfloat16";
    case DType::kF32: return "tl.float32";
    case DType::kF64: return "tl.float64";
  }
  return "tl.float32";
}

// tl dtype a value of `t` is computed in: f32 for the half types.
std::string ComputeTl(DType t) {
  if (t == DType::kF16 || t == DType::kBF16) return "tl.float32";
  return StorageTl(t);
}

// The dtype a node's value carries in the kernel. Attribute and literal
// leaves carry Python numbers (f64, i64 or bool by category), whatever their
// declared dtype; every other node its own dtype.
DType CarriedDType(const KNode& n) {
  if (n.kind == Kind::kAttr || n.kind == Kind::kConst || n.kind == Kind::kRowLength) {
    switch (Category(n.kind == Kind::kConst ? n.value.dtype : n.dtype)) {
      case DTypeCategory::kBool: return DType::kBool;
      case DTypeCategory::kInteger: return DType::kI64;
      case DTypeCategory::kFloating: return DType::kF64;
    }
  }
  return n.dtype;
}

// A Python float literal of `v` for an expression computed in `t`. Triton
// makes a bare float literal an fp32 constant, so f64 constants are built
// with tl.full to keep every bit.
std::string Lit(double v, DType t) {
  std::string text = formula::PythonLiteral(ScalarValue::Float(v));
  if (t == DType::kF64) return "tl.full([], " + text + ", tl.float64)";
  return text;
}

// `expr` (computed as `from`) as a value computed as `to`.
std::string Convert(const std::string& expr, DType from, DType to) {
  if (ComputeTl(from) == ComputeTl(to)) return expr;
  if (to == DType::kBool) return "((" + expr + ") != 0)";
  return "(" + expr + ").to(" + ComputeTl(to) + ")";
}

// x rounded to `t`'s precision but kept in its compute type (casts to f16/bf16).
std::string RoundTo(const std::string& expr, DType t) {
  if (t == DType::kF16 || t == DType::kBF16) return "(" + expr + ").to(" + StorageTl(t) + ").to(tl.float32)";
  return expr;
}

std::string Lib(const std::string& fn, const std::string& args) { return std::string(kLib) + "." + fn + "(" + args + ")"; }

std::string OpName(Op op) { return std::string(formula::Info(op).name); }

// The dtype an op works in: integer operands of float-only ops (exp, /, ...)
// are converted to the float result first, as the reference does.
DType WorkDType(const KNode& n) {
  if (formula::Info(n.op).dtype_rule == formula::DTypeRule::kFloat && IsFloating(n.dtype) &&
      !IsFloating(n.operand_dtype))
    return n.dtype;
  return n.operand_dtype;
}

// The Triton expression of kOp node `n` on `a` (operands converted to
// WorkDType(n); for where: a[0] is bool). The result is in ComputeTl(n.dtype).
Result<std::string> OpExpr(const KNode& n, const std::vector<std::string>& a) {
  const DType w = WorkDType(n);
  const bool fl = IsFloating(w);
  const bool is_bool = w == DType::kBool;
  const bool is_unsigned = w == DType::kU8;
  auto L = [&](double v) { return Lit(v, w); };
  auto unsupported = [&](const std::string& why) -> Result<std::string> {
    return Unsupported("triton printer: op '" + OpName(n.op) + "' (" + n.origin + ") on " +
                       std::string(DTypeName(w)) + " " + why);
  };
  auto x = [&](size_t i) { return "(" + a.at(i) + ")"; };
  auto lib1 = [&](const std::string& fn) -> Result<std::string> {
    if (!fl) return unsupported("needs a floating operand");
    return Lib(fn, a.at(0));
  };
  auto nan_max = [&](const std::string& p, const std::string& q) {
    return "tl.maximum(" + p + ", " + q + ", " + kNanAll + ")";
  };
  auto nan_min = [&](const std::string& p, const std::string& q) {
    return "tl.minimum(" + p + ", " + q + ", " + kNanAll + ")";
  };
  const std::vector<double>& p = n.params;
  switch (n.op) {
    case Op::kNeg: return "(-" + x(0) + ")";
    case Op::kAbs:
      if (is_bool || is_unsigned) return a.at(0);
      return "tl.abs(" + a.at(0) + ")";
    case Op::kExp: return lib1("exp");
    case Op::kExp2: return lib1("exp2");
    case Op::kExpm1: return lib1("expm1");
    case Op::kLog: return lib1("log");
    case Op::kLog2: return lib1("log2");
    case Op::kLog10: return lib1("log10");
    case Op::kLog1p: return lib1("log1p");
    case Op::kSqrt: return lib1("sqrt");
    case Op::kRsqrt: return lib1("rsqrt");
    case Op::kSin: return lib1("sin");
    case Op::kCos: return lib1("cos");
    case Op::kTan: return lib1("tan");
    case Op::kAsin: return lib1("asin");
    case Op::kAcos: return lib1("acos");
    case Op::kAtan: return lib1("atan");
    case Op::kSinh: return lib1("sinh");
    case Op::kCosh: return lib1("cosh");
    case Op::kTanh: return lib1("tanh");
    case Op::kAsinh: return lib1("asinh");
    case Op::kAcosh: return lib1("acosh");
    case Op::kAtanh: return lib1("atanh");
    case Op::kErf: return lib1("erf");
    case Op::kErfc: return lib1("erfc");
    case Op::kSigmoid:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + L(1) + " / (" + L(1) + " + " + Lib("exp", "-" + x(0)) + "))";
    case Op::kRelu:
      if (is_bool) return unsupported("is not defined for bool");
      return "tl.where(" + x(0) + " < 0, 0, " + a.at(0) + ").to(" + ComputeTl(n.dtype) + ")";
    case Op::kGelu:
      if (!fl) return unsupported("needs a floating operand");
      if (n.approximate == "tanh")
        return "(" + L(0.5) + " * " + x(0) + " * (" + L(1) + " + " +
               Lib("tanh", L(0.7978845608028654) + " * (" + x(0) + " + " + L(0.044715) + " * " + x(0) + " * " +
                               x(0) + " * " + x(0) + ")") +
               "))";
      return "(" + L(0.5) + " * " + x(0) + " * (" + L(1) + " + " + Lib("erf", x(0) + " * " + L(0.7071067811865476)) +
             "))";
    case Op::kSilu:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + x(0) + " / (" + L(1) + " + " + Lib("exp", "-" + x(0)) + "))";
    case Op::kMish:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + x(0) + " * " + Lib("tanh", Lib("log1p", Lib("exp", a.at(0)))) + ")";
    case Op::kSoftplus: {
      if (!fl || p.size() < 2) return unsupported("needs a floating operand and beta, threshold");
      std::string bx = "(" + x(0) + " * " + L(p[0]) + ")";
      return "tl.where(" + bx + " > " + L(p[1]) + ", " + a.at(0) + ", " + Lib("log1p", Lib("exp", bx)) + " / " +
             L(p[0]) + ")";
    }
    case Op::kElu:
      if (!fl || p.empty()) return unsupported("needs a floating operand and alpha");
      return "tl.where(" + x(0) + " > 0, " + a.at(0) + ", " + L(p[0]) + " * " + Lib("expm1", a.at(0)) + ")";
    case Op::kLeakyRelu:
      if (!fl || p.empty()) return unsupported("needs a floating operand and negative_slope");
      return "tl.where(" + x(0) + " > 0, " + a.at(0) + ", " + x(0) + " * " + L(p[0]) + ")";
    case Op::kHardsigmoid:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + nan_min(nan_max(x(0) + " + " + L(3), L(0)), L(6)) + " / " + L(6) + ")";
    case Op::kHardswish:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + x(0) + " * " + nan_min(nan_max(x(0) + " + " + L(3), L(0)), L(6)) + " / " + L(6) + ")";
    case Op::kHardtanh:
      if (!fl || p.size() < 2) return unsupported("needs a floating operand and min_val, max_val");
      return nan_min(nan_max(a.at(0), L(p[0])), L(p[1]));
    case Op::kFloor: return fl ? Lib("floor", a.at(0)) : a.at(0);
    case Op::kCeil: return fl ? Lib("ceil", a.at(0)) : a.at(0);
    case Op::kTrunc: return fl ? Lib("trunc", a.at(0)) : a.at(0);
    case Op::kRound: return fl ? Lib("rint", a.at(0)) : a.at(0);  // rint: half to even, as torch.round
    case Op::kSign:
      if (is_bool) return a.at(0);
      // (0 < x) - (x < 0): NaN gives 0, as ATen's sign kernel.
      return "((" + x(0) + " > 0).to(" + ComputeTl(w) + ") - (" + x(0) + " < 0).to(" + ComputeTl(w) + "))";
    case Op::kReciprocal:
      if (!fl) return unsupported("needs a floating operand");
      return "(" + L(1) + " / " + x(0) + ")";
    case Op::kSquare: return "(" + x(0) + " * " + x(0) + ")";
    case Op::kLogicalNot: return "(" + x(0) + " == 0)";
    case Op::kBitwiseNot:
      if (is_bool) return "(" + x(0) + " == 0)";
      if (fl) return unsupported("needs an integer operand");
      return "(~" + x(0) + ")";
    case Op::kIsnan: return "(" + x(0) + " != " + x(0) + ")";
    case Op::kIsinf:
      if (!fl) return "(" + x(0) + " != " + x(0) + ")";  // false, shaped like x
      return "(tl.abs(" + a.at(0) + ") == float('inf'))";
    case Op::kIsfinite:
      if (!fl) return "(" + x(0) + " == " + x(0) + ")";  // true, shaped like x
      return "(tl.abs(" + a.at(0) + ") < float('inf'))";

    case Op::kAdd: return is_bool ? "(" + x(0) + " | " + x(1) + ")" : "(" + x(0) + " + " + x(1) + ")";
    case Op::kSub: return "(" + x(0) + " - " + x(1) + ")";
    case Op::kMul: return is_bool ? "(" + x(0) + " & " + x(1) + ")" : "(" + x(0) + " * " + x(1) + ")";
    case Op::kDiv:
      if (!fl) return unsupported("needs floating operands (true division)");
      // Triton's f32 '/' is div.full.f32 (2 ulp, not correctly rounded); the reference and the CPU/CUDA
      // printers divide with IEEE rounding. f64 '/' is already div.rn.f64.
      if (w != DType::kF64) return "_anvil_div_rn(" + a.at(0) + ", " + a.at(1) + ")";
      return "(" + x(0) + " / " + x(1) + ")";
    case Op::kFloorDivide:
      if (fl) {
        // ATen's div_floor: fmod-corrected quotient, then floor with a round-up when off by more than 1/2.
        std::string mod = Lib("fmod", a.at(0) + ", " + a.at(1));
        std::string div = "((" + x(0) + " - " + mod + ") / " + x(1) + ")";
        std::string fix = "tl.where((" + mod + " != 0) & ((" + x(1) + " < 0) != (" + mod + " < 0)), " + div +
                          " - " + L(1) + ", " + div + ")";
        std::string fl_ = Lib("floor", fix);
        std::string q = "tl.where(" + fix + " - " + fl_ + " > " + L(0.5) + ", " + fl_ + " + " + L(1) + ", " + fl_ + ")";
        std::string q0 = "tl.where(" + fix + " == 0, " + Lib("copysign", L(0) + ", " + x(0) + " / " + x(1)) + ", " +
                         q + ")";
        return "tl.where(" + x(1) + " == 0, " + x(0) + " / " + x(1) + ", " + q0 + ")";
      }
      if (is_unsigned) return "(" + x(0) + " // " + x(1) + ")";
      // Triton's // truncates (C); Python floors.
      return "(" + x(0) + " // " + x(1) + " - ((" + x(0) + " % " + x(1) + " != 0) & ((" + x(0) + " < 0) != (" +
             x(1) + " < 0))).to(" + ComputeTl(w) + "))";
    case Op::kRemainder: {
      std::string r = fl ? Lib("fmod", a.at(0) + ", " + a.at(1)) : "(" + x(0) + " % " + x(1) + ")";
      if (is_unsigned) return r;
      return "tl.where((" + r + " != 0) & ((" + r + " < 0) != (" + x(1) + " < 0)), " + r + " + " + x(1) + ", " + r +
             ")";
    }
    case Op::kFmod: return fl ? Lib("fmod", a.at(0) + ", " + a.at(1)) : "(" + x(0) + " % " + x(1) + ")";
    case Op::kPow:
      if (!fl) return unsupported("(integer powers are not printed; convert to a float type in the formula)");
      return Lib("pow", a.at(0) + ", " + a.at(1));
    case Op::kMaximum:
    case Op::kClampMin:
      if (is_bool) return "(" + x(0) + " | " + x(1) + ")";
      return fl ? nan_max(a.at(0), a.at(1)) : "tl.maximum(" + a.at(0) + ", " + a.at(1) + ")";
    case Op::kMinimum:
    case Op::kClampMax:
      if (is_bool) return "(" + x(0) + " & " + x(1) + ")";
      return fl ? nan_min(a.at(0), a.at(1)) : "tl.minimum(" + a.at(0) + ", " + a.at(1) + ")";
    case Op::kAtan2:
      if (!fl) return unsupported("needs floating operands");
      return Lib("atan2", a.at(0) + ", " + a.at(1));
    case Op::kLogicalAnd: return "((" + x(0) + " != 0) & (" + x(1) + " != 0))";
    case Op::kLogicalOr: return "((" + x(0) + " != 0) | (" + x(1) + " != 0))";
    case Op::kLogicalXor: return "((" + x(0) + " != 0) != (" + x(1) + " != 0))";
    case Op::kBitwiseAnd: return "(" + x(0) + " & " + x(1) + ")";
    case Op::kBitwiseOr: return "(" + x(0) + " | " + x(1) + ")";
    case Op::kBitwiseXor: return "(" + x(0) + " ^ " + x(1) + ")";
    case Op::kEq: return "(" + x(0) + " == " + x(1) + ")";
    case Op::kNe: return "(" + x(0) + " != " + x(1) + ")";
    case Op::kLt: return "(" + x(0) + " < " + x(1) + ")";
    case Op::kLe: return "(" + x(0) + " <= " + x(1) + ")";
    case Op::kGt: return "(" + x(0) + " > " + x(1) + ")";
    case Op::kGe: return "(" + x(0) + " >= " + x(1) + ")";
    case Op::kWhere: return "tl.where(" + a.at(0) + ", " + a.at(1) + ", " + a.at(2) + ")";
    default: return unsupported("has no Triton rule");
  }
}

// Text of one kernel and its launcher; `v` is the variant's index.
class VariantPrinter {
 public:
  VariantPrinter(const KernelPlan& plan, int v, const KernelParams& params) : plan_(plan), v_(v), params_(params) {}

  Result<std::string> Print() {
    ANVIL_RETURN_IF_ERROR(Check());
    n_ = plan_.rank;
    k_ = plan_.reduced_dims;
    if (plan_.HasMatmul()) {
      ANVIL_RETURN_IF_ERROR(MatmulKernel());
      MatmulLauncher();
      return os_.str();
    }
    ANVIL_RETURN_IF_ERROR(Kernel());
    Launcher();
    return os_.str();
  }

  std::string KernelName() const { return "_" + plan_.name + "_v" + N(v_); }
  std::string LauncherName() const { return "_launch_v" + N(v_); }

 private:
  Status Check() const {
    if (plan_.dim_source.size() != static_cast<size_t>(plan_.rank) || plan_.reduced_dims > plan_.rank)
      return InternalError("triton printer: plan '" + plan_.name + "' has inconsistent rank/dims");
    if (plan_.HasMatmul() && plan_.nodes[static_cast<size_t>(plan_.matmul)].dtype == DType::kF64)
      return Unsupported("triton printer: an f64 matmul (" + plan_.nodes[static_cast<size_t>(plan_.matmul)].origin +
                         ") is not printed (tl.dot serves f16, bf16 and f32); use --target cpu");
    for (const KNode& n : plan_.nodes) {
      if (n.kind != Kind::kReduce) continue;
      if (n.op != Op::kSum && n.op != Op::kAmax && n.op != Op::kAmin && n.op != Op::kProd)
        return Unsupported("triton printer: reduction '" + OpName(n.op) + "' (" + n.origin + ") has no Triton rule");
      if (n.operand_dtype == DType::kBool && (n.op == Op::kAmax || n.op == Op::kAmin))
        return Unsupported("triton printer: " + OpName(n.op) + " over bool (" + n.origin + ") is not printed");
    }
    return Status::Ok();
  }

  bool Strided(size_t i, int d) const { return !plan_.inputs[i].broadcast.at(static_cast<size_t>(d)); }
  std::string Stride(size_t i, int d) const { return "s" + N(static_cast<int64_t>(i)) + "_" + N(d); }
  // In-place output o: its stride along domain dim d (a kernel argument), for the dims it varies along.
  std::string OutStride(size_t o, int d) const { return "os" + N(static_cast<int64_t>(o)) + "_" + N(d); }
  int OutStrideDims(size_t o) const {
    const PlanOutput& out = plan_.outputs[o];
    if (out.inplace < 0) return 0;
    return out.per_element ? plan_.rank : plan_.rank - plan_.reduced_dims;
  }
  // The launcher's arguments for those strides, in KernelArgs() order.
  std::string OutStrideCall() const {
    std::string call;
    for (size_t o = 0; o < plan_.outputs.size(); ++o)
      for (int d = 0; d < OutStrideDims(o); ++d) call += plan_.outputs[o].name + ".stride(" + N(d) + "), ";
    return call;
  }
  // Where output o's value goes: contiguous at `flat`, in place through its strides.
  std::string OutAddress(size_t o, const std::string& flat) const {
    const std::string p = "out" + N(static_cast<int64_t>(o)) + "_ptr + ";
    if (plan_.outputs[o].inplace < 0) return p + flat;
    return p + "obase" + N(static_cast<int64_t>(o)) + (plan_.outputs[o].per_element ? " + joffo" + N(static_cast<int64_t>(o)) : "");
  }
  std::string V(int id) const { return "v" + N(id); }
  // Value of node `id` as an operand in `to`.
  std::string Use(int id, DType to) const { return Convert(V(id), CarriedDType(plan_.nodes[id]), to); }

  void Line(int indent, const std::string& text) { os_ << std::string(static_cast<size_t>(indent) * 4, ' ') << text << "\n"; }

  // Kernel parameter list, also used by the launcher (same order).
  std::vector<std::string> KernelArgs() const {
    std::vector<std::string> args;
    for (size_t i = 0; i < plan_.inputs.size(); ++i) args.push_back("in" + N(static_cast<int64_t>(i)) + "_ptr");
    for (size_t o = 0; o < plan_.outputs.size(); ++o) args.push_back("out" + N(static_cast<int64_t>(o)) + "_ptr");
    args.push_back("L");
    if (plan_.HasMatmul()) {
      args.push_back("KD");
    } else if (!plan_.HasReductions()) {
      args.push_back("nblk");
    }
    for (int d = 0; d < n_; ++d) args.push_back("D" + N(d));
    for (size_t i = 0; i < plan_.inputs.size(); ++i)
      for (int d = 0; d < n_; ++d)
        if (Strided(i, d)) args.push_back(Stride(i, d));
    for (size_t o = 0; o < plan_.outputs.size(); ++o)
      for (int d = 0; d < OutStrideDims(o); ++d) args.push_back(OutStride(o, d));
    for (size_t a = 0; a < plan_.attrs.size(); ++a) args.push_back("a" + N(static_cast<int64_t>(a)));
    return args;
  }

  Status Node(int indent, int id) {
    const KNode& n = plan_.nodes[static_cast<size_t>(id)];
    switch (n.kind) {
      case Kind::kInput: {
        const std::string ptr = "in" + N(n.index) + "_ptr + base" + N(n.index);
        if (n.level == Level::kElement) {
          Line(indent, V(id) + " = tl.load(" + ptr + " + joff" + N(n.index) + ", mask=mask, other=0).to(" +
                           ComputeTl(n.dtype) + ")");
        } else {
          Line(indent, V(id) + " = tl.load(" + ptr + ").to(" + ComputeTl(n.dtype) + ")");
        }
        return Status::Ok();
      }
      case Kind::kAttr: {
        // a<i> is an int: the f64 bit pattern, the integer, or 0/1.
        const std::string widened = "(tl.full([], 0, tl.int64) + a" + N(n.index) + ")";
        switch (CarriedDType(n)) {
          case DType::kF64: Line(indent, V(id) + " = " + widened + ".to(tl.float64, bitcast=True)"); break;
          case DType::kBool: Line(indent, V(id) + " = " + widened + " != 0"); break;
          default: Line(indent, V(id) + " = " + widened); break;
        }
        return Status::Ok();
      }
      case Kind::kConst: {
        DType t = CarriedDType(n);
        std::string lit = formula::PythonLiteral(n.value);
        if (t == DType::kF64) lit = formula::PythonLiteral(ScalarValue::Float(n.value.AsDouble()));
        Line(indent, V(id) + " = tl.full([], " + lit + ", " + ComputeTl(t) + ")");
        return Status::Ok();
      }
      case Kind::kRowLength: {
        Line(indent, V(id) + " = (tl.full([], 0, tl.int64) + L)" +
                         (CarriedDType(n) == DType::kI64 ? "" : ".to(" + ComputeTl(CarriedDType(n)) + ")"));
        return Status::Ok();
      }
      case Kind::kOp: {
        std::string rhs;
        if (n.op == Op::kTo) {
          if (n.operands.size() != 1) return InternalError("triton printer: to() with " + N(static_cast<int64_t>(n.operands.size())) + " operands");
          const DType src = CarriedDType(plan_.nodes[static_cast<size_t>(n.operands[0])]);
          const DType dst = n.to_dtype;
          std::string value = V(n.operands[0]);
          if (IsFloating(src) && !IsFloating(dst) && dst != DType::kBool) {
            value = "(" + value + ").to(" + StorageTl(dst) + ")";  // fptosi/fptoui: truncates toward zero
          } else if (src == DType::kF64 && (dst == DType::kF16 || dst == DType::kBF16)) {
            value = RoundTo("(" + value + ").to(tl.float32)", dst);  // no direct f64 -> half cast in Triton
          } else {
            value = RoundTo(Convert(value, src, dst), dst);
          }
          rhs = Convert(value, dst, n.dtype);
        } else {
          std::vector<std::string> args;
          const DType w = WorkDType(n);
          for (size_t i = 0; i < n.operands.size(); ++i) {
            DType to = (n.op == Op::kWhere && i == 0) ? DType::kBool : w;
            args.push_back(Use(n.operands[i], to));
          }
          ANVIL_ASSIGN_OR_RETURN(std::string e, OpExpr(n, args));
          // Comparisons and logical ops give bool; the others w (or its float result).
          DType result_in = formula::Info(n.op).dtype_rule == formula::DTypeRule::kBool ? DType::kBool : w;
          if (n.op == Op::kWhere) result_in = w;
          rhs = Convert(e, result_in, n.dtype);
        }
        Line(indent, V(id) + " = " + rhs + "  # " + n.origin);
        return Status::Ok();
      }
      case Kind::kReduce: return InternalError("triton printer: reduction " + N(id) + " reached Node()");
      case Kind::kMatmul:
        Line(indent, V(id) + " = acc  # " + n.origin);
        return Status::Ok();
    }
    return Status::Ok();
  }

  // The accumulator dtype of a reduction: f32 for f16/bf16/f32, f64, i64 for integer sums and products.
  DType AccDType(const KNode& n) const {
    const DType t = n.operand_dtype;
    if (IsFloating(t)) return t == DType::kF64 ? DType::kF64 : DType::kF32;
    if (n.op == Op::kSum || n.op == Op::kProd) return DType::kI64;
    return t;
  }

  std::string Identity(const KNode& n) const {
    const DType acc = AccDType(n);
    switch (n.op) {
      case Op::kSum: return "0";
      case Op::kProd: return "1";
      case Op::kAmax:
      case Op::kAmin: {
        bool max = n.op == Op::kAmax;
        if (IsFloating(acc)) return max ? "float('-inf')" : "float('inf')";
        switch (acc) {
          case DType::kU8: return max ? "0" : "255";
          case DType::kI8: return max ? "-128" : "127";
          case DType::kI16: return max ? "-32768" : "32767";
          case DType::kI32: return max ? "-2147483648" : "2147483647";
          default: return max ? "-9223372036854775808" : "9223372036854775807";
        }
      }
      default: return "0";
    }
  }

  // Per-chunk position index j, mask, and each element input's offset along the row axis.
  void ChunkPrologue(int indent, const std::string& j_expr) {
    Line(indent, "j = " + j_expr);
    Line(indent, "mask = j < L");
    std::vector<std::string> coord(static_cast<size_t>(n_));
    if (k_ == 1) {
      coord[static_cast<size_t>(n_ - 1)] = "j";
    } else if (k_ > 1) {
      Line(indent, "rem = j");
      for (int d = n_ - 1; d >= n_ - k_; --d) {
        if (d == n_ - k_) {
          Line(indent, "c" + N(d) + " = rem");
        } else {
          Line(indent, "c" + N(d) + " = rem % D" + N(d));
          Line(indent, "rem = rem // D" + N(d));
        }
        coord[static_cast<size_t>(d)] = "c" + N(d);
      }
    }
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      if (plan_.inputs[i].level != Level::kElement) continue;
      std::string off;
      for (int d = n_ - k_; d < n_; ++d)
        if (Strided(i, d)) off += (off.empty() ? "" : " + ") + coord[static_cast<size_t>(d)] + " * " + Stride(i, d);
      Line(indent, "joff" + N(static_cast<int64_t>(i)) + " = " + (off.empty() ? "j * 0" : off));
    }
    for (size_t o = 0; o < plan_.outputs.size(); ++o) {
      if (plan_.outputs[o].inplace < 0 || !plan_.outputs[o].per_element) continue;
      std::string off;
      for (int d = n_ - k_; d < n_; ++d)
        off += (off.empty() ? "" : " + ") + coord[static_cast<size_t>(d)] + " * " + OutStride(o, d);
      Line(indent, "joffo" + N(static_cast<int64_t>(o)) + " = " + (off.empty() ? "j * 0" : off));
    }
  }

  Status Elements(int indent, const std::vector<int>& ids) {
    for (int id : ids) ANVIL_RETURN_IF_ERROR(Node(indent, id));
    return Status::Ok();
  }

  std::string StoreValue(const PlanOutput& o) const { return "(" + Use(o.node, o.dtype) + ").to(" + StorageTl(o.dtype) + ")"; }

  Status Kernel() {
    std::vector<std::string> args = KernelArgs();
    std::string sig;
    for (const std::string& a : args) sig += a + ", ";
    Line(0, "@triton.jit");
    Line(0, "def " + KernelName() + "(" + sig + "BLOCK: tl.constexpr):");
    Line(1, "# " + plan_.name + ", variant " + N(v_) + ": " + VariantLabel(plan_));
    Line(1, "offs = tl.arange(0, BLOCK)");
    if (plan_.HasReductions()) {
      Line(1, "r = tl.program_id(0).to(tl.int64)");
    } else {
      Line(1, "pid = tl.program_id(0).to(tl.int64)");
      Line(1, "r = pid // nblk");
      Line(1, "j0 = (pid % nblk) * BLOCK");
    }
    // Row coordinates and each input's base offset.
    const int row_dims = n_ - k_;
    std::vector<std::string> coord(static_cast<size_t>(n_));
    if (row_dims > 0) {
      Line(1, "rrem = r");
      for (int d = row_dims - 1; d >= 0; --d) {
        if (d == 0) {
          Line(1, "r0 = rrem");
        } else {
          Line(1, "r" + N(d) + " = rrem % D" + N(d));
          Line(1, "rrem = rrem // D" + N(d));
        }
        coord[static_cast<size_t>(d)] = "r" + N(d);
      }
    }
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      std::string base;
      for (int d = 0; d < row_dims; ++d)
        if (Strided(i, d)) base += (base.empty() ? "" : " + ") + coord[static_cast<size_t>(d)] + " * " + Stride(i, d);
      Line(1, "base" + N(static_cast<int64_t>(i)) + " = " + (base.empty() ? "r * 0" : base));
    }
    for (size_t o = 0; o < plan_.outputs.size(); ++o) {
      if (plan_.outputs[o].inplace < 0) continue;
      std::string base;
      for (int d = 0; d < row_dims; ++d)
        base += (base.empty() ? "" : " + ") + coord[static_cast<size_t>(d)] + " * " + OutStride(o, d);
      Line(1, "obase" + N(static_cast<int64_t>(o)) + " = " + (base.empty() ? "r * 0" : base) + "  # in place: its strides");
    }
    // Scalars, then row values available at the row's start.
    for (int id : plan_.ScalarNodes()) ANVIL_RETURN_IF_ERROR(Node(1, id));
    for (int id : plan_.RowNodesAfter(-1)) ANVIL_RETURN_IF_ERROR(Node(1, id));

    if (!plan_.HasReductions()) {
      ChunkPrologue(1, "j0 + offs");
      std::vector<int> targets;
      for (const PlanOutput& o : plan_.outputs) targets.push_back(o.node);
      ANVIL_RETURN_IF_ERROR(Elements(1, plan_.ElementNodesFor(targets)));
      for (size_t o = 0; o < plan_.outputs.size(); ++o)
        Line(1, "tl.store(" + OutAddress(o, "r * L + j") + ", " + StoreValue(plan_.outputs[o]) + ", mask=mask)");
      Line(0, "");
      Line(0, "");
      return Status::Ok();
    }

    for (int pass = 0; pass < plan_.passes; ++pass) {
      std::vector<int> reduces = plan_.ReducesInPass(pass);
      Line(1, "# pass " + N(pass));
      for (int id : reduces) {
        const KNode& n = plan_.nodes[static_cast<size_t>(id)];
        Line(1, "acc" + N(id) + " = tl.full([BLOCK], " + Identity(n) + ", " + ComputeTl(AccDType(n)) + ")  # " +
                    n.origin);
      }
      if (!reduces.empty()) {
        Line(1, "for jc in range(0, L, BLOCK):");
        ChunkPrologue(2, "jc + offs.to(tl.int64)");
        std::vector<int> operands;
        for (int id : reduces) operands.push_back(plan_.nodes[static_cast<size_t>(id)].operands.at(0));
        ANVIL_RETURN_IF_ERROR(Elements(2, plan_.ElementNodesFor(operands)));
        for (int id : reduces) {
          const KNode& n = plan_.nodes[static_cast<size_t>(id)];
          const DType acc = AccDType(n);
          const std::string xv = "x" + N(id);
          const std::string a = "acc" + N(id);
          Line(2, xv + " = " + Use(n.operands.at(0), acc));
          switch (n.op) {
            case Op::kSum: Line(2, a + " = " + a + " + tl.where(mask, " + xv + ", 0)"); break;
            case Op::kProd: Line(2, a + " = " + a + " * tl.where(mask, " + xv + ", 1)"); break;
            default: {
              const std::string cmp = n.op == Op::kAmax ? " > " : " < ";
              // A NaN lane stays NaN: no comparison with it is true.
              std::string take = "(" + xv + cmp + a + ")";
              if (IsFloating(acc)) take = "(" + take + " | (" + xv + " != " + xv + "))";
              Line(2, a + " = tl.where(mask & " + take + ", " + xv + ", " + a + ")");
            }
          }
        }
        for (int id : reduces) {
          const KNode& n = plan_.nodes[static_cast<size_t>(id)];
          const std::string a = "acc" + N(id);
          std::string value;
          switch (n.op) {
            case Op::kSum: value = "tl.sum(" + a + ", axis=0)"; break;
            case Op::kProd: value = "tl.reduce(" + a + ", 0, _anvil_mul)"; break;
            default: {
              value = std::string(n.op == Op::kAmax ? "tl.max(" : "tl.min(") + a + ", axis=0)";
              if (IsFloating(AccDType(n)))
                value = "tl.where(tl.max((" + a + " != " + a + ").to(tl.int32), axis=0) > 0, float('nan'), " + value + ")";
            }
          }
          Line(1, V(id) + " = " + Convert(value, AccDType(n), n.dtype));
        }
      }
      for (int id : plan_.RowNodesAfter(pass)) ANVIL_RETURN_IF_ERROR(Node(1, id));
    }

    // Element outputs, then row outputs.
    std::vector<int> element_targets;
    for (const PlanOutput& o : plan_.outputs)
      if (o.per_element) element_targets.push_back(o.node);
    if (!element_targets.empty()) {
      Line(1, "for jc in range(0, L, BLOCK):");
      ChunkPrologue(2, "jc + offs.to(tl.int64)");
      ANVIL_RETURN_IF_ERROR(Elements(2, plan_.ElementNodesFor(element_targets)));
      for (size_t o = 0; o < plan_.outputs.size(); ++o)
        if (plan_.outputs[o].per_element)
          Line(2, "tl.store(" + OutAddress(o, "r * L + j") + ", " + StoreValue(plan_.outputs[o]) + ", mask=mask)");
    }
    for (size_t o = 0; o < plan_.outputs.size(); ++o)
      if (!plan_.outputs[o].per_element)
        Line(1, "tl.store(" + OutAddress(o, "r") + ", " + StoreValue(plan_.outputs[o]) + ")");
    Line(0, "");
    Line(0, "");
    return Status::Ok();
  }

  // Attributes: floats as the bits of the double (Triton would pass fp32), ints as ints, bools as 0/1.
  void LauncherAttrs() {
    for (size_t a = 0; a < plan_.attrs.size(); ++a) {
      const formula::AttrDecl& d = plan_.attrs[a];
      std::string v;
      switch (Category(d.dtype)) {
        case DTypeCategory::kFloating: v = "_f64_bits(float(" + d.name + "))"; break;
        case DTypeCategory::kInteger: v = "int(" + d.name + ")"; break;
        case DTypeCategory::kBool: v = "1 if " + d.name + " else 0"; break;
      }
      Line(1, "_a" + N(static_cast<int64_t>(a)) + " = " + v);
    }
  }

  void Launcher() {
    std::vector<std::string> params;
    for (const PlanInput& in : plan_.inputs) params.push_back(in.name);
    for (const PlanOutput& o : plan_.outputs) params.push_back(o.name);
    for (const formula::AttrDecl& a : plan_.attrs) params.push_back(a.name);
    std::string list;
    for (size_t i = 0; i < params.size(); ++i) list += (i ? ", " : "") + params[i];
    Line(0, "def " + LauncherName() + "(" + list + "):");
    for (int d = 0; d < n_; ++d) {
      const DimSource& s = plan_.dim_source[static_cast<size_t>(d)];
      std::string what = s.fixed ? N(s.size) : plan_.inputs.at(static_cast<size_t>(s.input)).name + ".shape[" + N(s.dim) + "]";
      Line(1, "_d" + N(d) + " = " + what + (s.symbol.empty() ? "" : "  # " + s.symbol));
    }
    std::string rows = "1", len = "1";
    for (int d = 0; d < n_ - k_; ++d) rows += " * _d" + N(d);
    for (int d = n_ - k_; d < n_; ++d) len += " * _d" + N(d);
    Line(1, "_rows = " + rows);
    Line(1, "_L = " + len);
    const int64_t block = params_.count("block") ? params_.at("block") : 1024;
    const int64_t warps = params_.count("warps") ? params_.at("warps") : (plan_.HasReductions() ? 8 : 4);
    // Small rows get a smaller (power of two) BLOCK: fewer idle lanes, and fewer warps for them.
    Line(1, "_block = min(" + N(block) + ", max(16, triton.next_power_of_2(_L)))");
    Line(1, "_warps = min(" + N(warps) + ", max(1, _block // 128))");
    if (plan_.HasReductions()) {
      Line(1, "if _rows == 0:");
      Line(2, "return  # no rows: nothing to write (an empty row still writes its row outputs)");
      Line(1, "_grid = (_rows,)");
    } else {
      Line(1, "if _rows == 0 or _L == 0:");
      Line(2, "return");
      Line(1, "_nblk = triton.cdiv(_L, _block)");
      Line(1, "_grid = (_rows * _nblk,)");
    }
    LauncherAttrs();
    std::string call;
    for (const PlanInput& in : plan_.inputs) call += in.name + ", ";
    for (const PlanOutput& o : plan_.outputs) call += o.name + ", ";
    call += "_L, ";
    if (!plan_.HasReductions()) call += "_nblk, ";
    for (int d = 0; d < n_; ++d) call += "_d" + N(d) + ", ";
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      const PlanInput& in = plan_.inputs[i];
      for (int d = 0; d < n_; ++d)
        if (Strided(i, d)) call += in.name + ".stride(" + N(d - (n_ - in.rank)) + "), ";
    }
    call += OutStrideCall();
    for (size_t a = 0; a < plan_.attrs.size(); ++a) call += "_a" + N(static_cast<int64_t>(a)) + ", ";
    // No FMA contraction (also passed to ptxas as --fmad=false): a row plan recomputes its element values
    // in every pass, and contraction may fuse a product (or the multiply closing div.full.f32's expansion)
    // into the next op in one pass but not in another. softmax(x / t) then compared x / t rounded (pass 0,
    // the row max) with the unrounded x / t - max (pass 1): for |x| near 2^63 an ulp is 2^40, so the
    // row's largest element gave exp(+-2^39) and the row came out 0/0 or inf/inf = NaN. Every op rounds
    // separately, as eager PyTorch and the reference do.
    Line(1, KernelName() + "[_grid](" + call + "BLOCK=_block, num_warps=_warps, enable_fp_fusion=False)");
    Line(0, "");
    Line(0, "");
  }

  // ---- matmul with a fused epilogue ----------------------------------------------
  // One program per BLOCK_M x BLOCK_N tile of the output, in groups of GROUP_M
  // tile rows (neighbouring programs share B tiles in L2). The K loop loads
  // masked A and B tiles (any strides) and accumulates tl.dot in f32: f32
  // operands with input_precision="ieee" (PyTorch's default does not use TF32
  // for f32 matmuls), f16/bf16 on tensor cores. The epilogue is the plan's
  // element nodes on the finished tile, the matmul node being `acc`.
  int64_t Param(const char* key, int64_t fallback) const { return params_.count(key) ? params_.at(key) : fallback; }
  // f32 tiles take twice the shared memory per element: half the K step.
  int64_t MatmulBlockK() const {
    const int64_t bk = Param("bk", 64);
    return plan_.nodes[static_cast<size_t>(plan_.matmul)].dtype == DType::kF32 ? std::max<int64_t>(16, bk / 2) : bk;
  }

  Status MatmulKernel() {
    const std::string a = "in" + N(plan_.MatmulInput(false)), b = "in" + N(plan_.MatmulInput(true));
    const size_t ai = static_cast<size_t>(plan_.MatmulInput(false)), bi = static_cast<size_t>(plan_.MatmulInput(true));
    std::string sig;
    for (const std::string& arg : KernelArgs()) sig += arg + ", ";
    Line(0, "@triton.jit");
    Line(0, "def " + KernelName() + "(" + sig +
                "BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):");
    Line(1, "# " + plan_.name + ", variant " + N(v_) + ": " + VariantLabel(plan_) + "; [D0, KD] @ [KD, D1], epilogue fused");
    Line(1, "pid = tl.program_id(0).to(tl.int64)");
    Line(1, "num_m = tl.cdiv(D0, BLOCK_M)");
    Line(1, "num_n = tl.cdiv(D1, BLOCK_N)");
    Line(1, "per_group = GROUP_M * num_n");
    Line(1, "first_m = (pid // per_group) * GROUP_M");
    Line(1, "group_m = min(num_m - first_m, GROUP_M)");
    Line(1, "pid_m = first_m + (pid % per_group) % group_m");
    Line(1, "pid_n = (pid % per_group) // group_m");
    Line(1, "rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)");
    Line(1, "rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)");
    Line(1, "rk = tl.arange(0, BLOCK_K)");
    Line(1, "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)");
    Line(1, "for k0 in range(0, KD, BLOCK_K):");
    Line(2, "kk = k0 + rk");
    Line(2, "a = tl.load(" + a + "_ptr + rm[:, None] * " + Stride(ai, 0) + " + kk[None, :] * " + Stride(ai, 1) +
                ", mask=(rm[:, None] < D0) & (kk[None, :] < KD), other=0)");
    Line(2, "b = tl.load(" + b + "_ptr + kk[:, None] * " + Stride(bi, 0) + " + rn[None, :] * " + Stride(bi, 1) +
                ", mask=(kk[:, None] < KD) & (rn[None, :] < D1), other=0)");
    const bool f32 = plan_.nodes[static_cast<size_t>(plan_.matmul)].dtype == DType::kF32;
    Line(2, std::string("acc = tl.dot(a, b, acc") + (f32 ? ", input_precision=\"ieee\"" : "") + ")");
    Line(1, "mask = (rm[:, None] < D0) & (rn[None, :] < D1)");
    for (size_t i = 0; i < plan_.inputs.size(); ++i) {
      if (plan_.inputs[i].role != InputRole::kDomain) continue;
      Line(1, "base" + N(static_cast<int64_t>(i)) + " = rm[:, None] * " + (Strided(i, 0) ? Stride(i, 0) : "0"));
      Line(1, "joff" + N(static_cast<int64_t>(i)) + " = rn[None, :] * " + (Strided(i, 1) ? Stride(i, 1) : "0"));
    }
    for (int id : plan_.ScalarNodes()) ANVIL_RETURN_IF_ERROR(Node(1, id));
    std::vector<int> targets;
    for (const PlanOutput& o : plan_.outputs) targets.push_back(o.node);
    ANVIL_RETURN_IF_ERROR(Elements(1, plan_.ElementNodesFor(targets)));
    for (size_t o = 0; o < plan_.outputs.size(); ++o) {
      const std::string at = plan_.outputs[o].inplace >= 0
                                 ? "rm[:, None] * " + OutStride(o, 0) + " + rn[None, :] * " + OutStride(o, 1)
                                 : "rm[:, None] * L + rn[None, :]";
      Line(1, "tl.store(out" + N(static_cast<int64_t>(o)) + "_ptr + " + at + ", " + StoreValue(plan_.outputs[o]) +
                  ", mask=mask)");
    }
    Line(0, "");
    Line(0, "");
    return Status::Ok();
  }

  void MatmulLauncher() {
    std::vector<std::string> params;
    for (const PlanInput& in : plan_.inputs) params.push_back(in.name);
    for (const PlanOutput& o : plan_.outputs) params.push_back(o.name);
    for (const formula::AttrDecl& at : plan_.attrs) params.push_back(at.name);
    std::string list;
    for (size_t i = 0; i < params.size(); ++i) list += (i ? ", " : "") + params[i];
    Line(0, "def " + LauncherName() + "(" + list + "):");
    auto size = [&](const DimSource& s) {
      return s.fixed ? N(s.size) : plan_.inputs.at(static_cast<size_t>(s.input)).name + ".shape[" + N(s.dim) + "]";
    };
    Line(1, "_d0 = " + size(plan_.dim_source[0]) + "  # M");
    Line(1, "_d1 = " + size(plan_.dim_source[1]) + "  # N");
    Line(1, "_k = " + size(plan_.matmul_k) + "  # K");
    Line(1, "if _d0 == 0 or _d1 == 0:");
    Line(2, "return");
    const int64_t bm = Param("bm", 128), bn = Param("bn", 128);
    Line(1, "_grid = (triton.cdiv(_d0, " + N(bm) + ") * triton.cdiv(_d1, " + N(bn) + "),)");
    LauncherAttrs();
    std::string call;
    for (const PlanInput& in : plan_.inputs) call += in.name + ", ";
    for (const PlanOutput& o : plan_.outputs) call += o.name + ", ";
    call += "_d1, _k, _d0, _d1, ";
    for (size_t i = 0; i < plan_.inputs.size(); ++i)
      for (int d = 0; d < 2; ++d)
        if (Strided(i, d)) call += plan_.inputs[i].name + ".stride(" + N(d - (2 - plan_.inputs[i].rank)) + "), ";
    call += OutStrideCall();
    for (size_t at = 0; at < plan_.attrs.size(); ++at) call += "_a" + N(static_cast<int64_t>(at)) + ", ";
    Line(1, KernelName() + "[_grid](" + call + "BLOCK_M=" + N(bm) + ", BLOCK_N=" + N(bn) + ", BLOCK_K=" +
                N(MatmulBlockK()) + ", GROUP_M=" + N(Param("group", 8)) + ", num_warps=" + N(Param("warps", 8)) +
                ", num_stages=" + N(Param("stages", 3)) + ", enable_fp_fusion=False)");
    Line(0, "");
    Line(0, "");
  }

 public:
  static std::string VariantLabel(const KernelPlan& p) {
    std::string s;
    for (size_t i = 0; i < p.inputs.size(); ++i)
      s += (i ? ", " : "") + p.inputs[i].name + ": " + std::string(DTypeName(p.inputs[i].dtype));
    return s;
  }

 private:
  const KernelPlan& plan_;
  int v_;
  const KernelParams& params_;
  int n_ = 0;
  int k_ = 0;
  std::ostringstream os_;
};

// Pure-Python bit pattern of a double as a signed int64 (struct is not importable under the gate).
constexpr const char* kF64Bits = R"(def _f64_bits(v):
    # The IEEE-754 bits of float v as a signed int64: Triton types every Python
    # float argument as fp32, so f64 values travel as integers.
    if v != v:
        bits = 0x7FF8000000000000
    else:
        sign = 1 if math.copysign(1.0, v) < 0 else 0
        mag = -v if sign else v
        if mag == math.inf:
            bits = 0x7FF0000000000000
        elif mag == 0.0:
            bits = 0
        else:
            m, e = math.frexp(mag)  # mag = m * 2**e, 0.5 <= m < 1
            if e - 1 >= -1022:
                bits = ((e - 1 + 1023) << 52) | int(math.ldexp(m * 2.0 - 1.0, 52))
            else:
                bits = int(math.ldexp(mag, 1074))  # subnormal: an exact integer multiple of 2**-1074
        bits |= sign << 63
    return bits - (1 << 64) if bits >= (1 << 63) else bits


)";

constexpr const char* kMulCombine = R"(@triton.jit
def _anvil_mul(a, b):
    return a * b


)";

// tl.math.div_rn neither broadcasts nor takes a 0-d operand with a block one (it only unifies dtypes).
constexpr const char* kDivRn = R"(@triton.jit
def _anvil_div_rn(a, b):
    # IEEE-rounded f32 division of a and b broadcast to one shape.
    a, b = tl.broadcast(a, b)
    return tl.math.div_rn(a, b)


)";

std::string ParamsText(const KernelParams& params) {
  std::string s;
  for (const auto& [key, value] : params) s += (s.empty() ? "" : ", ") + key + "=" + N(value);
  return s;
}

// Inputs, outputs and attributes become parameters of anvil_kernel and the
// launchers; names the printed file uses itself would be shadowed.
Status CheckName(const std::string& name) {
  static const std::set<std::string> kReserved = {
      "math", "torch", "triton", "tl", "False", "None", "True", "and", "as", "assert", "async", "await", "break",
      "class", "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if",
      "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with",
      "yield", "str", "int", "float", "min", "max"};
  bool ident = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
  for (char c : name) ident = ident && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ident || name[0] == '_' || kReserved.count(name))
    return InvalidInput("triton printer: '" + name +
                        "' cannot be a parameter of the printed anvil_kernel (it must be an ASCII identifier not "
                        "starting with '_', not a Python keyword and not one of math, torch, triton, tl, str, int, "
                        "float, min, max); rename it in the task");
  return Status::Ok();
}

}  // namespace

std::vector<KernelParams> TritonSpace(const std::vector<KernelPlan>& variants) {
  if (!variants.empty() && variants.front().HasMatmul()) {
    // Tiles (bm x bn, K step bk; halved for f32), warps, pipeline stages; GROUP_M stays 8.
    auto tile = [](int64_t bm, int64_t bn, int64_t bk, int64_t warps, int64_t stages) {
      return KernelParams{{"bm", bm}, {"bn", bn}, {"bk", bk}, {"warps", warps}, {"stages", stages}, {"group", 8}};
    };
    return {tile(128, 128, 64, 8, 3), tile(128, 256, 64, 8, 3), tile(128, 64, 64, 4, 4), tile(64, 128, 64, 4, 4),
            tile(64, 64, 64, 4, 4)};
  }
  const bool rows = !variants.empty() && variants.front().HasReductions();
  std::vector<KernelParams> out;
  if (!rows) {
    out.push_back({{"block", 1024}, {"warps", 4}});
    for (int64_t block : {1024, 2048, 4096})
      for (int64_t warps : {4, 8}) {
        if (block == 1024 && warps == 4) continue;
        if (block == 1024 && warps == 8) continue;  // 4 elements per thread at most: 8 warps only add scheduling
        out.push_back({{"block", block}, {"warps", warps}});
      }
    return out;
  }
  out.push_back({{"block", 1024}, {"warps", 8}});
  for (int64_t block : {512, 1024, 2048, 4096})
    for (int64_t warps : {4, 8, 16}) {
      if (block == 1024 && warps == 8) continue;
      if (warps == 16 && block < 2048) continue;  // under 4 elements per thread per chunk
      if (warps == 4 && block == 4096) continue;  // 32 values per thread per live array: register pressure
      out.push_back({{"block", block}, {"warps", warps}});
    }
  return out;
}

Result<std::string> EmitTriton(const std::vector<KernelPlan>& variants, const KernelParams& params) {
  if (variants.empty()) return InvalidInput("triton printer: no plans to print");
  const bool matmul = variants.front().HasMatmul();
  for (const auto& [key, value] : params) {
    const bool known = matmul ? (key == "bm" || key == "bn" || key == "bk" || key == "warps" || key == "stages" ||
                                 key == "group")
                              : (key == "block" || key == "warps");
    if (!known)
      return InvalidInput("triton printer: unknown parameter '" + key + "' (known: " +
                          (matmul ? "bm, bn, bk, warps, stages, group" : "block, warps") + ")");
    if (key == "stages" || key == "group") {
      if (value < 1) return InvalidInput("triton printer: " + key + "=" + N(value) + " must be positive");
      continue;
    }
    if (value <= 0 || (value & (value - 1)) != 0)
      return InvalidInput("triton printer: " + key + "=" + N(value) + " must be a positive power of two");
  }
  const KernelPlan& first = variants.front();
  for (const KernelPlan& p : variants)
    if (p.inputs.size() != first.inputs.size() || p.outputs.size() != first.outputs.size() ||
        p.attrs.size() != first.attrs.size())
      return InternalError("triton printer: variants of '" + first.name + "' differ in inputs, outputs or attributes");

  for (const PlanInput& in : first.inputs) ANVIL_RETURN_IF_ERROR(CheckName(in.name));
  for (const PlanOutput& o : first.outputs) ANVIL_RETURN_IF_ERROR(CheckName(o.name));
  for (const formula::AttrDecl& a : first.attrs) ANVIL_RETURN_IF_ERROR(CheckName(a.name));

  std::ostringstream body;
  bool needs_mul = false;
  for (size_t v = 0; v < variants.size(); ++v) {
    for (const KNode& n : variants[v].nodes) needs_mul |= n.kind == Kind::kReduce && n.op == Op::kProd;
    VariantPrinter printer(variants[v], static_cast<int>(v), params);
    ANVIL_ASSIGN_OR_RETURN(std::string text, printer.Print());
    body << text;
  }

  std::ostringstream os;
  os << "# " << first.name << ": one fused Triton kernel per dtype variant.\n";
  os << "# Printed by Anvil's built-in compiler (anvil gen, src/compiler/emit_triton.cpp); do not edit.\n";
  os << "# Parameters: " << (params.empty() ? "defaults" : ParamsText(params)) << ".\n";
  os << "# Variants:\n";
  for (size_t v = 0; v < variants.size(); ++v)
    os << "#   v" << v << ": " << VariantPrinter::VariantLabel(variants[v]) << "\n";
  os << "# Entry: anvil_kernel(inputs..., outputs..., attributes...) as keyword arguments; outputs are\n"
     << "# contiguous and written in place" << (first.HasInPlaceOutputs() ? " (an in-place output is its input, "
                                                                             "through its strides)" : "")
     << ". Any sizes and input strides; f16/bf16 compute in f32.\n";
  os << "import math\n\nimport torch\nimport triton\nimport triton.language as tl\n\n\n";
  os << kF64Bits;
  if (needs_mul) os << kMulCombine;
  if (body.str().find("_anvil_div_rn(") != std::string::npos) os << kDivRn;
  os << body.str();

  // Entry point: dispatch on the input dtypes.
  std::vector<std::string> names;
  for (const PlanInput& in : first.inputs) names.push_back(in.name);
  for (const PlanOutput& o : first.outputs) names.push_back(o.name);
  for (const formula::AttrDecl& a : first.attrs) names.push_back(a.name);
  std::string list;
  for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
  os << "def anvil_kernel(" << list << "):\n";
  for (size_t v = 0; v < variants.size(); ++v) {
    std::string cond;
    for (const PlanInput& in : variants[v].inputs)
      cond += (cond.empty() ? "" : " and ") + in.name + ".dtype == " + formula::TorchDTypeName(in.dtype);
    if (cond.empty()) cond = "True";
    os << "    " << (v == 0 ? "if " : "elif ") << cond << ":\n";
    os << "        return _launch_v" << v << "(" << list << ")\n";
  }
  std::string got, served;
  for (size_t i = 0; i < first.inputs.size(); ++i) got += std::string(i ? " + ', " : "'") + first.inputs[i].name + "=' + str(" + first.inputs[i].name + ".dtype)";
  for (size_t v = 0; v < variants.size(); ++v) served += (v ? "; " : "") + VariantPrinter::VariantLabel(variants[v]);
  os << "    raise TypeError('" << first.name << ": no kernel for input dtypes ' + " << (got.empty() ? "''" : got)
     << " + '; this file serves " << served << "')\n";
  return os.str();
}

}  // namespace anvil::compiler
