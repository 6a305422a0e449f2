#include "task/op_kinds.h"

#include <array>

#include "formula/op_catalog.h"
#include "task/task_graph.h"

namespace anvil {

namespace {

using formula::Op;
using formula::OpKind;

// Indices into the flags below, in the order OpKinds returns them.
enum Kind { kElementwise, kReduction, kIndex, kSoftmax, kNorm, kMatmul, kKindCount };
constexpr std::array<const char*, kKindCount> kKindNames = {"elementwise", "reduction", "index",
                                                            "softmax",     "norm",      "matmul"};

// The reductions whose square root makes a norm (statistics over a row).
bool IsNormStatistic(Op op) { return op == Op::kSum || op == Op::kMean || op == Op::kVar; }

bool IsElementwise(OpKind kind) {
  return kind == OpKind::kUnary || kind == OpKind::kBinary || kind == OpKind::kWhere || kind == OpKind::kCast;
}

void AddKinds(const formula::Graph& graph, std::array<bool, kKindCount>& found) {
  const size_t count = graph.nodes().size();
  // Per node: does its value come through a sum / mean / var reduction
  // (statistic), and is it a square root of one, or derived elementwise
  // from such a root (root)?
  std::vector<bool> statistic(count, false), root(count, false);
  for (size_t id = 0; id < count; ++id) {
    const formula::Node& n = graph.nodes()[id];
    const OpKind kind = formula::Info(n.op).kind;
    auto operand = [&](size_t i) { return static_cast<size_t>(n.operands[i]); };
    statistic[id] = IsNormStatistic(n.op);
    for (size_t i = 0; i < n.operands.size(); ++i) statistic[id] = statistic[id] || statistic[operand(i)];
    root[id] = n.op == Op::kStd || ((n.op == Op::kSqrt || n.op == Op::kRsqrt) && statistic[operand(0)]);
    if (IsElementwise(kind))
      for (size_t i = 0; i < n.operands.size(); ++i) root[id] = root[id] || root[operand(i)];
    if (n.is_scalar) continue;  // attribute arithmetic is not the kernel's work
    switch (kind) {
      case OpKind::kLeaf:
        break;
      case OpKind::kUnary:
      case OpKind::kBinary:
      case OpKind::kWhere:
      case OpKind::kCast:
        found[kElementwise] = true;
        break;
      case OpKind::kReduce:
        found[kReduction] = true;
        break;
      case OpKind::kArgReduce:
        found[kReduction] = true;
        found[kIndex] = true;
        break;
      case OpKind::kNormalize:
        found[kSoftmax] = true;
        break;
      case OpKind::kMatmul:
        found[kMatmul] = true;
        break;
    }
    // A norm scales tensor data by such a root: (x - mean) * rstd, x / norm.
    if ((n.op == Op::kMul || n.op == Op::kDiv) && n.operands.size() == 2) {
      for (size_t i = 0; i < 2; ++i) {
        const formula::Node& other = graph.node(n.operands[1 - i]);
        if (root[operand(i)] && !root[operand(1 - i)] && !other.is_scalar) found[kNorm] = true;
      }
    }
  }
}

}  // namespace

std::vector<std::string> OpKinds(const Task& task) {
  if (task.module) return {"module"};
  std::array<bool, kKindCount> found{};
  // Every variant: the graph's ops do not depend on dtypes today, but the
  // union is the honest answer if a variant ever lowers differently.
  for (const DTypeVariant& variant : task.Variants()) {
    auto graph = CompileTaskGraph(task, variant);
    if (graph.ok()) AddKinds(*graph, found);
  }
  std::vector<std::string> kinds;
  for (int k = 0; k < kKindCount; ++k)
    if (found[static_cast<size_t>(k)]) kinds.emplace_back(kKindNames[static_cast<size_t>(k)]);
  return kinds;
}

}  // namespace anvil
