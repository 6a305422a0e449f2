// Lowering a formula graph to a KernelPlan (semantics: kernel_plan.h). The
// passes, each of which can be dumped:
//   1. domain     the iteration space and the row axis the reductions share;
//   2. decompose  formula nodes -> primitive nodes (composites spelled out);
//   3. stabilize  log1p(exp(z)), log(1 + exp(z)): max(z, 0) + f(-|z|), no f32 overflow;
//   4. prune      drop nodes no output needs;
//   5. levels     scalar / row / element, and which pass computes each row value;
//   6. widen      f64 where f32 would overflow or lose the row's digits;
//   7. io         how each input is indexed and where each output is written,
//                 and whether an in-place output can be written safely.
#include "compiler/kernel_plan.h"

#include <algorithm>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "compiler/stabilize.h"
#include "formula/infer.h"

namespace anvil::compiler {
namespace {

using formula::Graph;
using formula::Node;
using formula::NodeId;
using formula::Op;
using formula::OpKind;

// Where a formula node's values live: on the domain (right-aligned), on the
// row dims only (a reduction without keepdim), or nowhere (a scalar).
enum class Space { kScalar, kDomain, kRows };

std::string Label(const Graph& g, NodeId id) {
  return fmt::format("%{} = {}", id, formula::NodeToString(g.node(id), g));
}

bool IsFixedOne(const Dim& d) { return d.is_fixed() && d.fixed() == 1; }

class Lowering {
 public:
  Lowering(const Graph& g, std::string name, const InPlaceOutputs& inplace) : g_(g), inplace_(inplace) {
    plan_.name = std::move(name);
  }

  Result<KernelPlan> Run(const DumpFn& dump) {
    ANVIL_RETURN_IF_ERROR(Domain());
    if (dump) dump("domain", plan_.Dump());
    ANVIL_RETURN_IF_ERROR(Decompose());
    if (dump) dump("decompose", plan_.Dump());
    Stabilize();
    if (dump) dump("stabilize", plan_.Dump());
    Prune();
    if (dump) dump("prune", plan_.Dump());
    Levels();
    if (dump) dump("levels", plan_.Dump());
    Widen();
    if (dump) dump("widen", plan_.Dump());
    ANVIL_RETURN_IF_ERROR(InputsAndOutputs());
    ANVIL_RETURN_IF_ERROR(InPlace());
    if (dump) dump("io", plan_.Dump());
    return plan_;
  }

 private:
  // ---- 1. domain ------------------------------------------------------------
  Status Domain() {
    // Ops outside the compiler's scope first: their shapes would mislead the messages below.
    NodeId matmul = -1;
    for (NodeId id = 0; id < static_cast<NodeId>(g_.nodes().size()); ++id) {
      const OpKind kind = formula::Info(g_.node(id).op).kind;
      if (kind == OpKind::kArgReduce)
        return Unsupported(Label(g_, id) + ": argmax/argmin are not lowered by the built-in compiler yet");
      if (kind != OpKind::kMatmul) continue;
      if (matmul >= 0)
        return Unsupported(Label(g_, id) + ": a second matmul; the built-in compiler fuses one matmul with an "
                                           "elementwise epilogue per kernel");
      matmul = id;
    }
    if (matmul >= 0) ANVIL_RETURN_IF_ERROR(MatmulOperands(matmul));
    SymShape domain = matmul >= 0 ? g_.node(matmul).shape : SymShape{};
    std::string label = matmul >= 0 ? "the matmul's output" : "";
    for (size_t i = 0; i < g_.inputs().size(); ++i) {
      const formula::InputDecl& in = g_.inputs()[i];
      if (matmul >= 0) {
        if (static_cast<int>(i) == matmul_a_ || static_cast<int>(i) == matmul_b_) continue;
        // The epilogue runs over the matmul's output: its inputs must fit in it, not enlarge it.
        auto b = formula::Broadcast(domain, label, in.shape, "'" + in.name + "'");
        if (!b.ok() || !(*b == domain))
          return Unsupported(fmt::format(
              "input '{}' {} does not broadcast into the matmul's output {}: the epilogue of a matmul is "
              "elementwise over its output",
              in.name, ShapeToString(in.shape), ShapeToString(domain)));
        continue;
      }
      auto b = formula::Broadcast(domain, label.empty() ? "[]" : label, in.shape, "'" + in.name + "'");
      if (!b.ok())
        return Unsupported(fmt::format(
            "the built-in compiler iterates over the broadcast of all inputs, and {}; an input combined only with "
            "per-row results should be declared with a size-1 last dim (e.g. [R, 1]) and the reductions written "
            "with keepdim=True",
            b.status().message()));
      domain = *b;
      label = label.empty() ? "'" + in.name + "'" : label + " and '" + in.name + "'";
    }
    plan_.domain = domain;
    plan_.rank = static_cast<int>(domain.size());
    // The row axis: the trailing dims every reduction reduces (one axis for all).
    std::optional<int> k;
    for (NodeId id = 0; id < static_cast<NodeId>(g_.nodes().size()); ++id) {
      const Node& n = g_.node(id);
      const OpKind kind = formula::Info(n.op).kind;
      if (kind != OpKind::kReduce && kind != OpKind::kNormalize) continue;
      const Node& x = g_.node(n.operands[0]);
      const int shift = plan_.rank - static_cast<int>(x.shape.size());
      std::vector<int> dims;
      for (int64_t d : n.dims) dims.push_back(static_cast<int>(d) + shift);
      const int this_k = static_cast<int>(dims.size());
      bool trailing = this_k > 0;
      for (int i = 0; i < this_k; ++i) trailing = trailing && dims[i] == plan_.rank - this_k + i;
      if (!trailing)
        return Unsupported(fmt::format(
            "{}: reduces dims {} of the {}-dim iteration space {}; the built-in compiler reduces only the "
            "innermost dims (e.g. dim=-1), in one shared row axis",
            Label(g_, id), fmt::join(dims, ", "), plan_.rank, ShapeToString(plan_.domain)));
      if (k && *k != this_k)
        return Unsupported(fmt::format("{}: reduces the last {} dims while another reduction reduces the last {}; "
                                       "the built-in compiler needs one row axis for the whole formula",
                                       Label(g_, id), this_k, *k));
      k = this_k;
    }
    plan_.reduced_dims = k ? *k : std::min(1, plan_.rank);
    for (int d = 0; d < plan_.rank; ++d) plan_.dim_source.push_back(SourceOf(plan_.domain[d]));
    if (matmul >= 0) plan_.matmul_k = SourceOf(g_.inputs()[matmul_a_].shape[1]);
    plan_.attrs = g_.attrs();
    return Status::Ok();
  }

  // Where the kernel reads a dim's size: fixed, or the first input that has its symbol.
  DimSource SourceOf(const Dim& dim) const {
    DimSource s;
    if (dim.is_fixed()) {
      s.size = dim.fixed();
      return s;
    }
    s.fixed = false;
    s.symbol = dim.symbol();
    for (size_t i = 0; i < g_.inputs().size() && s.input < 0; ++i) {
      const SymShape& shape = g_.inputs()[i].shape;
      for (size_t a = 0; a < shape.size(); ++a)
        if (!shape[a].is_fixed() && shape[a].symbol() == dim.symbol()) {
          s.input = static_cast<int>(i);
          s.dim = static_cast<int>(a);
          break;
        }
    }
    return s;
  }

  // The one matmul the compiler fuses: A [M, K] @ B [K, N], both inputs read by
  // the matmul only, floating, and nothing in the formula reducing.
  Status MatmulOperands(NodeId id) {
    const Node& m = g_.node(id);
    for (NodeId other = 0; other < static_cast<NodeId>(g_.nodes().size()); ++other) {
      const OpKind kind = formula::Info(g_.node(other).op).kind;
      if (kind == OpKind::kReduce || kind == OpKind::kNormalize)
        return Unsupported(Label(g_, other) + ": a reduction in a formula with a matmul (" + Label(g_, id) +
                           "); the built-in compiler fuses a matmul with an elementwise epilogue only");
    }
    for (int side = 0; side < 2; ++side) {
      const Node& x = g_.node(m.operands[side]);
      const char* which = side == 0 ? "left" : "right";
      if (x.op != Op::kInput)
        return Unsupported(fmt::format("{}: the {} operand is computed ({}); the built-in compiler multiplies "
                                       "inputs as given (write the prologue as its own kernel, or pass it as an input)",
                                       Label(g_, id), which, Label(g_, m.operands[side])));
      if (x.shape.size() != 2)
        return Unsupported(fmt::format("{}: the {} operand has rank {}; the built-in compiler lowers 2-D matmuls "
                                       "[M, K] @ [K, N] (flatten batch dims into M)",
                                       Label(g_, id), which, x.shape.size()));
      (side == 0 ? matmul_a_ : matmul_b_) = x.index;
    }
    if (matmul_a_ == matmul_b_)
      return Unsupported(Label(g_, id) + ": both operands are input '" + g_.inputs()[matmul_a_].name +
                         "'; declare the right operand as an input of its own");
    if (!IsFloating(m.dtype))
      return Unsupported(fmt::format("{}: {} operands; the built-in compiler lowers floating matmuls",
                                     Label(g_, id), DTypeName(m.dtype)));
    for (NodeId other = 0; other < static_cast<NodeId>(g_.nodes().size()); ++other) {
      if (other == id) continue;
      for (NodeId o : g_.node(other).operands) {
        const Node& x = g_.node(o);
        if (x.op == Op::kInput && (x.index == matmul_a_ || x.index == matmul_b_))
          return Unsupported(fmt::format("{}: uses matmul operand '{}' elementwise; the built-in compiler reads "
                                         "the matmul's operands in the matmul only",
                                         Label(g_, other), g_.inputs()[x.index].name));
      }
    }
    for (size_t o = 0; o < g_.outputs().size(); ++o) {
      const Node& x = g_.node(g_.output_nodes()[o]);
      if (x.op == Op::kInput && (x.index == matmul_a_ || x.index == matmul_b_))
        return Unsupported("output '" + g_.outputs()[o].name + "' is matmul operand '" + g_.inputs()[x.index].name +
                           "' itself; the built-in compiler reads the matmul's operands in the matmul only");
    }
    return Status::Ok();
  }

  // ---- 2. decompose ---------------------------------------------------------
  int Add(KNode n) { return NodeAppender(plan_.nodes).Add(std::move(n)); }
  int Const(double v) { return NodeAppender(plan_.nodes).Const(v); }
  int RowLength() {
    if (row_length_ < 0) {
      KNode n;
      n.kind = KNode::Kind::kRowLength;
      n.dtype = n.operand_dtype = DType::kF64;
      n.level = Level::kScalar;
      n.origin = "the number of elements in a row";
      row_length_ = Add(n);
    }
    return row_length_;
  }
  int OpNode(Op op, std::vector<int> operands, DType dtype, const std::string& origin, DType result) {
    return NodeAppender(plan_.nodes).OpNode(op, std::move(operands), dtype, origin, result);
  }
  int OpNode(Op op, std::vector<int> operands, DType dtype, const std::string& origin) {
    return OpNode(op, std::move(operands), dtype, origin, dtype);
  }
  int Reduce(Op op, int operand, DType result, const std::string& origin) {
    KNode n;
    n.kind = KNode::Kind::kReduce;
    n.op = op;
    n.operands = {operand};
    n.dtype = result;
    n.operand_dtype = plan_.nodes[operand].dtype;
    n.level = Level::kRow;
    n.origin = origin;
    return Add(n);
  }

  formula::ValueType TypeOf(NodeId id) const {
    const Node& n = g_.node(id);
    return {n.dtype, n.shape, n.is_scalar};
  }

  Status Decompose() {
    const auto& nodes = g_.nodes();
    map_.assign(nodes.size(), -1);
    space_.assign(nodes.size(), Space::kScalar);
    for (NodeId id = 0; id < static_cast<NodeId>(nodes.size()); ++id) {
      const Node& n = nodes[id];
      const formula::OpInfo& info = formula::Info(n.op);
      const std::string origin = Label(g_, id);
      std::vector<int> args;
      for (NodeId o : n.operands) args.push_back(map_[o]);
      int result = -1;
      Space space = Space::kDomain;
      switch (info.kind) {
        case OpKind::kLeaf: {
          KNode k;
          k.dtype = k.operand_dtype = n.dtype;
          k.origin = origin;
          if (n.op == Op::kInput) {
            k.kind = KNode::Kind::kInput;
            k.index = n.index;
          } else {
            k.kind = n.op == Op::kAttr ? KNode::Kind::kAttr : KNode::Kind::kConst;
            k.index = n.index;
            k.value = n.value;
            k.level = Level::kScalar;
            space = Space::kScalar;
          }
          result = Add(k);
          break;
        }
        case OpKind::kUnary:
        case OpKind::kBinary:
        case OpKind::kWhere:
        case OpKind::kCast: {
          ANVIL_ASSIGN_OR_RETURN(space, ElementwiseSpace(id));
          KNode k;
          k.kind = KNode::Kind::kOp;
          k.op = n.op;
          k.operands = args;
          k.dtype = n.dtype;
          k.to_dtype = n.to_dtype;
          k.approximate = n.approximate;
          k.params = n.params;
          k.origin = origin;
          if (info.kind == OpKind::kCast) {
            k.operand_dtype = g_.node(n.operands[0]).dtype;
          } else if (info.dtype_rule == formula::DTypeRule::kBool) {
            std::vector<formula::ValueType> types;
            for (NodeId o : n.operands) types.push_back(TypeOf(o));
            k.operand_dtype = formula::PromoteOperands(types);
          } else {
            k.operand_dtype = n.dtype;
          }
          if (n.is_scalar) k.level = Level::kScalar;
          result = Add(k);
          break;
        }
        case OpKind::kMatmul: {
          KNode k;
          k.kind = KNode::Kind::kMatmul;
          k.op = n.op;
          k.operands = args;
          k.dtype = k.operand_dtype = n.dtype;
          k.origin = origin;
          result = Add(k);
          plan_.matmul = result;
          break;
        }
        case OpKind::kReduce:
        case OpKind::kNormalize: {
          if (space_[n.operands[0]] == Space::kRows)
            return Unsupported(origin + ": reduces a per-row value again; the built-in compiler has one row axis");
          ANVIL_ASSIGN_OR_RETURN(result, DecomposeReduction(n, args[0], origin));
          space = info.kind == OpKind::kNormalize || n.keepdim ? Space::kDomain : Space::kRows;
          break;
        }
        default:
          return Unsupported(origin + ": not lowered by the built-in compiler");
      }
      map_[id] = result;
      space_[id] = space;
    }
    for (size_t i = 0; i < g_.outputs().size(); ++i) {
      PlanOutput o;
      o.name = g_.outputs()[i].name;
      o.node = map_[g_.output_nodes()[i]];
      o.dtype = g_.outputs()[i].dtype;
      plan_.outputs.push_back(o);
    }
    return Status::Ok();
  }

  // Elementwise ops may mix scalars, rank-0 tensors and either domain values
  // or per-row values, not both (PyTorch would align a per-row [R] value with
  // the last dim, which is never what a kernel author means here).
  Result<Space> ElementwiseSpace(NodeId id) {
    bool rows = false, domain = false;
    for (NodeId o : g_.node(id).operands) {
      if (g_.node(o).shape.empty()) continue;  // scalar or rank-0: fits either
      rows = rows || space_[o] == Space::kRows;
      domain = domain || space_[o] == Space::kDomain;
    }
    if (rows && domain)
      return Unsupported(Label(g_, id) +
                         ": combines a reduction result taken without keepdim with a full tensor, which PyTorch "
                         "aligns at the last dim; write the reduction with keepdim=True");
    if (rows) return Space::kRows;
    if (domain) return Space::kDomain;
    // Only scalars and rank-0 tensors: a rank-0 input is on the domain.
    for (NodeId o : g_.node(id).operands)
      if (space_[o] != Space::kScalar) return space_[o];
    return Space::kScalar;
  }

  Result<int> DecomposeReduction(const Node& n, int x, const std::string& origin) {
    const DType t = n.dtype;
    const DType xt = plan_.nodes[x].dtype;
    switch (n.op) {
      case Op::kSum:
      case Op::kProd:
      case Op::kAmax:
      case Op::kAmin:
        return Reduce(n.op, x, t, origin);
      case Op::kMean: {
        int s = Reduce(Op::kSum, x, t, origin + ": row sum");
        return OpNode(Op::kDiv, {s, RowLength()}, t, origin + ": sum / L");
      }
      case Op::kVar:
      case Op::kStd: {
        int s = Reduce(Op::kSum, x, t, origin + ": row sum");
        int mean = OpNode(Op::kDiv, {s, RowLength()}, t, origin + ": mean");
        int d = OpNode(Op::kSub, {x, mean}, t, origin + ": x - mean");
        int d2 = OpNode(Op::kMul, {d, d}, t, origin + ": squared deviation");
        int ss = Reduce(Op::kSum, d2, t, origin + ": sum of squared deviations");
        int dof = OpNode(Op::kClampMin,
                         {OpNode(Op::kSub, {RowLength(), Const(static_cast<double>(n.correction))}, DType::kF64,
                                 origin + ": L - correction"),
                          Const(0)},
                         DType::kF64, origin + ": max(0, L - correction)");
        int var = OpNode(Op::kDiv, {ss, dof}, t, origin + ": variance");
        return n.op == Op::kVar ? var : OpNode(Op::kSqrt, {var}, t, origin + ": sqrt");
      }
      case Op::kLogsumexp: {
        // PyTorch's stable form: a shift by the row max, except an infinite max shifts by 0.
        int m = Reduce(Op::kAmax, x, t, origin + ": row max");
        int inf = OpNode(Op::kEq, {OpNode(Op::kAbs, {m}, t, origin + ": |max|"), Const(INFINITY)}, t,
                         origin + ": |max| == inf", DType::kBool);
        int shift = OpNode(Op::kWhere, {inf, Const(0), m}, t, origin + ": shift");
        int e = OpNode(Op::kExp, {OpNode(Op::kSub, {x, shift}, t, origin + ": x - shift")}, t, origin + ": exp");
        int s = Reduce(Op::kSum, e, t, origin + ": row sum of exp");
        return OpNode(Op::kAdd, {OpNode(Op::kLog, {s}, t, origin + ": log"), shift}, t, origin);
      }
      case Op::kSoftmax:
      case Op::kLogSoftmax: {
        (void)xt;
        int m = Reduce(Op::kAmax, x, t, origin + ": row max");
        int shifted = OpNode(Op::kSub, {x, m}, t, origin + ": x - max");
        int e = OpNode(Op::kExp, {shifted}, t, origin + ": exp");
        int s = Reduce(Op::kSum, e, t, origin + ": row sum of exp");
        if (n.op == Op::kSoftmax) return OpNode(Op::kDiv, {e, s}, t, origin);
        return OpNode(Op::kSub, {shifted, OpNode(Op::kLog, {s}, t, origin + ": log of the sum")}, t, origin);
      }
      default:
        return Unsupported(origin + ": this reduction is not lowered by the built-in compiler");
    }
  }

  // ---- 3. stabilize (stabilize.h) -----------------------------------------------
  void Stabilize() {
    const std::vector<int> renumber = StabilizeSoftplus(plan_);
    if (row_length_ >= 0) row_length_ = renumber[row_length_];
  }

  // ---- 4. prune -------------------------------------------------------------
  void Prune() {
    std::vector<bool> live(plan_.nodes.size(), false);
    for (const PlanOutput& o : plan_.outputs) live[o.node] = true;
    for (int i = static_cast<int>(plan_.nodes.size()) - 1; i >= 0; --i)
      if (live[i])
        for (int o : plan_.nodes[i].operands) live[o] = true;
    std::vector<int> renumber(plan_.nodes.size(), -1);
    std::vector<KNode> kept;
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      if (!live[i]) continue;
      KNode n = plan_.nodes[i];
      for (int& o : n.operands) o = renumber[o];
      renumber[i] = static_cast<int>(kept.size());
      kept.push_back(std::move(n));
    }
    plan_.nodes = std::move(kept);
    for (PlanOutput& o : plan_.outputs) o.node = renumber[o.node];
    if (plan_.matmul >= 0) plan_.matmul = renumber[plan_.matmul];
  }

  // ---- 5. levels and passes ---------------------------------------------------
  bool InputVariesAlongRow(int input) const {
    const SymShape& shape = g_.inputs()[input].shape;
    const int shift = plan_.rank - static_cast<int>(shape.size());
    for (int d = plan_.rank - plan_.reduced_dims; d < plan_.rank; ++d) {
      if (d < shift || IsFixedOne(plan_.domain[d])) continue;
      if (!IsFixedOne(shape[d - shift])) return true;
    }
    return false;
  }

  void Levels() {
    int passes = 0;
    for (KNode& n : plan_.nodes) {
      switch (n.kind) {
        case KNode::Kind::kInput:
          // A matmul's epilogue reads every input per element (there are no rows to hoist to).
          n.level = plan_.matmul >= 0 || InputVariesAlongRow(n.index) ? Level::kElement : Level::kRow;
          n.pass = -1;
          break;
        case KNode::Kind::kMatmul:
          n.level = Level::kElement;
          n.pass = -1;
          break;
        case KNode::Kind::kAttr:
        case KNode::Kind::kConst:
        case KNode::Kind::kRowLength:
          n.level = Level::kScalar;
          break;
        case KNode::Kind::kOp: {
          Level level = Level::kScalar;
          int pass = -1;
          for (int o : n.operands) {
            level = std::max(level, plan_.nodes[o].level);
            pass = std::max(pass, plan_.nodes[o].pass);
          }
          n.level = level;
          n.pass = level == Level::kScalar ? -1 : pass;
          break;
        }
        case KNode::Kind::kReduce: {
          // Computed in the pass after everything its operand needs is known.
          n.level = Level::kRow;
          n.pass = plan_.nodes[n.operands[0]].pass + 1;
          passes = std::max(passes, n.pass + 1);
          break;
        }
      }
    }
    plan_.passes = passes;
  }

  // ---- 6. widen ----------------------------------------------------------------
  // A sum of products over a row of f32 values overflows float long before
  // the f64 reference does (the square of 2^64 is out of float range), and a
  // per-row value like a variance or 1/rms needs the same range. So:
  //   - a sum or product over f16/bf16/f32 whose operand is arithmetic with
  //     a product in it computes that arithmetic, and accumulates, in f64;
  //   - every floating row value (one per row, cheap) is computed in f64.
  // Element nodes outside such bodies keep f32 (fast, vectorised math); they
  // see row values rounded to their own dtype. Casts written in the formula
  // (`to`) keep their rounding.
  static bool IsNarrowFloat(DType t) { return t == DType::kF16 || t == DType::kBF16 || t == DType::kF32; }
  void WidenNode(int id) {
    KNode& n = plan_.nodes[id];
    if (n.kind != KNode::Kind::kOp || n.op == Op::kTo) return;
    if (IsNarrowFloat(n.dtype)) n.dtype = DType::kF64;
    if (IsNarrowFloat(n.operand_dtype) && formula::Info(n.op).dtype_rule != formula::DTypeRule::kBool)
      n.operand_dtype = DType::kF64;
  }
  void Widen() {
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      KNode& r = plan_.nodes[i];
      if (r.kind != KNode::Kind::kReduce || (r.op != Op::kSum && r.op != Op::kProd)) continue;
      if (!IsNarrowFloat(r.operand_dtype)) continue;
      // The arithmetic that feeds the sum directly (through +, -, *, /, abs,
      // negation, squares and powers; a function like exp bounds its result
      // and ends the walk, so softmax's exponentials stay in fast f32).
      std::vector<int> arithmetic;
      std::vector<int> todo = {r.operands[0]};
      std::set<int> seen;
      bool products = false;
      while (!todo.empty()) {
        const int id = todo.back();
        todo.pop_back();
        const KNode& n = plan_.nodes[id];
        if (!seen.insert(id).second || n.kind != KNode::Kind::kOp || n.level != Level::kElement) continue;
        const Op op = n.op;
        if (op != Op::kAdd && op != Op::kSub && op != Op::kMul && op != Op::kDiv && op != Op::kSquare &&
            op != Op::kPow && op != Op::kNeg && op != Op::kAbs)
          continue;
        products = products || op == Op::kMul || op == Op::kSquare || op == Op::kPow;
        arithmetic.push_back(id);
        for (int o : n.operands) todo.push_back(o);
      }
      if (!products) continue;
      for (int id : arithmetic) WidenNode(id);
      r.operand_dtype = plan_.nodes[r.operands[0]].dtype;
    }
    for (KNode& n : plan_.nodes) {
      if (n.kind == KNode::Kind::kReduce) n.operand_dtype = plan_.nodes[n.operands[0]].dtype;
      if (n.kind == KNode::Kind::kReduce && IsNarrowFloat(n.dtype)) n.dtype = DType::kF64;
      if (n.level == Level::kRow && n.kind == KNode::Kind::kOp) WidenNode(static_cast<int>(&n - plan_.nodes.data()));
    }
  }

  // ---- 7. inputs and outputs ----------------------------------------------------
  Status InputsAndOutputs() {
    for (size_t i = 0; i < g_.inputs().size(); ++i) {
      const formula::InputDecl& in = g_.inputs()[i];
      PlanInput p;
      p.name = in.name;
      p.dtype = in.dtype;
      p.rank = static_cast<int>(in.shape.size());
      p.role = static_cast<int>(i) == matmul_a_   ? InputRole::kMatmulA
               : static_cast<int>(i) == matmul_b_ ? InputRole::kMatmulB
                                                  : InputRole::kDomain;
      const int shift = plan_.rank - p.rank;
      for (int d = 0; d < plan_.rank; ++d)
        p.broadcast.push_back(p.role == InputRole::kDomain &&
                              (d < shift || (IsFixedOne(in.shape[d - shift]) && !IsFixedOne(plan_.domain[d]))));
      p.level = p.role != InputRole::kDomain || plan_.matmul >= 0 || InputVariesAlongRow(static_cast<int>(i))
                    ? Level::kElement
                    : Level::kRow;
      plan_.inputs.push_back(p);
    }
    const int row_rank = plan_.rank - plan_.reduced_dims;
    const SymShape row_dims(plan_.domain.begin(), plan_.domain.begin() + row_rank);
    SymShape keepdim_rows = row_dims;
    for (int d = row_rank; d < plan_.rank; ++d) keepdim_rows.push_back(Dim::Fixed(1));
    for (size_t i = 0; i < plan_.outputs.size(); ++i) {
      PlanOutput& o = plan_.outputs[i];
      const SymShape& shape = g_.outputs()[i].shape;
      const Space space = space_[g_.output_nodes()[i]];
      if (space == Space::kDomain && shape == plan_.domain) {
        o.per_element = true;
      } else if ((space == Space::kDomain && shape == keepdim_rows) || (space == Space::kRows && shape == row_dims)) {
        o.per_element = false;
      } else {
        return Unsupported(fmt::format(
            "output '{}' has shape {} while the kernel iterates over {} (rows {}): the built-in compiler writes "
            "outputs of the full iteration shape or one value per row",
            o.name, ShapeToString(shape), ShapeToString(plan_.domain), ShapeToString(row_dims)));
      }
      if (!o.per_element && plan_.nodes[o.node].level == Level::kElement)
        return InternalError("output '" + o.name + "' is per row but its value varies along the row");
    }
    return Status::Ok();
  }

  // In-place outputs (kernel_plan.h, "In-place outputs"): which input each
  // is written into, refused where a kernel could read an element after
  // writing it.
  Status InPlace() {
    for (const auto& [output, input] : inplace_) {
      int o = -1, i = -1;
      for (size_t x = 0; x < plan_.outputs.size(); ++x)
        if (plan_.outputs[x].name == output) o = static_cast<int>(x);
      for (size_t x = 0; x < plan_.inputs.size(); ++x)
        if (plan_.inputs[x].name == input) i = static_cast<int>(x);
      if (o < 0) return InvalidInput("in-place output '" + output + "': the formula has no such output");
      if (i < 0)
        return InvalidInput("output '" + output + "' is declared in place into '" + input +
                            "', which is not an input of the formula");
      PlanOutput& out = plan_.outputs[o];
      const PlanInput& in = plan_.inputs[i];
      const std::string what = "output '" + output + "' is written in place into input '" + input + "'";
      for (const PlanOutput& other : plan_.outputs)
        if (&other != &out && other.inplace == i)
          return Unsupported(what + ", and so is output '" + other.name +
                             "': two outputs in one tensor; declare at most one output in place per input");
      if (in.role != InputRole::kDomain)
        return Unsupported(what + ", a matmul operand: every output element reads a whole row or column of it, "
                                  "so writing it in place would change values other elements still read");
      if (in.dtype != out.dtype)
        return Unsupported(fmt::format("{}, but the output is {} and the input {}: an in-place op keeps the "
                                       "input's dtype (cast in the formula with to())",
                                       what, DTypeName(out.dtype), DTypeName(in.dtype)));
      const SymShape& out_shape = g_.outputs()[o].shape;
      const SymShape& in_shape = g_.inputs()[i].shape;
      if (!(out_shape == in_shape))
        return Unsupported(fmt::format("{}, but the output has shape {} and the input {}: an in-place output has "
                                       "its input's shape",
                                       what, ShapeToString(out_shape), ShapeToString(in_shape)));
      const int varying = out.per_element ? plan_.rank : plan_.rank - plan_.reduced_dims;
      for (int d = 0; d < varying; ++d)
        if (in.broadcast[d])
          return Unsupported(fmt::format("{}, which broadcasts along dim {} of the iteration space {}: several "
                                         "output elements would share one input element",
                                         what, d, ShapeToString(plan_.domain)));
      if (!out.per_element && !plan_.HasReductions())
        return Unsupported(what + " and holds one value per row of an elementwise kernel, whose other blocks of "
                                  "the row may still read the input after the row's value is written; declare "
                                  "the output without inplace");
      out.inplace = i;
    }
    return Status::Ok();
  }

  const Graph& g_;
  const InPlaceOutputs& inplace_;
  KernelPlan plan_;
  std::vector<int> map_;       // formula node -> plan node
  std::vector<Space> space_;   // per formula node
  int row_length_ = -1;
  int matmul_a_ = -1, matmul_b_ = -1;  // input indices of the matmul's operands
};

const char* LevelName(Level l) {
  switch (l) {
    case Level::kScalar: return "scalar";
    case Level::kRow: return "row";
    case Level::kElement: return "element";
  }
  return "?";
}

}  // namespace

int KernelPlan::MatmulInput(bool b) const {
  const KNode& m = nodes.at(matmul);
  return nodes.at(m.operands.at(b ? 1 : 0)).index;
}

bool KernelPlan::HasElementOutputs() const {
  return std::any_of(outputs.begin(), outputs.end(), [](const PlanOutput& o) { return o.per_element; });
}

bool KernelPlan::HasInPlaceOutputs() const {
  return std::any_of(outputs.begin(), outputs.end(), [](const PlanOutput& o) { return o.inplace >= 0; });
}

std::vector<int> KernelPlan::ElementNodesFor(const std::vector<int>& targets) const {
  std::vector<bool> need(nodes.size(), false);
  for (int t : targets)
    if (nodes[t].level == Level::kElement) need[t] = true;
  for (int i = static_cast<int>(nodes.size()) - 1; i >= 0; --i) {
    if (!need[i] || nodes[i].kind == KNode::Kind::kReduce || nodes[i].kind == KNode::Kind::kMatmul) continue;
    for (int o : nodes[i].operands)
      if (nodes[o].level == Level::kElement) need[o] = true;
  }
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (need[i]) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<int> KernelPlan::ReducesInPass(int p) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].kind == KNode::Kind::kReduce && nodes[i].pass == p) out.push_back(static_cast<int>(i));
  return out;
}

std::vector<int> KernelPlan::RowNodesAfter(int p) const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].level == Level::kRow && nodes[i].kind != KNode::Kind::kReduce && nodes[i].pass == p)
      out.push_back(static_cast<int>(i));
  return out;
}

std::vector<int> KernelPlan::ScalarNodes() const {
  std::vector<int> out;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (nodes[i].level == Level::kScalar) out.push_back(static_cast<int>(i));
  return out;
}

std::string KernelPlan::Dump() const {
  const int row_rank = rank - reduced_dims;
  std::string s = fmt::format("plan {}: domain {}, rows {}, row axis {} ({} reduction pass{})\n", name,
                              ShapeToString(domain), ShapeToString(SymShape(domain.begin(), domain.begin() + row_rank)),
                              ShapeToString(SymShape(domain.begin() + row_rank, domain.end())), passes,
                              passes == 1 ? "" : "es");
  for (const PlanInput& in : inputs) {
    if (in.role != InputRole::kDomain) {
      s += fmt::format("  input {}: {} rank {} matmul operand {}\n", in.name, DTypeName(in.dtype), in.rank,
                       in.role == InputRole::kMatmulA ? "A [M, K]" : "B [K, N]");
      continue;
    }
    std::string b;
    for (bool x : in.broadcast) b += x ? "0" : "s";
    s += fmt::format("  input {}: {} rank {} strides [{}] {}\n", in.name, DTypeName(in.dtype), in.rank, b,
                     LevelName(in.level));
  }
  if (matmul >= 0)
    s += fmt::format("  matmul %{}: K = {}\n", matmul,
                     matmul_k.fixed ? std::to_string(matmul_k.size) : matmul_k.symbol);
  for (size_t i = 0; i < nodes.size(); ++i) {
    const KNode& n = nodes[i];
    std::string rhs;
    switch (n.kind) {
      case KNode::Kind::kInput: rhs = "input " + std::to_string(n.index); break;
      case KNode::Kind::kAttr: rhs = "attr " + (n.index < static_cast<int>(attrs.size()) ? attrs[n.index].name : "?"); break;
      case KNode::Kind::kConst: rhs = "const " + n.value.ToString(); break;
      case KNode::Kind::kRowLength: rhs = "row_length"; break;
      case KNode::Kind::kOp:
      case KNode::Kind::kMatmul:
      case KNode::Kind::kReduce: {
        std::vector<std::string> ops;
        for (int o : n.operands) ops.push_back("%" + std::to_string(o));
        rhs = fmt::format("{}{}({})", n.kind == KNode::Kind::kReduce ? "reduce_" : "", formula::Info(n.op).name,
                          fmt::join(ops, ", "));
        if (n.kind == KNode::Kind::kOp && n.operand_dtype != n.dtype)
          rhs += fmt::format(" in {}", DTypeName(n.operand_dtype));
        if (n.op == Op::kTo) rhs += fmt::format(" to {}", DTypeName(n.to_dtype));
        break;
      }
    }
    std::string when = n.kind == KNode::Kind::kReduce ? fmt::format(" pass {}", n.pass)
                       : n.level == Level::kRow && n.pass >= 0 ? fmt::format(" after pass {}", n.pass)
                                                               : "";
    s += fmt::format("  %{}: {} {} = {}{}\n", i, DTypeName(n.dtype), LevelName(n.level), rhs, when);
  }
  for (const PlanOutput& o : outputs)
    s += fmt::format("  {} = %{} ({}{})\n", o.name, o.node, o.per_element ? "per element" : "per row",
                     o.inplace >= 0 && o.inplace < static_cast<int>(inputs.size())
                         ? ", in place into " + inputs[o.inplace].name + ", its strides"
                         : "");
  return s;
}

Result<KernelPlan> LowerToPlan(const formula::Graph& graph, const std::string& name, const DumpFn& dump,
                               const InPlaceOutputs& inplace) {
  return Lowering(graph, name, inplace).Run(dump);
}

int NodeAppender::Add(KNode n) {
  nodes_->push_back(std::move(n));
  return static_cast<int>(nodes_->size()) - 1;
}

int NodeAppender::Const(double v) {
  KNode n;
  n.kind = KNode::Kind::kConst;
  n.value = ScalarValue::Float(v);
  n.dtype = n.operand_dtype = DType::kF64;
  n.level = Level::kScalar;
  return Add(std::move(n));
}

int NodeAppender::OpNode(formula::Op op, std::vector<int> operands, DType in, const std::string& origin,
                         DType result) {
  KNode n;
  n.kind = KNode::Kind::kOp;
  n.op = op;
  n.operands = std::move(operands);
  n.dtype = result;
  n.operand_dtype = in;
  n.origin = origin;
  return Add(std::move(n));
}

}  // namespace anvil::compiler
