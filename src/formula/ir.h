// The formula IR: a typed, shape-checked expression DAG.
//
// SEMANTICS (the contract between the formula front end, the LibTorch
// reference evaluator and every kernel backend):
//
// Nodes. A Graph is a vector of Nodes in evaluation order: every operand id is
// smaller than its user's id (so the vector is a topological order; evaluate
// front to back). Each node has an Op (op_catalog.h), operand ids, attributes,
// a dtype, a symbolic shape (core/shape.h) and `is_scalar`. Nodes are shared:
// a name used twice is one node (a DAG, not a tree). No node has side effects.
//
// Scalars. Attributes and literals are *scalar* nodes (is_scalar, shape []).
// They behave like Python numbers given to PyTorch ("wrapped numbers"): in
// type promotion they only contribute their category (bool < integer <
// floating). A node whose operands are all scalars is a scalar computed with
// Python semantics: its dtype is f64, i64 or bool. Every graph output depends
// on at least one input tensor.
//
// Type promotion (torch.result_type). For elementwise ops the operands are
// split into three tiers: tensors of rank >= 1, rank-0 tensors, scalars. The
// result is the promotion (anvil::PromoteTypes) within the highest tier, and a
// lower tier only matters when its category is higher: `f16[N] * 2.0` is
// f16, `i32[N] * 1.5` is f32 (the default float), `bool[N] + 1` is i64,
// `f16[N] + f32[]` is f16, `i32[N] + f64[]` is f64. Ops whose DTypeRule is
// kFloat turn an integer/bool result into f32 (sigmoid, exp, `/`, softmax
// ...). Comparisons and logical ops give bool; sum/prod of integers give i64;
// argmax/argmin give i64; mean/var/std reject integers; matmul requires equal
// operand dtypes. Each op evaluates in its result dtype (operands are
// converted first), as PyTorch eager does; the reference's kUpcast64 mode
// instead computes every floating node in f64 (see reference/evaluate.h).
//
// Broadcasting (NumPy/PyTorch). Shapes align at the right. Two dims match when
// they are equal (same fixed size or the same symbol); a fixed 1 stretches to
// the other. Anything else (N vs M, N vs 4) is an error: a symbol is never
// assumed to be 1.
//
// Reductions. `dims` holds normalised (non-negative, ascending, unique) dims
// of the operand; a formula without dim reduces all dims, stored as the full
// list. keepdim keeps reduced dims as size 1. var/std divide by
// max(0, n - correction). argmax/argmin: one dim, or the flattened operand
// (dims empty); ties give the first index. softmax/log_softmax: one dim.
// logsumexp is computed stably (max-shifted).
//
// NaN policy: as IEEE and PyTorch. NaN propagates through arithmetic,
// maximum/minimum, clamp_min/clamp_max (a NaN operand gives NaN), amax/amin
// and sum; comparisons with NaN are false except !=; argmax/argmin treat NaN
// as the maximum/minimum (first NaN wins). Integer division by zero is
// undefined (PyTorch raises); kernels need not match it.
//
// Matmul follows torch.matmul: 1-D x 1-D is a dot product (shape []);
// a 1-D left operand is a row vector, a 1-D right operand a column vector
// (the added dim is removed again); batch dims broadcast. Its reduction
// length is K.
//
// Thread-safety: a Graph is an immutable value once built; copy freely.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "formula/lexer.h"
#include "formula/op_catalog.h"
#include "util/status.h"

namespace anvil::formula {

struct InputDecl {
  std::string name;
  DType dtype;
  SymShape shape;
};
struct AttrDecl {  // a 0-dim scalar
  std::string name;
  DType dtype;
};
struct OutputInfo {
  std::string name;
  DType dtype;
  SymShape shape;
};

using NodeId = int32_t;

struct Node {
  Op op = Op::kConst;
  std::vector<NodeId> operands;
  DType dtype = DType::kF32;
  SymShape shape;
  bool is_scalar = false;
  SourceLoc loc;  // where the formula wrote it (for messages from later stages)

  // Attributes; which are meaningful is decided by op (see the catalog).
  int32_t index = -1;          // kInput / kAttr: declaration index
  ScalarValue value;           // kConst: the literal (f64, i64 or bool)
  std::vector<int64_t> dims;   // kReduce, kArgReduce (empty = flattened), kNormalize (one dim)
  bool keepdim = false;        // kReduce, kArgReduce
  int64_t correction = 1;      // var, std
  DType to_dtype = DType::kF32;  // kTo
  std::string approximate;     // gelu: "none" or "tanh"
  std::vector<double> params;  // float params in catalog order (softplus beta, threshold; elu alpha; ...)
};

class Graph {
 public:
  Graph() = default;
  Graph(std::vector<InputDecl> inputs, std::vector<AttrDecl> attrs)
      : inputs_(std::move(inputs)), attrs_(std::move(attrs)) {}

  const std::vector<Node>& nodes() const { return nodes_; }
  const Node& node(NodeId id) const { return nodes_.at(static_cast<size_t>(id)); }
  const std::vector<InputDecl>& inputs() const { return inputs_; }
  const std::vector<AttrDecl>& attrs() const { return attrs_; }
  const std::vector<OutputInfo>& outputs() const { return outputs_; }
  const std::vector<NodeId>& output_nodes() const { return output_nodes_; }

  // One node per line, then one line per output:
  //   %3: f32[B, N] = mul(%1, %2)
  //   %1: f32 = attr t          (scalars have no brackets; rank-0 tensors show [])
  //   out = %3
  // Stable: the same graph always gives the same text.
  std::string Dump() const;

  // The largest number of input elements combined into one element of output
  // `output_index` along any path: product of reduced dim sizes for
  // sum/mean/var/std/prod/amax/amin/logsumexp, the dim's size for
  // softmax/log_softmax, K for matmul, 1 for elementwise ops and for
  // argmax/argmin (an index is compared exactly); multiplied along chains; an
  // empty reduction counts as 1. Every symbol in the graph must be bound in
  // `b` (checked).
  int64_t ReductionLength(size_t output_index, const Bindings& b) const;

  // Construction (used by the builder and tests): appends and returns the id.
  NodeId AddNode(Node n);
  void AddOutput(std::string name, NodeId id);

 private:
  std::vector<InputDecl> inputs_;
  std::vector<AttrDecl> attrs_;
  std::vector<Node> nodes_;
  std::vector<OutputInfo> outputs_;
  std::vector<NodeId> output_nodes_;
};

// Renders one node's right-hand side: "mul(%1, %2)", "sum(%0, dims=[1], keepdim=True)".
std::string NodeToString(const Node& n, const Graph& g);

}  // namespace anvil::formula
