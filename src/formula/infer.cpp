#include "formula/infer.h"

#include <algorithm>

namespace anvil::formula {
namespace {

// Python-number dtype of a scalar: f64, i64 or bool.
DType ScalarClass(DType t) {
  switch (Category(t)) {
    case DTypeCategory::kBool: return DType::kBool;
    case DTypeCategory::kInteger: return DType::kI64;
    case DTypeCategory::kFloating: return DType::kF64;
  }
  return t;
}

// c10's combine_categories: a lower tier only wins by a higher category.
std::optional<DType> Combine(std::optional<DType> higher, std::optional<DType> lower) {
  if (!higher) return lower;
  if (!lower) return higher;
  if (IsFloating(*higher)) return higher;
  if (*higher == DType::kBool || IsFloating(*lower)) return PromoteTypes(*higher, *lower);
  return higher;
}

std::optional<DType> Promote(std::optional<DType> acc, DType t) { return acc ? PromoteTypes(*acc, t) : t; }

std::string Name(const Node& n) { return std::string(Info(n.op).name); }

}  // namespace

Result<SymShape> Broadcast(const SymShape& a, const std::string& label_a, const SymShape& b,
                           const std::string& label_b) {
  size_t rank = std::max(a.size(), b.size());
  SymShape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // i counts from the right.
    const Dim* da = i < a.size() ? &a[a.size() - 1 - i] : nullptr;
    const Dim* db = i < b.size() ? &b[b.size() - 1 - i] : nullptr;
    Dim& o = out[rank - 1 - i];
    if (!da) o = *db;
    else if (!db) o = *da;
    else if (*da == *db) o = *da;
    else if (da->is_fixed() && da->fixed() == 1) o = *db;
    else if (db->is_fixed() && db->fixed() == 1) o = *da;
    else
      return InvalidInput("cannot broadcast " + label_a + " " + ShapeToString(a) + " with " + label_b + " " +
                          ShapeToString(b) + ": dim " + da->ToString() + " vs " + db->ToString());
  }
  return out;
}

DType PromoteOperands(const std::vector<ValueType>& operands) {
  bool all_scalar = std::all_of(operands.begin(), operands.end(), [](const ValueType& v) { return v.is_scalar; });
  std::optional<DType> dim_result, zero_result, wrapped_result;
  for (const ValueType& v : operands) {
    if (all_scalar) {
      wrapped_result = Promote(wrapped_result, ScalarClass(v.dtype));
    } else if (v.is_scalar) {
      // A wrapped float counts as the default dtype, a wrapped int as i64.
      DType c = ScalarClass(v.dtype);
      wrapped_result = Promote(wrapped_result, c == DType::kF64 ? DType::kF32 : c);
    } else if (v.shape.empty()) {
      zero_result = Promote(zero_result, v.dtype);
    } else {
      dim_result = Promote(dim_result, v.dtype);
    }
  }
  auto r = Combine(dim_result, Combine(zero_result, wrapped_result));
  return r ? *r : DType::kF32;
}

Result<ValueType> InferNode(const Node& n, const std::vector<ValueType>& ops, const std::vector<std::string>& labels) {
  const OpInfo& info = Info(n.op);
  if (info.kind == OpKind::kLeaf) return InternalError("InferNode called on a leaf (" + Name(n) + ")");
  if (static_cast<int>(ops.size()) != info.arity || labels.size() != ops.size())
    return InvalidInput(Name(n) + "() takes " + std::to_string(info.arity) + " tensor operand(s), got " +
                        std::to_string(ops.size()));
  bool all_scalar = std::all_of(ops.begin(), ops.end(), [](const ValueType& v) { return v.is_scalar; });
  bool elementwise = info.kind == OpKind::kUnary || info.kind == OpKind::kBinary || info.kind == OpKind::kWhere ||
                     info.kind == OpKind::kCast;
  if (all_scalar && !elementwise)
    return InvalidInput(Name(n) + "() needs a tensor, got the scalar " + labels[0]);

  ValueType out;
  out.is_scalar = all_scalar;
  DType default_float = all_scalar ? DType::kF64 : DType::kF32;

  // dtype
  DType common;
  if (info.dtype_rule == DTypeRule::kWhere) {
    if (ops[0].dtype != DType::kBool)
      return InvalidInput("where() needs a bool condition, got " + std::string(DTypeName(ops[0].dtype)) + " " +
                          labels[0] + "; compare first, e.g. where(x > 0, a, b)");
    common = PromoteOperands({ops[1], ops[2]});
  } else if (info.dtype_rule == DTypeRule::kMatmul) {
    if (ops[0].dtype != ops[1].dtype)
      return InvalidInput("matmul needs operands of one dtype, got " + std::string(DTypeName(ops[0].dtype)) + " " +
                          labels[0] + " and " + std::string(DTypeName(ops[1].dtype)) + " " + labels[1] +
                          "; cast one with .to(...)");
    common = ops[0].dtype;
  } else if (info.kind == OpKind::kBinary) {
    common = PromoteOperands(ops);
  } else {
    common = ops[0].is_scalar ? ScalarClass(ops[0].dtype) : ops[0].dtype;
  }
  std::string what = info.arity == 1 ? "input " + labels[0] : "operands";
  switch (info.operand_rule) {
    case OperandRule::kAny: break;
    case OperandRule::kNotBool:
      if (common == DType::kBool)
        return InvalidInput(Name(n) + "() does not accept bool " + what + "; convert first, e.g. x.int()");
      break;
    case OperandRule::kIntOrBool:
      if (IsFloating(common))
        return InvalidInput(Name(n) + "() needs integer or bool " + what + ", got " +
                            std::string(DTypeName(common)));
      break;
    case OperandRule::kFloatOnly:
      if (!IsFloating(common))
        return InvalidInput(Name(n) + "() needs a floating-point input, got " + std::string(DTypeName(common)) +
                            " " + labels[0] + "; cast first, e.g. x.float()");
      break;
  }
  switch (info.dtype_rule) {
    case DTypeRule::kSame:
    case DTypeRule::kWhere:
    case DTypeRule::kMatmul: out.dtype = common; break;
    case DTypeRule::kFloat: out.dtype = IsFloating(common) ? common : default_float; break;
    case DTypeRule::kBool: out.dtype = DType::kBool; break;
    case DTypeRule::kSumLike: out.dtype = IsFloating(common) ? common : DType::kI64; break;
    case DTypeRule::kI64: out.dtype = DType::kI64; break;
    case DTypeRule::kCastTarget: out.dtype = n.to_dtype; break;
  }

  // shape
  const SymShape& s0 = ops[0].shape;
  int64_t rank = static_cast<int64_t>(s0.size());
  auto check_dims = [&]() -> Status {
    for (size_t i = 0; i < n.dims.size(); ++i) {
      if (n.dims[i] < 0 || n.dims[i] >= rank)
        return InvalidInput(Name(n) + "(): dim " + std::to_string(n.dims[i]) + " is out of range for " +
                            labels[0] + " of rank " + std::to_string(rank));
      if (i > 0 && n.dims[i] <= n.dims[i - 1])
        return InvalidInput(Name(n) + "(): dims must be normalised, ascending and unique");
    }
    return Status::Ok();
  };
  switch (info.kind) {
    case OpKind::kLeaf: break;
    case OpKind::kUnary:
    case OpKind::kCast: out.shape = s0; break;
    case OpKind::kBinary: {
      ANVIL_ASSIGN_OR_RETURN(out.shape, Broadcast(s0, labels[0], ops[1].shape, labels[1]));
      break;
    }
    case OpKind::kWhere: {
      ANVIL_ASSIGN_OR_RETURN(SymShape ab, Broadcast(ops[1].shape, labels[1], ops[2].shape, labels[2]));
      ANVIL_ASSIGN_OR_RETURN(out.shape, Broadcast(s0, labels[0], ab, "the values"));
      break;
    }
    case OpKind::kReduce: {
      ANVIL_RETURN_IF_ERROR(check_dims());
      for (int64_t d = 0; d < rank; ++d) {
        bool reduced = std::find(n.dims.begin(), n.dims.end(), d) != n.dims.end();
        if (!reduced) out.shape.push_back(s0[d]);
        else if (n.keepdim) out.shape.push_back(Dim::Fixed(1));
      }
      break;
    }
    case OpKind::kArgReduce: {
      ANVIL_RETURN_IF_ERROR(check_dims());
      if (n.dims.size() > 1) return InvalidInput(Name(n) + "() takes one dim, got " + std::to_string(n.dims.size()));
      if (n.dims.empty()) {
        if (n.keepdim) out.shape.assign(s0.size(), Dim::Fixed(1));
      } else {
        for (int64_t d = 0; d < rank; ++d) {
          if (d != n.dims[0]) out.shape.push_back(s0[d]);
          else if (n.keepdim) out.shape.push_back(Dim::Fixed(1));
        }
      }
      break;
    }
    case OpKind::kNormalize:
      if (rank == 0) return InvalidInput(Name(n) + "() needs a tensor of rank >= 1, got " + labels[0] + " []");
      ANVIL_RETURN_IF_ERROR(check_dims());
      if (n.dims.size() != 1) return InvalidInput(Name(n) + "() takes exactly one dim");
      out.shape = s0;
      break;
    case OpKind::kMatmul: {
      const SymShape& a = ops[0].shape;
      const SymShape& b = ops[1].shape;
      if (a.empty() || b.empty())
        return InvalidInput("matmul needs operands of rank >= 1, got " + labels[0] + " " + ShapeToString(a) +
                            " and " + labels[1] + " " + ShapeToString(b));
      const Dim& ka = a.back();
      const Dim& kb = b.size() == 1 ? b[0] : b[b.size() - 2];
      if (!(ka == kb))
        return InvalidInput("matmul: inner dims differ: " + labels[0] + " " + ShapeToString(a) + " has " +
                            ka.ToString() + ", " + labels[1] + " " + ShapeToString(b) + " has " + kb.ToString());
      SymShape batch_a(a.begin(), a.end() - std::min<size_t>(a.size(), 2));
      SymShape batch_b(b.begin(), b.end() - std::min<size_t>(b.size(), 2));
      ANVIL_ASSIGN_OR_RETURN(out.shape, Broadcast(batch_a, labels[0] + "'s batch dims", batch_b,
                                                  labels[1] + "'s batch dims"));
      if (a.size() >= 2) out.shape.push_back(a[a.size() - 2]);
      if (b.size() >= 2) out.shape.push_back(b.back());
      break;
    }
  }
  return out;
}

}  // namespace anvil::formula
