// The softplus rewrite of lowering (stabilize.h).
#include "compiler/stabilize.h"

#include <cmath>
#include <string>
#include <utility>

namespace anvil::compiler {
namespace {

using formula::Op;

constexpr double kLnDoubleMax = 709.782712893384;  // the largest z whose f64 exp is finite

// log1p(exp(z)) or log(1 + exp(z)) at a node, in a floating compute type.
struct Softplus {
  int z = -1;    // -1: not the pattern
  int one = -1;  // the log form: the constant 1, and on which side of the + it stands
  int one_side = 0;
};

// `n`'s operands index `nodes` (already renumbered).
Softplus Match(const std::vector<KNode>& nodes, const KNode& n) {
  auto is_op = [&](int id, Op op) {
    const KNode& x = nodes[id];
    return x.kind == KNode::Kind::kOp && x.op == op && x.dtype == n.operand_dtype;
  };
  auto is_one = [&](int id) {
    const KNode& x = nodes[id];
    return x.kind == KNode::Kind::kConst && x.value.AsDouble() == 1.0;
  };
  if (n.kind != KNode::Kind::kOp || !IsFloating(n.operand_dtype) || n.operands.size() != 1) return {};
  const int arg = n.operands[0];
  if (n.op == Op::kLog1p && is_op(arg, Op::kExp)) return {nodes[arg].operands[0]};
  if (n.op != Op::kLog || !is_op(arg, Op::kAdd)) return {};
  const std::vector<int>& sum = nodes[arg].operands;
  for (int side = 0; side < 2; ++side)
    if (is_one(sum[side]) && is_op(sum[1 - side], Op::kExp)) return {nodes[sum[1 - side]].operands[0], sum[side], side};
  return {};
}

}  // namespace

std::vector<int> StabilizeSoftplus(KernelPlan& plan) {
  std::vector<KNode> old = std::move(plan.nodes);
  plan.nodes.clear();
  NodeAppender b(plan.nodes);
  std::vector<int> renumber(old.size(), -1);
  for (size_t i = 0; i < old.size(); ++i) {
    KNode n = std::move(old[i]);
    for (int& o : n.operands) o = renumber[o];
    const Softplus m = Match(plan.nodes, n);
    if (m.z < 0) {
      renumber[i] = b.Add(std::move(n));
      continue;
    }
    const DType t = n.operand_dtype;
    const std::string why = n.origin + ": stable form";
    const int neg = b.OpNode(Op::kNeg, {b.OpNode(Op::kAbs, {m.z}, t, why + ", |z|")}, t, why + ", -|z|");
    const int e = b.OpNode(Op::kExp, {neg}, t, why + ", exp(-|z|)");
    int tail;
    if (m.one < 0) {
      tail = b.OpNode(Op::kLog1p, {e}, t, why + ", log1p(exp(-|z|))");
    } else {
      std::vector<int> sum = {m.one, e};
      if (m.one_side == 1) std::swap(sum[0], sum[1]);
      tail = b.OpNode(Op::kLog, {b.OpNode(Op::kAdd, sum, t, why + ", 1 + exp(-|z|)")}, t, why + ", log(1 + exp(-|z|))");
    }
    const int head = b.OpNode(Op::kClampMin, {m.z, b.Const(0)}, t, why + ", max(z, 0)");
    const int finite = b.OpNode(Op::kAdd, {head, tail}, t, why + ", max(z, 0) + f(-|z|)");
    const int over = b.OpNode(Op::kGt, {m.z, b.Const(kLnDoubleMax)}, DType::kF64,
                          why + ", z past ln(DBL_MAX): f64 exp overflows", DType::kBool);
    renumber[i] = b.OpNode(Op::kWhere, {over, b.Const(INFINITY), finite}, t, n.origin + " (stable)", n.dtype);
  }
  for (PlanOutput& o : plan.outputs) o.node = renumber[o.node];
  if (plan.matmul >= 0) plan.matmul = renumber[plan.matmul];
  return renumber;
}

}  // namespace anvil::compiler
