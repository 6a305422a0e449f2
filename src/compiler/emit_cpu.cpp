// The CPU printer: a C++ candidate (include/anvil/kernel.h) with one function
// per dtype variant. Rows are shared out over OpenMP threads (an elementwise
// plan splits rows into blocks of `block` positions, so one long row still
// uses every thread); within a row each pass is one loop over the positions,
// with a guarded unit-stride version (`omp simd`, contiguous loads) beside the
// general strided one. Values: c_expr.h; math: include/anvil/fused_math.h.
// Two speed-ups of the unit-stride loops: a costly value that the next pass
// over a short row needs again is kept in a row buffer (PlanKeeps), and f16
// outputs are stored from float tiles by fm::StoreHalves (F16C).
// Contiguous outputs are written at r * L + j (row outputs at r); an in-place
// output (the input tensor itself, kernel_plan.h) through its own strides:
// a row base ob<o> and, in the strided loop, an offset oo<o>; the unit-stride
// loop serves it only when its last stride is 1 too. Each position is read
// before it is written, in the same iteration (lowering refused the rest).
// A plan with a matmul gets the blocked matmul of emit_cpu_matmul.cpp instead.
#include <algorithm>

#include <fmt/format.h>

#include "compiler/c_expr.h"
#include "compiler/emit.h"
#include "compiler/emit_cpu_matmul.h"

namespace anvil::compiler {
namespace {

std::string V(int id) { return VarName(id); }

// Names used in the printed code, per input i and domain dim d.
std::string Ptr(int i) { return "p" + std::to_string(i); }
std::string Stride(int i, int d) { return fmt::format("s{}_{}", i, d); }
std::string Size(int d) { return "n" + std::to_string(d); }
std::string Base(int i) { return "b" + std::to_string(i); }
std::string Off(int i) { return "o" + std::to_string(i); }
// In-place output o: its stride along domain dim d, row base and element offset.
std::string OutStride(size_t o, int d) { return fmt::format("t{}_{}", o, d); }
std::string OutBase(size_t o) { return "ob" + std::to_string(o); }
std::string OutOff(size_t o) { return "oo" + std::to_string(o); }

class CpuPrinter {
 public:
  CpuPrinter(const KernelPlan& plan, int variant, const KernelParams& params)
      : p_(plan), variant_(variant), params_(params) {}

  Result<std::string> Print() {
    const int n = p_.rank, k = p_.reduced_dims, row_rank = n - k;
    std::string s = fmt::format("// dtype variant {}: {}\nint Run{}(const AnvilCall* call) {{\n", variant_,
                                VariantLabel(), variant_);
    s += "  const DLTensor* in = call->inputs;\n  const DLTensor* out = call->outputs;\n";
    for (int d = 0; d < n; ++d) {
      const DimSource& src = p_.dim_source[d];
      s += src.fixed ? fmt::format("  const int64_t {} = {};\n", Size(d), src.size)
                     : fmt::format("  const int64_t {} = in[{}].shape[{}];  // {}\n", Size(d), src.input, src.dim,
                                   src.symbol);
    }
    for (size_t i = 0; i < p_.inputs.size(); ++i) {
      const PlanInput& in = p_.inputs[i];
      s += fmt::format("  const {}* {} = anvil::DataPtr<const {}>(in[{}]);  // {}\n", StorageType(in.dtype),
                       Ptr(i), StorageType(in.dtype), i, in.name);
      for (int d = 0; d < n; ++d)
        s += in.broadcast[d] ? fmt::format("  const int64_t {} = 0;\n", Stride(i, d))
                             : fmt::format("  const int64_t {} = in[{}].strides[{}];\n", Stride(i, d), i,
                                           d - (n - in.rank));
    }
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      const PlanOutput& po = p_.outputs[o];
      s += fmt::format("  {}* q{} = anvil::DataPtr<{}>(out[{}]);  // {}\n", StorageType(po.dtype), o,
                       StorageType(po.dtype), o, po.name);
      if (po.inplace < 0) continue;
      // Its own strides: the harness passes input `inplace` itself, transposed or strided as it is.
      s += fmt::format("  // {} is input {} itself (in place): written through its strides\n", po.name,
                       p_.inputs[po.inplace].name);
      for (int d = 0; d < (po.per_element ? n : row_rank); ++d)
        s += fmt::format("  const int64_t {} = out[{}].strides[{}];\n", OutStride(o, d), o, d);
    }
    s += fmt::format("  const int64_t rows = {};\n", Product(0, row_rank));
    s += fmt::format("  const int64_t L = {};\n", Product(row_rank, n));
    s += "  (void)in;\n  (void)L;\n";
    for (int id : p_.ScalarNodes()) {
      ANVIL_ASSIGN_OR_RETURN(std::string e, Value(id));
      s += fmt::format("  const {} {} = {};\n", ComputeType(p_.nodes[id].dtype), V(id), e);
    }
    // The unit-stride fast path: one row axis, every element-level input contiguous along it.
    std::vector<std::string> unit;
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      if (p_.inputs[i].level == Level::kElement) unit.push_back(Stride(static_cast<int>(i), n - 1) + " == 1");
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      if (InPlaceElement(o)) unit.push_back(OutStride(o, n - 1) + " == 1");
    s += fmt::format("  const bool unit = {};\n", k == 1 ? (unit.empty() ? "true" : fmt::format("{}", fmt::join(unit, " && "))) : "false");
    s += "  (void)unit;\n";
    const std::string threads = "anvil::NumThreads(call)";
    if (!p_.HasReductions()) {
      const int64_t block = params_.count("block") ? params_.at("block") : 8192;
      s += fmt::format("  const int64_t block = {};\n", block);
      s += "  const int64_t per_row = L > 0 ? (L + block - 1) / block : 1;  // row outputs need one block per row\n";
      s += fmt::format("#pragma omp parallel for num_threads({}) schedule(static) if (rows * L > 32768)\n", threads);
      s += "  for (int64_t t = 0; t < rows * per_row; ++t) {\n";
      s += "    const int64_t r = t / per_row;\n    const int64_t j0 = (t % per_row) * block;\n";
      s += "    const int64_t j1 = j0 + block < L ? j0 + block : L;\n";
      ANVIL_ASSIGN_OR_RETURN(std::string row, RowStart());
      s += row;
      std::vector<int> targets;
      for (const PlanOutput& o : p_.outputs)
        if (o.per_element) targets.push_back(o.node);
      ANVIL_ASSIGN_OR_RETURN(std::string loop, Loop("j0", "j1", targets, {}, /*store=*/true));
      s += loop;
      ANVIL_ASSIGN_OR_RETURN(std::string row_out, RowOutputs());
      if (!row_out.empty()) s += "    if (j0 == 0) {\n" + row_out + "    }\n";
      s += "  }\n";
    } else {
      const int64_t chunk = params_.count("chunk") ? params_.at("chunk") : 0;
      const Keeps keeps = PlanKeeps();
      if (keeps.any)
        s += fmt::format("  const bool keep = unit && L <= {};  // row buffers hold the row: reuse, don't recompute\n",
                         kRowKeep);
      s += fmt::format("#pragma omp parallel for num_threads({}) {} if (rows * L > 32768)\n", threads,
                       chunk > 0 ? fmt::format("schedule(dynamic, {})", chunk) : "schedule(static)");
      s += "  for (int64_t r = 0; r < rows; ++r) {\n";
      ANVIL_ASSIGN_OR_RETURN(std::string row, RowStart());
      s += row;
      for (const std::vector<int>& written : keeps.writes)
        for (int id : written) s += fmt::format("    {} {}[{}];\n", ComputeType(p_.nodes[id].dtype), KeepBuf(id), kRowKeep);
      for (int pass = 0; pass < p_.passes; ++pass) {
        const std::vector<int> reduces = p_.ReducesInPass(pass);
        for (int id : reduces) {
          s += fmt::format("    {} {} = {};\n", AccumulatorType(p_.nodes[id]), Acc(id), ReduceIdentity(p_.nodes[id]));
          if (TracksNan(id)) s += fmt::format("    int {} = 0;\n", NanFlag(id));
        }
        ANVIL_ASSIGN_OR_RETURN(std::string loop,
                               Loop("0", "L", {}, reduces, /*store=*/false, keeps.reads[pass], keeps.writes[pass]));
        s += loop;
        for (int id : reduces)
          if (TracksNan(id)) s += fmt::format("    if ({}) {} = NAN;  // amax/amin propagate NaN\n", NanFlag(id), Acc(id));
        for (int id : reduces)
          s += fmt::format("    const {} {} = static_cast<{}>({});\n", ComputeType(p_.nodes[id].dtype), V(id),
                           ComputeType(p_.nodes[id].dtype), Acc(id));
        for (int id : p_.RowNodesAfter(pass)) {
          ANVIL_ASSIGN_OR_RETURN(std::string e, Value(id));
          s += fmt::format("    const {} {} = {};\n", ComputeType(p_.nodes[id].dtype), V(id), e);
        }
      }
      const std::vector<int> targets = ElementOutputs();
      if (!targets.empty()) {
        ANVIL_ASSIGN_OR_RETURN(std::string loop, Loop("0", "L", targets, {}, /*store=*/true, keeps.reads[p_.passes], {}));
        s += loop;
      }
      ANVIL_ASSIGN_OR_RETURN(std::string row_out, RowOutputs());
      s += row_out;
      s += "  }\n";
    }
    s += "  return ANVIL_OK;\n}\n";
    return s;
  }

  std::string VariantLabel() const {
    std::vector<std::string> parts;
    for (const PlanInput& in : p_.inputs) parts.push_back(fmt::format("{}: {}", in.name, DTypeName(in.dtype)));
    return fmt::format("{}", fmt::join(parts, ", "));
  }

 private:
  static std::string Acc(int id) { return "acc" + std::to_string(id); }
  bool InPlaceElement(size_t o) const { return p_.outputs[o].inplace >= 0 && p_.outputs[o].per_element; }
  // Where element j of row r of output o is stored, in the unit-stride or the strided loop.
  std::string ElementIndex(size_t o, bool unit) const {
    if (p_.outputs[o].inplace < 0) return "r * L + j";
    return unit ? OutBase(o) + " + j" : OutBase(o) + " + " + OutOff(o);
  }
  static std::string KeepBuf(int id) { return "keep" + std::to_string(id); }

  std::vector<int> ElementOutputs() const {
    std::vector<int> targets;
    for (const PlanOutput& o : p_.outputs)
      if (o.per_element) targets.push_back(o.node);
    return targets;
  }

  // f16 outputs of unit-stride loops are staged in float tiles of kStageTile (see Loop).
  static constexpr int kStageTile = 512;
  static std::string Stage(size_t o) { return "stage" + std::to_string(o); }
  bool HasElementOutput(DType t) const {
    for (const PlanOutput& o : p_.outputs)
      if (o.per_element && o.dtype == t) return true;
    return false;
  }

  // Row buffers. The passes over a row recompute the element values they
  // need; where a value is costly (a math-library call: exp, tanh, log, ...;
  // or an f16 input, whose conversion to float takes a dozen operations) and
  // the next loop over the row needs it again (softmax: the exponentials of
  // the sum pass are the output pass's numerators), the loop that computes it
  // first also writes it to a per-row buffer, and the next loop reads it back
  // (the same bits). Only for unit-stride rows of at most kRowKeep positions,
  // so that the buffers stay in L1/L2; other rows recompute.
  static constexpr int kRowKeep = 8192;
  struct Keeps {
    bool any = false;
    std::vector<std::vector<int>> reads, writes;  // per loop: the reduction passes, then the output loop
  };

  bool Costly(int id) const {
    using formula::Op;
    const KNode& n = p_.nodes[id];
    if (n.kind == KNode::Kind::kInput) return p_.inputs[n.index].dtype == DType::kF16;
    if (n.kind != KNode::Kind::kOp) return false;
    switch (n.op) {
      case Op::kExp: case Op::kExp2: case Op::kExpm1: case Op::kLog: case Op::kLog2: case Op::kLog10:
      case Op::kLog1p: case Op::kSqrt: case Op::kRsqrt: case Op::kSin: case Op::kCos: case Op::kTan:
      case Op::kAsin: case Op::kAcos: case Op::kAtan: case Op::kSinh: case Op::kCosh: case Op::kTanh:
      case Op::kAsinh: case Op::kAcosh: case Op::kAtanh: case Op::kSigmoid: case Op::kGelu: case Op::kSilu:
      case Op::kMish: case Op::kSoftplus: case Op::kElu: case Op::kErf: case Op::kErfc: case Op::kPow:
      case Op::kAtan2:
        return true;
      default:
        return false;
    }
  }

  // Element nodes needed for `targets` (topological order), where the values of
  // `kept` come from row buffers: their operands are not needed for them.
  std::vector<int> NodesFor(const std::vector<int>& targets, const std::vector<int>& kept) const {
    std::vector<bool> need(p_.nodes.size(), false), leaf(p_.nodes.size(), false);
    for (int id : kept) leaf[id] = true;
    for (int t : targets)
      if (p_.nodes[t].level == Level::kElement) need[t] = true;
    for (int i = static_cast<int>(p_.nodes.size()) - 1; i >= 0; --i) {
      if (!need[i] || leaf[i] || p_.nodes[i].kind != KNode::Kind::kOp) continue;
      for (int o : p_.nodes[i].operands)
        if (p_.nodes[o].level == Level::kElement) need[o] = true;
    }
    std::vector<int> out;
    for (size_t i = 0; i < p_.nodes.size(); ++i)
      if (need[i]) out.push_back(static_cast<int>(i));
    return out;
  }

  // Which costly values each loop of a row writes to a buffer and which it reads.
  Keeps PlanKeeps() const {
    std::vector<std::vector<int>> targets;
    for (int pass = 0; pass < p_.passes; ++pass) {
      targets.emplace_back();
      for (int id : p_.ReducesInPass(pass)) targets.back().push_back(p_.nodes[id].operands[0]);
    }
    targets.push_back(ElementOutputs());
    Keeps k;
    k.reads.resize(targets.size());
    k.writes.resize(targets.size());
    if (p_.reduced_dims != 1) return k;
    std::vector<int> kept;
    std::vector<int> previous = NodesFor(targets[0], kept);
    auto has = [](const std::vector<int>& v, int id) { return std::find(v.begin(), v.end(), id) != v.end(); };
    for (size_t loop = 1; loop < targets.size(); ++loop) {
      // Costly values this loop needs that the previous loop computed; then what this loop
      // needs when those are read back (a kept value hides its own operands, kept or not).
      std::vector<int> candidates = kept;
      for (int id : NodesFor(targets[loop], kept))
        if (Costly(id) && has(previous, id) && !has(kept, id))
          candidates.push_back(id);
      const std::vector<int> body = NodesFor(targets[loop], candidates);
      for (int id : body)
        if (has(candidates, id) && !has(kept, id)) {
          k.writes[loop - 1].push_back(id);
          kept.push_back(id);
          k.any = true;
        }
      for (int id : body)
        if (has(kept, id)) k.reads[loop].push_back(id);
      previous = body;
    }
    return k;
  }

  static std::string NanFlag(int id) { return "nan" + std::to_string(id); }
  // A floating max or min: reduced without NaN (vectorisable), NaN tracked beside it.
  bool TracksNan(int id) const {
    const KNode& n = p_.nodes[id];
    return (n.op == formula::Op::kAmax || n.op == formula::Op::kAmin) && IsFloating(n.operand_dtype);
  }

  std::string Product(int from, int to) const {
    std::string s;
    for (int d = from; d < to; ++d) s += (s.empty() ? "" : " * ") + Size(d);
    return s.empty() ? "int64_t(1)" : s;
  }

  // The value of a node that is not an element of an input (leaves other
  // than element inputs, and ops): its expression over operand variables.
  Result<std::string> Value(int id) const {
    const KNode& n = p_.nodes[id];
    switch (n.kind) {
      case KNode::Kind::kRowLength: return fmt::format("static_cast<{}>(L)", ComputeType(n.dtype));
      case KNode::Kind::kInput:  // a row-level input: its element at the row's base
        return LoadAs(p_.inputs[n.index].dtype, fmt::format("{}[{}]", Ptr(n.index), Base(n.index)));
      case KNode::Kind::kReduce: return V(id);
      default: return ConstAttrOrOpValue(p_, id);
    }
  }

  // Row coordinates -> each input's base offset, then the row values known at row start.
  Result<std::string> RowStart() const {
    const int n = p_.rank, row_rank = n - p_.reduced_dims;
    std::string s = "    int64_t rem = r;\n    (void)rem;\n";
    for (size_t i = 0; i < p_.inputs.size(); ++i) s += fmt::format("    int64_t {} = 0;\n", Base(i));
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      if (p_.outputs[o].inplace >= 0) s += fmt::format("    int64_t {} = 0;\n", OutBase(o));
    for (int d = row_rank - 1; d >= 0; --d) {
      s += fmt::format("    {{ const int64_t c = rem % {0}; rem /= {0};", Size(d));
      for (size_t i = 0; i < p_.inputs.size(); ++i) s += fmt::format(" {} += c * {};", Base(i), Stride(i, d));
      for (size_t o = 0; o < p_.outputs.size(); ++o)
        if (p_.outputs[o].inplace >= 0) s += fmt::format(" {} += c * {};", OutBase(o), OutStride(o, d));
      s += " (void)c; }\n";
    }
    for (int id : p_.RowNodesAfter(-1)) {
      ANVIL_ASSIGN_OR_RETURN(std::string e, Value(id));
      s += fmt::format("    const {} {} = {};\n", ComputeType(p_.nodes[id].dtype), V(id), e);
    }
    return s;
  }

  // One loop over positions [from, to) of the row: the element nodes that
  // `stores` (element outputs) and `reduces` need; a unit-stride copy and a
  // strided one, and first, where this loop `reads` or `writes` row buffers,
  // a unit-stride copy that uses them (under `keep`).
  Result<std::string> Loop(const std::string& from, const std::string& to, const std::vector<int>& stores,
                           const std::vector<int>& reduces, bool store, const std::vector<int>& reads = {},
                           const std::vector<int>& writes = {}) const {
    std::vector<int> targets = stores;
    for (int id : reduces) targets.push_back(p_.nodes[id].operands[0]);
    const bool keeps = !reads.empty() || !writes.empty();
    std::string out;
    for (int variant : {0, 1, 2}) {  // kept, unit stride, any strides
      const bool kept = variant == 0, unit = variant < 2;
      if ((kept && !keeps) || (unit && p_.reduced_dims != 1)) continue;
      const std::vector<int> body_nodes = kept ? NodesFor(targets, reads) : p_.ElementNodesFor(targets);
      std::string body;
      if (!unit) body += Offsets(store);
      for (int id : body_nodes) {
        const KNode& n = p_.nodes[id];
        std::string e;
        if (kept && std::find(reads.begin(), reads.end(), id) != reads.end()) {
          e = fmt::format("{}[j]", KeepBuf(id));
        } else if (n.kind == KNode::Kind::kInput) {
          const std::string index = unit ? fmt::format("{} + j", Base(n.index)) : fmt::format("{} + {}", Base(n.index), Off(n.index));
          e = LoadAs(p_.inputs[n.index].dtype, fmt::format("{}[{}]", Ptr(n.index), index));
        } else {
          ANVIL_ASSIGN_OR_RETURN(e, Value(id));
        }
        body += fmt::format("      const {} {} = {};\n", ComputeType(n.dtype), V(id), e);
        if (kept && std::find(writes.begin(), writes.end(), id) != writes.end())
          body += fmt::format("      {}[j] = {};\n", KeepBuf(id), V(id));
      }
      for (int id : reduces) {
        const KNode& n = p_.nodes[id];
        const std::string v = fmt::format("static_cast<{}>({})", AccumulatorType(n), V(n.operands[0]));
        if (TracksNan(id)) {
          // max/min ignoring NaN (an OpenMP max/min reduction), and a flag that NaN was seen
          // (an int or-reduction: GCC does not vectorise a loop with a bool `||` reduction).
          body += fmt::format("      {0} = {1} {2} {0} ? {1} : {0};\n", Acc(id), v, n.op == formula::Op::kAmax ? ">" : "<");
          body += fmt::format("      {0} = {0} | ({1} != {1});\n", NanFlag(id), v);
        } else {
          body += fmt::format("      {0} = {1};\n", Acc(id), ReduceUpdate(n, Acc(id), v));
        }
      }
      // f16 outputs of a unit-stride loop go to float tiles, stored after each tile by
      // fm::StoreHalves (8 at a time with F16C, which GCC does not use on its own).
      const bool staged = store && unit && HasElementOutput(DType::kF16);
      if (store)
        for (size_t o = 0; o < p_.outputs.size(); ++o)
          if (p_.outputs[o].per_element) {
            const std::string value = CastTo(p_.outputs[o].node, p_.outputs[o].dtype);
            body += staged && p_.outputs[o].dtype == DType::kF16
                        ? fmt::format("      {}[j - jt] = {};\n", Stage(o), value)
                        : fmt::format("      q{}[{}] = {};\n", o, ElementIndex(o, unit),
                                      StoreAs(p_.outputs[o].dtype, value));
          }
      // Every accumulator is a declared simd reduction (a carried value that is not one
      // would be undefined under `omp simd`); a reduction without a clause (a product,
      // an integer max) keeps the loop scalar.
      std::vector<std::string> clauses;
      bool simd = unit;
      for (int id : reduces) {
        const formula::Op op = p_.nodes[id].op;
        if (op == formula::Op::kSum) {
          clauses.push_back(fmt::format("reduction(+ : {})", Acc(id)));
        } else if (TracksNan(id)) {
          clauses.push_back(fmt::format("reduction({} : {}) reduction(| : {})", op == formula::Op::kAmax ? "max" : "min",
                                        Acc(id), NanFlag(id)));
        } else {
          simd = false;
        }
      }
      std::string pragma = simd ? fmt::format("#pragma omp simd {}\n", fmt::join(clauses, " ")) : "";
      std::string loop = fmt::format("{}    for (int64_t j = {}; j < {}; ++j) {{\n{}    }}\n", pragma, staged ? "jt" : from,
                                     staged ? "jt1" : to, body);
      if (staged) {
        std::string tile = fmt::format("    for (int64_t jt = {0}; jt < {1}; jt += {2}) {{\n"
                                       "      const int64_t jt1 = jt + {2} < {1} ? jt + {2} : {1};\n", from, to, kStageTile);
        for (size_t o = 0; o < p_.outputs.size(); ++o)
          if (p_.outputs[o].per_element && p_.outputs[o].dtype == DType::kF16)
            tile += fmt::format("      float {}[{}];\n", Stage(o), kStageTile);
        tile += Indent(loop);
        for (size_t o = 0; o < p_.outputs.size(); ++o)
          if (p_.outputs[o].per_element && p_.outputs[o].dtype == DType::kF16)
            tile += fmt::format("      anvil::fm::StoreHalves({}, jt1 - jt, q{} + {});\n", Stage(o), o,
                                p_.outputs[o].inplace >= 0 ? OutBase(o) + " + jt" : std::string("r * L + jt"));
        loop = tile + "    }\n";
      }
      if (p_.reduced_dims != 1)
        out += loop;
      else if (kept)
        out += "    if (keep) {\n" + Indent(loop) + "    } else ";
      else
        out += unit ? (keeps ? "" : "    ") + std::string("if (unit) {\n") + Indent(loop) + "    } else {\n"
                    : Indent(loop) + "    }\n";
    }
    return out;
  }

  // The value of `node` converted to the compute type of `to` (an output's dtype).
  std::string CastTo(int node, DType to) const {
    if (ComputeType(p_.nodes[node].dtype) == ComputeType(to)) return V(node);
    return fmt::format("static_cast<{}>({})", ComputeType(to), V(node));
  }

  // Offsets of element j in each element-level input (and, in a loop that
  // stores, in each in-place element output), for any strides.
  std::string Offsets(bool store) const {
    const int n = p_.rank, row_rank = n - p_.reduced_dims;
    std::string s = "      int64_t jr = j;\n      (void)jr;\n";
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      if (p_.inputs[i].level == Level::kElement) s += fmt::format("      int64_t {} = 0;\n", Off(i));
    if (store)
      for (size_t o = 0; o < p_.outputs.size(); ++o)
        if (InPlaceElement(o)) s += fmt::format("      int64_t {} = 0;\n", OutOff(o));
    for (int d = n - 1; d >= row_rank; --d) {
      s += fmt::format("      {{ const int64_t c = jr % {0}; jr /= {0};", Size(d));
      for (size_t i = 0; i < p_.inputs.size(); ++i)
        if (p_.inputs[i].level == Level::kElement) s += fmt::format(" {} += c * {};", Off(i), Stride(i, d));
      if (store)
        for (size_t o = 0; o < p_.outputs.size(); ++o)
          if (InPlaceElement(o)) s += fmt::format(" {} += c * {};", OutOff(o), OutStride(o, d));
      s += " (void)c; }\n";
    }
    return s;
  }

  Result<std::string> RowOutputs() const {
    std::string s;
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      if (!p_.outputs[o].per_element)
        s += fmt::format("    q{}[{}] = {};\n", o, p_.outputs[o].inplace >= 0 ? OutBase(o) : std::string("r"),
                         StoreAs(p_.outputs[o].dtype, CastTo(p_.outputs[o].node, p_.outputs[o].dtype)));
    return s;
  }

  static std::string Indent(const std::string& text) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      out += "  " + text.substr(start, end - start) + "\n";
      start = end + 1;
    }
    return out;
  }

  const KernelPlan& p_;
  int variant_;
  const KernelParams& params_;
};

std::string DTypeCheck(const std::string& tensor, DType t) {
  const DLTypeCode c = ToDLType(t);
  return fmt::format("anvil::IsType({}, {}, {})", tensor, c.code, c.bits);
}

}  // namespace

std::vector<KernelParams> CpuSpace(const std::vector<KernelPlan>& variants) {
  if (!variants.empty() && variants[0].HasMatmul()) return CpuMatmulSpace();
  if (!variants.empty() && variants[0].HasReductions()) return {{{"chunk", 0}}, {{"chunk", 4}}};
  return {{{"block", 8192}}, {{"block", 2048}}, {{"block", 32768}}};
}

Result<std::string> EmitCpu(const std::vector<KernelPlan>& variants, const KernelParams& params) {
  if (variants.empty()) return InvalidInput("no plan to print");
  const KernelPlan& first = variants[0];
  const bool matmul = first.HasMatmul();
  std::string s = fmt::format(
      "// GCC keeps a floating operation under a condition as a branch unless traps are\n"
      "// off, and no loop with a branch vectorises: -fno-trapping-math changes no result\n"
      "// (nothing here reads floating-point exception flags).{}\n"
      "#pragma GCC optimize(\"no-trapping-math\", \"{}\")\n\n"
      "#include <math.h>\n#include <stdint.h>\n\n{}#include \"anvil/fused_math.h\"\n\nnamespace {{\n\n"
      "// An attribute's value as a double (the harness passes every task attribute).\n"
      "double AttrValue(const AnvilCall* call, const char* name) {{\n"
      "  const AnvilAttr* a = anvil::FindAttr(call, name);\n"
      "  if (a == nullptr) return NAN;\n"
      "  return a->dtype.code == kDLFloat ? a->value.f : static_cast<double>(a->value.i);\n}}\n\n",
      matmul ? " The matmul's products and sums contract into FMAs\n// (one pass: nothing is recomputed)."
             : " Products are never\n// contracted into FMAs, so every pass over a row recomputes the same bits (a\n"
               "// row's max minus itself is exactly 0 in every pass).",
      matmul ? "fp-contract=fast" : "fp-contract=off", matmul ? "#include <algorithm>\n#include <vector>\n\n" : "");
  for (size_t v = 0; v < variants.size(); ++v) {
    std::string fn;
    if (matmul) {
      ANVIL_ASSIGN_OR_RETURN(fn, PrintCpuMatmulVariant(variants[v], static_cast<int>(v), params));
    } else {
      ANVIL_ASSIGN_OR_RETURN(fn, CpuPrinter(variants[v], static_cast<int>(v), params).Print());
    }
    s += fn + "\n";
  }
  s += "}  // namespace\n\n";
  s += "extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {\n";
  s += fmt::format("  if (call->num_inputs != {} || call->num_outputs != {}) {{\n", first.inputs.size(),
                   first.outputs.size());
  s += fmt::format("    anvil::SetError(call, \"{} expects {} inputs and {} outputs, got %d and %d\", "
                   "call->num_inputs, call->num_outputs);\n    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }}\n",
                   first.name, first.inputs.size(), first.outputs.size());
  for (const formula::AttrDecl& a : first.attrs)
    s += fmt::format("  if (anvil::FindAttr(call, \"{0}\") == nullptr) {{\n    anvil::SetError(call, \"{1}: missing "
                     "attribute {0}\");\n    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }}\n",
                     a.name, first.name);
  for (size_t v = 0; v < variants.size(); ++v) {
    std::vector<std::string> checks;
    for (size_t i = 0; i < variants[v].inputs.size(); ++i)
      checks.push_back(DTypeCheck(fmt::format("call->inputs[{}]", i), variants[v].inputs[i].dtype));
    for (size_t o = 0; o < variants[v].outputs.size(); ++o)
      checks.push_back(DTypeCheck(fmt::format("call->outputs[{}]", o), variants[v].outputs[o].dtype));
    s += fmt::format("  if ({}) return Run{}(call);\n", fmt::join(checks, " && "), v);
  }
  s += fmt::format("  anvil::SetError(call, \"{}: no generated variant for these dtypes\");\n", first.name);
  s += "  return ANVIL_ERROR_UNSUPPORTED;\n}\n";
  return s;
}

}  // namespace anvil::compiler
