#include "formula/verify.h"

#include <set>

#include "formula/infer.h"

namespace anvil::formula {
namespace {

Status Bad(NodeId id, const std::string& what) {
  return InternalError("graph verification failed at %" + std::to_string(id) + ": " + what);
}

std::string TypeString(DType t, const SymShape& s, bool scalar) {
  return std::string(DTypeName(t)) + (scalar ? " scalar" : ShapeToString(s));
}

Status VerifyLeaf(const Graph& g, NodeId id, const Node& n) {
  if (!n.operands.empty()) return Bad(id, "a leaf has operands");
  switch (n.op) {
    case Op::kInput: {
      if (n.index < 0 || static_cast<size_t>(n.index) >= g.inputs().size()) return Bad(id, "input index out of range");
      const InputDecl& d = g.inputs()[static_cast<size_t>(n.index)];
      if (n.dtype != d.dtype || n.shape != d.shape || n.is_scalar)
        return Bad(id, "input '" + d.name + "' is " + TypeString(n.dtype, n.shape, n.is_scalar) + ", declared " +
                           TypeString(d.dtype, d.shape, false));
      return Status::Ok();
    }
    case Op::kAttr: {
      if (n.index < 0 || static_cast<size_t>(n.index) >= g.attrs().size()) return Bad(id, "attr index out of range");
      const AttrDecl& d = g.attrs()[static_cast<size_t>(n.index)];
      if (n.dtype != d.dtype || !n.shape.empty() || !n.is_scalar)
        return Bad(id, "attr '" + d.name + "' must be a " + std::string(DTypeName(d.dtype)) + " scalar");
      return Status::Ok();
    }
    default: {
      DType t = n.value.dtype;
      if (t != DType::kF64 && t != DType::kI64 && t != DType::kBool) return Bad(id, "literal must be f64, i64 or bool");
      if (n.dtype != t || !n.shape.empty() || !n.is_scalar) return Bad(id, "literal type differs from its value");
      return Status::Ok();
    }
  }
}

}  // namespace

Status Verify(const Graph& g) {
  const auto& nodes = g.nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeId id = static_cast<NodeId>(i);
    const Node& n = nodes[i];
    const OpInfo& info = Info(n.op);
    if (info.kind == OpKind::kLeaf) {
      ANVIL_RETURN_IF_ERROR(VerifyLeaf(g, id, n));
      continue;
    }
    std::vector<ValueType> operand_types;
    std::vector<std::string> labels;
    for (NodeId op : n.operands) {
      if (op < 0 || op >= id) return Bad(id, "operand %" + std::to_string(op) + " does not precede its user");
      const Node& o = nodes[static_cast<size_t>(op)];
      operand_types.push_back({o.dtype, o.shape, o.is_scalar});
      labels.push_back("%" + std::to_string(op));
    }
    if (n.op == Op::kGelu && n.approximate != "none" && n.approximate != "tanh")
      return Bad(id, "gelu approximate must be 'none' or 'tanh', got '" + n.approximate + "'");
    size_t float_params = 0;
    for (const ParamSpec& p : info.params) float_params += p.type == ParamType::kFloat;
    if (n.params.size() != float_params)
      return Bad(id, std::string(info.name) + " needs " + std::to_string(float_params) + " float params, has " +
                         std::to_string(n.params.size()));
    if ((n.op == Op::kVar || n.op == Op::kStd) && n.correction < 0) return Bad(id, "negative correction");
    Result<ValueType> inferred = InferNode(n, operand_types, labels);
    if (!inferred.ok()) return Bad(id, inferred.status().message());
    if (inferred->dtype != n.dtype || inferred->shape != n.shape || inferred->is_scalar != n.is_scalar)
      return Bad(id, "node says " + TypeString(n.dtype, n.shape, n.is_scalar) + ", its operands give " +
                         TypeString(inferred->dtype, inferred->shape, inferred->is_scalar));
  }
  if (g.outputs().size() != g.output_nodes().size()) return InternalError("graph verification failed: output lists differ in length");
  std::set<std::string> names;
  for (size_t i = 0; i < g.outputs().size(); ++i) {
    const OutputInfo& out = g.outputs()[i];
    NodeId id = g.output_nodes()[i];
    if (id < 0 || static_cast<size_t>(id) >= nodes.size())
      return InternalError("graph verification failed: output '" + out.name + "' refers to a missing node");
    const Node& n = nodes[static_cast<size_t>(id)];
    if (n.is_scalar) return Bad(id, "output '" + out.name + "' is a scalar, not a tensor");
    if (out.dtype != n.dtype || out.shape != n.shape)
      return Bad(id, "output '" + out.name + "' says " + TypeString(out.dtype, out.shape, false) + ", node is " +
                         TypeString(n.dtype, n.shape, false));
    if (out.name.empty() || !names.insert(out.name).second)
      return InternalError("graph verification failed: output name '" + out.name + "' is empty or repeated");
  }
  return Status::Ok();
}

}  // namespace anvil::formula
