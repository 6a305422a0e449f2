#include "reference/evaluate.h"

#include <algorithm>
#include <string>

#include <ATen/ScalarOps.h>
#include <c10/util/Exception.h>

namespace anvil::reference {

using formula::Graph;
using formula::Info;
using formula::Node;
using formula::Op;
using formula::OpKind;

at::ScalarType ToAten(DType t) {
  switch (t) {
    case DType::kBool: return at::kBool;
    case DType::kU8: return at::kByte;
    case DType::kI8: return at::kChar;
    case DType::kI16: return at::kShort;
    case DType::kI32: return at::kInt;
    case DType::kI64: return at::kLong;
    case DType::kF16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
    case DType::kF32: return at::kFloat;
    case DType::kF64: return at::kDouble;
  }
  return at::kFloat;
}

std::optional<DType> FromAten(at::ScalarType t) {
  for (DType d : AllDTypes())
    if (ToAten(d) == t) return d;
  return std::nullopt;
}

namespace {

std::string AtenName(at::ScalarType t) {
  auto d = FromAten(t);
  return d ? std::string(DTypeName(*d)) : std::string(c10::toString(t));
}

at::Tensor Wrapped(const ScalarValue& v, DType declared) {
  if (declared == DType::kBool) return at::native::wrapped_scalar_tensor(at::Scalar(v.i != 0));
  if (IsFloating(declared)) return at::native::wrapped_scalar_tensor(at::Scalar(v.AsDouble()));
  return at::native::wrapped_scalar_tensor(at::Scalar(IsFloating(v.dtype) ? static_cast<int64_t>(v.f) : v.i));
}

bool IsWrapped(const at::Tensor& t) { return t.unsafeGetTensorImpl()->is_wrapped_number(); }

// Reads symbol sizes from the inputs and checks dtypes, ranks and agreement.
Result<Bindings> BindInputs(const Graph& g, const std::vector<at::Tensor>& inputs) {
  if (inputs.size() != g.inputs().size())
    return InvalidInput("reference: the formula has " + std::to_string(g.inputs().size()) + " inputs, got " +
                        std::to_string(inputs.size()) + " tensors");
  Bindings b;
  std::map<std::string, std::string> bound_by;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const formula::InputDecl& d = g.inputs()[i];
    const at::Tensor& t = inputs[i];
    if (!t.defined()) return InvalidInput("reference: input '" + d.name + "' is an undefined tensor");
    if (!t.device().is_cpu() && !t.device().is_cuda())
      return InvalidInput("reference: input '" + d.name + "' must be a CPU or CUDA tensor");
    if (t.device() != inputs[0].device())
      return InvalidInput("reference: input '" + d.name + "' is on another device than the first input");
    if (t.scalar_type() != ToAten(d.dtype))
      return InvalidInput("reference: input '" + d.name + "' is " + AtenName(t.scalar_type()) + ", declared " +
                          std::string(DTypeName(d.dtype)));
    if (static_cast<size_t>(t.dim()) != d.shape.size())
      return InvalidInput("reference: input '" + d.name + "' has rank " + std::to_string(t.dim()) + ", declared " +
                          ShapeToString(d.shape));
    for (size_t k = 0; k < d.shape.size(); ++k) {
      int64_t size = t.size(static_cast<int64_t>(k));
      const Dim& dim = d.shape[k];
      if (dim.is_fixed()) {
        if (dim.fixed() != size)
          return InvalidInput("reference: input '" + d.name + "' dim " + std::to_string(k) + " is " +
                              std::to_string(size) + ", declared " + std::to_string(dim.fixed()));
        continue;
      }
      auto [it, inserted] = b.emplace(dim.symbol(), size);
      if (inserted) {
        bound_by[dim.symbol()] = d.name;
      } else if (it->second != size) {
        return InvalidInput("reference: " + dim.symbol() + " is " + std::to_string(it->second) + " in '" +
                            bound_by[dim.symbol()] + "' but " + std::to_string(size) + " in '" + d.name + "'");
      }
    }
  }
  return b;
}

at::Tensor Unary(const Node& n, const at::Tensor& x) {
  const std::vector<double>& p = n.params;
  switch (n.op) {
    case Op::kNeg: return at::neg(x);
    case Op::kAbs: return at::abs(x);
    case Op::kExp: return at::exp(x);
    case Op::kExp2: return at::exp2(x);
    case Op::kExpm1: return at::expm1(x);
    case Op::kLog: return at::log(x);
    case Op::kLog2: return at::log2(x);
    case Op::kLog10: return at::log10(x);
    case Op::kLog1p: return at::log1p(x);
    case Op::kSqrt: return at::sqrt(x);
    case Op::kRsqrt: return at::rsqrt(x);
    case Op::kSin: return at::sin(x);
    case Op::kCos: return at::cos(x);
    case Op::kTan: return at::tan(x);
    case Op::kAsin: return at::asin(x);
    case Op::kAcos: return at::acos(x);
    case Op::kAtan: return at::atan(x);
    case Op::kSinh: return at::sinh(x);
    case Op::kCosh: return at::cosh(x);
    case Op::kTanh: return at::tanh(x);
    case Op::kAsinh: return at::asinh(x);
    case Op::kAcosh: return at::acosh(x);
    case Op::kAtanh: return at::atanh(x);
    case Op::kSigmoid: return at::sigmoid(x);
    case Op::kRelu: return at::relu(x);
    case Op::kGelu: return at::gelu(x, n.approximate);
    case Op::kSilu: return at::silu(x);
    case Op::kMish: return at::mish(x);
    case Op::kSoftplus: return at::softplus(x, p.at(0), p.at(1));
    case Op::kElu: return at::elu(x, p.at(0));
    case Op::kLeakyRelu: return at::leaky_relu(x, p.at(0));
    case Op::kHardsigmoid: return at::hardsigmoid(x);
    case Op::kHardswish: return at::hardswish(x);
    case Op::kHardtanh: return at::hardtanh(x, p.at(0), p.at(1));
    case Op::kErf: return at::erf(x);
    case Op::kErfc: return at::erfc(x);
    // Floor/ceil/round/trunc of an integer is the integer itself.
    case Op::kFloor: return at::isFloatingType(x.scalar_type()) ? at::floor(x) : x.clone();
    case Op::kCeil: return at::isFloatingType(x.scalar_type()) ? at::ceil(x) : x.clone();
    case Op::kRound: return at::isFloatingType(x.scalar_type()) ? at::round(x) : x.clone();
    case Op::kTrunc: return at::isFloatingType(x.scalar_type()) ? at::trunc(x) : x.clone();
    case Op::kSign: return at::sign(x);
    case Op::kReciprocal: return at::reciprocal(x);
    case Op::kSquare: return at::square(x);
    case Op::kLogicalNot: return at::logical_not(x);
    case Op::kBitwiseNot: return at::bitwise_not(x);
    case Op::kIsnan: return at::isnan(x);
    case Op::kIsinf: return at::isinf(x);
    case Op::kIsfinite: return at::isfinite(x);
    default: TORCH_CHECK(false, "not a unary op: ", std::string(Info(n.op).name));
  }
}

// `b` on `a`'s device. Most ATen ops take a CPU 0-dim operand with a CUDA
// tensor (the "CPU scalar" rule), but clamp_min/clamp_max(Tensor, Tensor)
// check devices: a formula scalar (a wrapped CPU number) is moved, keeping
// the wrapped-number flag so that type promotion does not change.
at::Tensor OnDeviceOf(const at::Tensor& b, const at::Tensor& a) {
  if (b.device() == a.device() || b.dim() != 0) return b;
  at::Tensor moved = b.to(a.device());
  if (b.unsafeGetTensorImpl()->is_wrapped_number()) moved.unsafeGetTensorImpl()->set_wrapped_number(true);
  return moved;
}

at::Tensor Binary(Op op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case Op::kAdd: return at::add(a, b);
    case Op::kSub: return at::sub(a, b);
    case Op::kMul: return at::mul(a, b);
    case Op::kDiv: return at::div(a, b);
    case Op::kFloorDivide: return at::div(a, b, "floor");
    case Op::kRemainder: return at::remainder(a, b);
    case Op::kFmod: return at::fmod(a, b);
    case Op::kPow: return at::pow(a, b);
    case Op::kMaximum: return at::maximum(a, b);
    case Op::kMinimum: return at::minimum(a, b);
    case Op::kAtan2: return at::atan2(a, b);
    case Op::kLogicalAnd: return at::logical_and(a, b);
    case Op::kLogicalOr: return at::logical_or(a, b);
    case Op::kLogicalXor: return at::logical_xor(a, b);
    case Op::kBitwiseAnd: return at::bitwise_and(a, b);
    case Op::kBitwiseOr: return at::bitwise_or(a, b);
    case Op::kBitwiseXor: return at::bitwise_xor(a, b);
    case Op::kEq: return at::eq(a, b);
    case Op::kNe: return at::ne(a, b);
    case Op::kLt: return at::lt(a, b);
    case Op::kLe: return at::le(a, b);
    case Op::kGt: return at::gt(a, b);
    case Op::kGe: return at::ge(a, b);
    case Op::kClampMin: return at::clamp_min(a, OnDeviceOf(b, a));
    case Op::kClampMax: return at::clamp_max(a, OnDeviceOf(b, a));
    default: TORCH_CHECK(false, "not a binary op: ", std::string(Info(op).name));
  }
}

at::Tensor Reduce(const Node& n, const at::Tensor& x) {
  at::IntArrayRef dims(n.dims);
  switch (n.op) {
    case Op::kSum: return at::sum(x, dims, n.keepdim);
    case Op::kMean: return at::mean(x, dims, n.keepdim);
    case Op::kAmax: return at::amax(x, dims, n.keepdim);
    case Op::kAmin: return at::amin(x, dims, n.keepdim);
    case Op::kLogsumexp: return at::logsumexp(x, dims, n.keepdim);
    case Op::kVar: return at::var(x, at::OptionalIntArrayRef(dims), c10::optional<int64_t>(n.correction), n.keepdim);
    case Op::kStd: return at::std(x, at::OptionalIntArrayRef(dims), c10::optional<int64_t>(n.correction), n.keepdim);
    case Op::kProd: {
      // at::prod reduces one dim at a time.
      if (n.dims.empty()) return at::prod(x);
      at::Tensor t = x;
      for (auto it = n.dims.rbegin(); it != n.dims.rend(); ++it) t = at::prod(t, *it, /*keepdim=*/true);
      if (!n.keepdim)
        for (auto it = n.dims.rbegin(); it != n.dims.rend(); ++it) t = t.squeeze(*it);
      return t;
    }
    case Op::kArgmax:
    case Op::kArgmin: {
      bool is_max = n.op == Op::kArgmax;
      if (!n.dims.empty()) return is_max ? at::argmax(x, n.dims[0], n.keepdim) : at::argmin(x, n.dims[0], n.keepdim);
      at::Tensor flat = x.reshape({-1});
      at::Tensor idx = is_max ? at::argmax(flat) : at::argmin(flat);
      return n.keepdim ? idx.reshape(std::vector<int64_t>(static_cast<size_t>(x.dim()), 1)) : idx;
    }
    case Op::kSoftmax: return at::softmax(x, n.dims.at(0));
    case Op::kLogSoftmax: return at::log_softmax(x, n.dims.at(0));
    default: TORCH_CHECK(false, "not a reduction: ", std::string(Info(n.op).name));
  }
}

class Evaluator {
 public:
  Evaluator(const Graph& g, Precision p, Bindings b) : g_(g), precision_(p), bindings_(std::move(b)) {}

  Result<std::vector<at::Tensor>> Run(const std::vector<at::Tensor>& inputs, const std::vector<ScalarValue>& attrs) {
    values_.resize(g_.nodes().size());
    for (size_t i = 0; i < g_.nodes().size(); ++i) {
      const Node& n = g_.nodes()[i];
      at::Tensor v;
      switch (n.op) {
        case Op::kInput: {
          v = inputs[static_cast<size_t>(n.index)];
          if (Upcast() && IsFloating(n.dtype)) v = v.to(ComputeType(n.dtype));
          break;
        }
        case Op::kAttr: v = Wrapped(attrs[static_cast<size_t>(n.index)], n.dtype); break;
        case Op::kConst: v = Wrapped(n.value, n.value.dtype); break;
        default: {
          ANVIL_ASSIGN_OR_RETURN(v, Compute(n));
          break;
        }
      }
      ANVIL_RETURN_IF_ERROR(Check(static_cast<formula::NodeId>(i), n, v));
      values_[i] = v;
    }
    std::vector<at::Tensor> outs;
    for (formula::NodeId id : g_.output_nodes()) {
      const Node& n = g_.node(id);
      at::Tensor t = values_[static_cast<size_t>(id)];
      // Never hand out an input's own storage: callers poison and compare outputs.
      outs.push_back(t.to(ToAten(n.dtype), /*non_blocking=*/false, /*copy=*/true).contiguous());
    }
    return outs;
  }

 private:
  bool Upcast() const { return precision_ != Precision::kNative; }

  // The ATen dtype a value of graph dtype `d` is computed in.
  at::ScalarType ComputeType(DType d) const {
    if (!IsFloating(d) || precision_ == Precision::kNative) return ToAten(d);
    if (precision_ == Precision::kUpcast64 || d == DType::kF64) return at::kDouble;
    return at::kFloat;  // kUpcast32: f16/bf16/f32 computed in f32
  }

  // The dtype a node's ATen value has in this precision.
  at::ScalarType ValueType(const Node& n) const {
    if (n.is_scalar) return ToAten(n.dtype);
    return ComputeType(n.dtype);
  }

  Status Check(formula::NodeId id, const Node& n, const at::Tensor& v) const {
    std::string where = "%" + std::to_string(id) + " " + std::string(Info(n.op).name);
    if (n.is_scalar) {
      if (v.dim() != 0) return InternalError("reference: scalar " + where + " has rank " + std::to_string(v.dim()));
      return Status::Ok();
    }
    if (v.scalar_type() != ValueType(n))
      return InternalError("reference: " + where + " computed " + AtenName(v.scalar_type()) + ", graph says " +
                           AtenName(ValueType(n)));
    ANVIL_ASSIGN_OR_RETURN(Shape expected, Concretize(n.shape, bindings_));
    if (v.sizes().vec() != expected)
      return InternalError("reference: " + where + " has shape " + ShapeToString(Shape(v.sizes().vec())) +
                           ", graph says " + ShapeToString(expected));
    return Status::Ok();
  }

  Result<at::Tensor> Compute(const Node& n) {
    std::vector<at::Tensor> args;
    for (formula::NodeId op : n.operands) args.push_back(values_[static_cast<size_t>(op)]);
    if (n.is_scalar) {
      // Python semantics: compute on plain f64/i64/bool 0-dim tensors, then wrap.
      for (at::Tensor& a : args) {
        a = a.clone();
        a.unsafeGetTensorImpl()->set_wrapped_number(false);
      }
    }
    at::ScalarType target = ValueType(n);
    const OpKind kind = Info(n.op).kind;
    const formula::DTypeRule rule = Info(n.op).dtype_rule;
    // Operands are converted to the node's compute dtype where ATen would not do it
    // (float-only ops on integers) or where kUpcast64 needs f64 (any floating node).
    // Wrapped scalars are left to ATen's promotion, except for where(), whose
    // values are converted outright (selection is exact in the result dtype).
    auto to_target = [&](at::Tensor& a, bool even_wrapped) {
      if (a.scalar_type() == target || (IsWrapped(a) && !even_wrapped)) return;
      a = a.to(target);
    };
    bool floating_node = at::isFloatingType(target);
    if (kind == OpKind::kWhere) {
      to_target(args[1], true);
      to_target(args[2], true);
    } else if (kind != OpKind::kCast && floating_node &&
               (Upcast() || n.is_scalar || rule == formula::DTypeRule::kFloat)) {
      for (at::Tensor& a : args) to_target(a, n.is_scalar);
    }
    at::Tensor r;
    switch (kind) {
      case OpKind::kUnary: r = Unary(n, args[0]); break;
      case OpKind::kBinary: r = Binary(n.op, args[0], args[1]); break;
      case OpKind::kWhere: {
        // Scalars (CPU numbers) join the tensor operands' device, as for clamp.
        const at::Tensor& anchor = args[0].dim() > 0 ? args[0] : args[1].dim() > 0 ? args[1] : args[2];
        r = at::where(OnDeviceOf(args[0], anchor), OnDeviceOf(args[1], anchor), OnDeviceOf(args[2], anchor));
        break;
      }
      case OpKind::kCast: {
        at::ScalarType to = ToAten(n.to_dtype);
        r = args[0].to(to);
        if (Upcast() && at::isFloatingType(to) && !n.is_scalar) r = r.to(ComputeType(n.to_dtype));  // rounded, then up again
        break;
      }
      case OpKind::kReduce:
      case OpKind::kArgReduce:
      case OpKind::kNormalize: r = Reduce(n, args[0]); break;
      case OpKind::kMatmul: r = at::matmul(args[0], args[1]); break;
      case OpKind::kLeaf: return InternalError("reference: leaf reached Compute");
    }
    if (n.is_scalar) {
      r = r.to(target);
      r.unsafeGetTensorImpl()->set_wrapped_number(true);
    }
    return r;
  }

  const Graph& g_;
  Precision precision_;
  Bindings bindings_;
  std::vector<at::Tensor> values_;
};

}  // namespace

Result<std::vector<at::Tensor>> Evaluate(const formula::Graph& g, const std::vector<at::Tensor>& inputs,
                                         const std::vector<ScalarValue>& attrs, Precision precision) {
  if (attrs.size() != g.attrs().size())
    return InvalidInput("reference: the formula has " + std::to_string(g.attrs().size()) + " attributes, got " +
                        std::to_string(attrs.size()) + " values");
  ANVIL_ASSIGN_OR_RETURN(Bindings b, BindInputs(g, inputs));
  try {
    return Evaluator(g, precision, std::move(b)).Run(inputs, attrs);
  } catch (const c10::Error& e) {
    return Unsupported(std::string("reference: ATen failed: ") + e.what_without_backtrace());
  }
}

}  // namespace anvil::reference
