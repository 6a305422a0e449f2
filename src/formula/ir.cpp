#include "formula/ir.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/check.h"

namespace anvil::formula {
namespace {

std::string FormatDouble(double v) {
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";  // keep floats recognisable: 2.0, not 2
  return s;
}

std::string FormatType(const Node& n) {
  std::string t(DTypeName(n.dtype));
  return n.is_scalar ? t : t + ShapeToString(n.shape);
}

std::string FormatDims(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

int64_t Size(const Dim& d, const Bindings& b) {
  if (d.is_fixed()) return d.fixed();
  auto it = b.find(d.symbol());
  ANVIL_CHECK(it != b.end());  // callers bind every symbol of the task
  return it->second;
}

}  // namespace

std::string NodeToString(const Node& n, const Graph& g) {
  const OpInfo& info = Info(n.op);
  switch (n.op) {
    case Op::kInput: return "input " + g.inputs().at(static_cast<size_t>(n.index)).name;
    case Op::kAttr: return "attr " + g.attrs().at(static_cast<size_t>(n.index)).name;
    case Op::kConst:
      if (n.value.dtype == DType::kBool) return std::string("const ") + (n.value.i ? "True" : "False");
      if (IsFloating(n.value.dtype)) return "const " + FormatDouble(n.value.f);
      return "const " + std::to_string(n.value.i);
    default: break;
  }
  std::string s = std::string(info.name) + "(";
  for (size_t i = 0; i < n.operands.size(); ++i) s += (i ? ", %" : "%") + std::to_string(n.operands[i]);
  switch (info.kind) {
    case OpKind::kCast: s += ", dtype=" + std::string(DTypeName(n.to_dtype)); break;
    case OpKind::kReduce:
      s += ", dims=" + FormatDims(n.dims);
      if (n.keepdim) s += ", keepdim=True";
      if (n.op == Op::kVar || n.op == Op::kStd) s += ", correction=" + std::to_string(n.correction);
      break;
    case OpKind::kArgReduce:
      if (!n.dims.empty()) s += ", dim=" + std::to_string(n.dims[0]);
      if (n.keepdim) s += ", keepdim=True";
      break;
    case OpKind::kNormalize: s += ", dim=" + std::to_string(n.dims.at(0)); break;
    default: break;
  }
  if (n.op == Op::kGelu) s += ", approximate='" + n.approximate + "'";
  size_t p = 0;
  for (const ParamSpec& spec : info.params) {
    if (spec.type != ParamType::kFloat) continue;
    ANVIL_CHECK(p < n.params.size());
    s += ", " + std::string(spec.name) + "=" + FormatDouble(n.params[p++]);
  }
  return s + ")";
}

std::string Graph::Dump() const {
  std::string out;
  for (size_t i = 0; i < nodes_.size(); ++i)
    out += "%" + std::to_string(i) + ": " + FormatType(nodes_[i]) + " = " + NodeToString(nodes_[i], *this) + "\n";
  for (size_t i = 0; i < outputs_.size(); ++i)
    out += outputs_[i].name + " = %" + std::to_string(output_nodes_[i]) + "\n";
  return out;
}

int64_t Graph::ReductionLength(size_t output_index, const Bindings& b) const {
  ANVIL_CHECK(output_index < output_nodes_.size());
  NodeId target = output_nodes_[output_index];
  std::vector<int64_t> length(static_cast<size_t>(target) + 1, 1);
  for (NodeId id = 0; id <= target; ++id) {
    const Node& n = nodes_[static_cast<size_t>(id)];
    int64_t in = 1;
    for (NodeId op : n.operands) in = std::max(in, length[static_cast<size_t>(op)]);
    int64_t factor = 1;
    const OpKind kind = Info(n.op).kind;
    if (kind == OpKind::kReduce || kind == OpKind::kNormalize) {
      const SymShape& s = node(n.operands[0]).shape;
      for (int64_t d : n.dims) factor *= Size(s[static_cast<size_t>(d)], b);
    } else if (kind == OpKind::kMatmul) {
      factor = Size(node(n.operands[0]).shape.back(), b);
    }
    // An empty reduction combines nothing; it must not zero the chain.
    length[static_cast<size_t>(id)] = in * std::max<int64_t>(factor, 1);
  }
  return length[static_cast<size_t>(target)];
}

NodeId Graph::AddNode(Node n) {
  nodes_.push_back(std::move(n));
  return static_cast<NodeId>(nodes_.size() - 1);
}

void Graph::AddOutput(std::string name, NodeId id) {
  const Node& n = node(id);
  outputs_.push_back({std::move(name), n.dtype, n.shape});
  output_nodes_.push_back(id);
}

}  // namespace anvil::formula
