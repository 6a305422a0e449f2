// The CUDA printer of the built-in compiler: KernelPlans (one per dtype
// variant) -> one .cu file in the candidate ABI (include/anvil/kernel.h),
// built by backend/cuda like any hand-written candidate.
//
// What the printed file does, per variant (a namespace v<i>):
//   - an Args struct passed by value: typed data pointers, the domain's
//     sizes, per input and domain dim the element stride (0 where the plan
//     says the input broadcasts), rows, row length, and the values of the
//     scalar nodes, which the host computes once per call (Python number
//     semantics, as the formula IR says);
//   - an elementwise plan (passes == 0) is one grid-stride loop over the
//     flat (row, position) index, kItems (the "items" parameter) coalesced
//     elements per thread and iteration: all their inputs are loaded into
//     registers first, so that many loads are in flight, then each is
//     computed and stored. When every input is dense in the domain (the
//     common contiguous case) its offset is the flat index itself (`kDense`;
//     no division unless a row index is needed); otherwise the index is
//     unravelled into coordinates and dotted with the strides (int64);
//   - a row plan (passes > 0) runs one block per row (grid-stride over rows).
//     A row of at most blockDim.x * kRowItems positions (chosen at launch)
//     is loaded once into per-thread registers and every pass reads those;
//     a longer row is re-read by each pass in tiles of kItems positions per
//     thread. Each pass folds its reductions into per-thread accumulators
//     (double for floating sums), then a block reduction (warp shuffles, one
//     value per warp in shared memory) combines with the same update
//     expression as the fold, so NaN rules hold; every thread then has the
//     row value and computes the row nodes of that stage. A last loop writes
//     element outputs; thread 0 writes row outputs at r. Empty rows (L = 0)
//     still write their row outputs (the reductions' identities).
//   - outputs are contiguous (flat index r * L + j, or r), except in-place
//     ones (the input tensor itself, kernel_plan.h): Args carries their
//     strides (out_stride) and they are stored through them; the elementwise
//     kernel's kDense path needs them dense like the inputs. Every position is
//     read before it is written and never after: elementwise, by the thread
//     that writes it; in a row plan, by the row's block, whose passes end with
//     a block barrier before the output loop.
// anvil_kernel checks the counts of inputs and outputs, picks the variant
// whose input dtypes match (else ANVIL_ERROR_UNSUPPORTED naming the dtypes it
// got and those it serves), checks ranks, sizes and output dtypes, and
// launches on the call's stream.
//
// Values are printed through c_expr.h (the same text as the CPU printer), so
// both backends agree on every op's semantics. A plan this printer cannot
// make correct is kUnsupported with the reason; a plan that breaks the
// KernelPlan contract (a value used before it is computed) is kInternal.
// Thread-safety: pure functions.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/c_expr.h"
#include "compiler/emit.h"
#include "compiler/kernel_plan.h"

namespace anvil::compiler {
namespace {

constexpr int64_t kDefaultThreads = 256;
constexpr int64_t kDefaultItems = 4;
// Grid cap of the elementwise loop: past it each thread takes several elements.
constexpr int64_t kMaxElementwiseBlocks = 1 << 20;

std::string N(int64_t v) { return std::to_string(v); }

// The shortest decimal text that reads back as `v` (a C++ double literal).
std::string DoubleText(double v) {
  if (std::isnan(v)) return "NAN";
  if (std::isinf(v)) return v > 0 ? "INFINITY" : "(-INFINITY)";
  char buf[64];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

// A kConst node's value as an expression of ComputeType(n.dtype).
std::string Literal(const KNode& n) {
  const ScalarValue& v = n.value;
  std::string text;
  if (IsFloating(v.dtype)) {
    text = DoubleText(v.f);
  } else if (v.dtype == DType::kBool) {
    text = v.i != 0 ? "true" : "false";
  } else if (v.i == INT64_MIN) {
    text = "(-9223372036854775807LL - 1)";
  } else {
    text = N(v.i) + "LL";
  }
  return "static_cast<" + ComputeType(n.dtype) + ">(" + text + ")";
}

// A C string literal for the printed file. Messages are SetError formats:
// their %d/%s/%lld are meant, and the names spliced in are identifiers.
std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// "x: f32, y: f16"
std::string InputDTypes(const KernelPlan& p) {
  std::string s;
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    if (i) s += ", ";
    s += p.inputs[i].name + ": " + std::string(DTypeName(p.inputs[i].dtype));
  }
  return s;
}

std::string DLCheck(const std::string& tensor, DType t) {
  const DLTypeCode c = ToDLType(t);
  return "anvil::IsType(" + tensor + ", " + N(c.code) + ", " + N(c.bits) + ")";
}

// Prints the namespace of one variant: Args, combine functors, the kernel and Run().
class VariantPrinter {
 public:
  VariantPrinter(const KernelPlan& plan, int index)
      : p_(plan), index_(index), ready_(plan.nodes.size(), false), preloaded_(plan.nodes.size(), false) {}

  Result<std::string> Print() {
    n_ = p_.rank;
    k_ = p_.reduced_dims;
    if (n_ < 0 || k_ < 0 || k_ > n_ || static_cast<int>(p_.dim_source.size()) != n_)
      return Bad("the domain has rank " + N(n_) + ", " + N(k_) + " reduced dims and " +
                 N(static_cast<int64_t>(p_.dim_source.size())) + " dim sources");
    for (const PlanInput& in : p_.inputs)
      if (in.rank > n_ || static_cast<int>(in.broadcast.size()) != n_)
        return Bad("input " + in.name + " has rank " + N(in.rank) + " and " +
                   N(static_cast<int64_t>(in.broadcast.size())) + " broadcast flags in a rank-" + N(n_) +
                   " domain");
    for (const KNode& node : p_.nodes) {
      if (node.kind == KNode::Kind::kInput && (node.index < 0 || node.index >= static_cast<int>(p_.inputs.size())))
        return Bad("node %" + N(&node - p_.nodes.data()) + " reads the unknown input #" + N(node.index));
      if (node.kind == KNode::Kind::kInput && node.level == Level::kScalar)
        return Unsupported("CUDA printer, plan " + p_.name + ": input " + InputName(node.index) +
                           " is used as a per-call scalar; the host cannot read device memory to compute it");
      if (node.kind == KNode::Kind::kReduce && (node.pass < 0 || node.pass >= p_.passes))
        return Bad("reduction %" + N(&node - p_.nodes.data()) + " is in pass " + N(node.pass) + " of " +
                   N(p_.passes));
    }
    for (const PlanOutput& o : p_.outputs) {
      if (o.node < 0 || o.node >= static_cast<int>(p_.nodes.size())) return Bad("output " + o.name + " has no node");
      if (!o.per_element && p_.nodes[o.node].level == Level::kElement)
        return Bad("row output " + o.name + " is an element-level node");
    }

    FindUsedScalars();
    out_ << "namespace v" << index_ << " {  // " << InputDTypes(p_) << "\n\n";
    PrintArgs();
    ANVIL_RETURN_IF_ERROR(PrintCombines());
    if (p_.HasReductions()) {
      const std::vector<bool> start = ready_;
      ANVIL_RETURN_IF_ERROR(PrintRowKernel(/*regs=*/true));
      ready_ = start;
      ANVIL_RETURN_IF_ERROR(PrintRowKernel(/*regs=*/false));
      ready_ = start;
    } else {
      ANVIL_RETURN_IF_ERROR(PrintElementwiseKernel());
    }
    ANVIL_RETURN_IF_ERROR(PrintRun());
    out_ << "}  // namespace v" << index_ << "\n\n";
    return out_.str();
  }

 private:
  Status Bad(const std::string& what) const {
    return InternalError("CUDA printer, plan " + p_.name + ": " + what + " (the plan breaks kernel_plan.h's contract)");
  }
  std::string InputName(int i) const {
    return i >= 0 && i < static_cast<int>(p_.inputs.size()) ? p_.inputs[i].name : "#" + N(i);
  }
  // The kernel's name, which profilers show: the plan's.
  std::string Kernel() const { return p_.name + "_kernel"; }
  std::string RegsKernel() const { return p_.name + "_regs_kernel"; }
  // True when some load of input i is per element (else it is read once per row).
  bool ReadPerElement(int i) const {
    for (const KNode& node : p_.nodes)
      if (node.kind == KNode::Kind::kInput && node.index == i && node.level == Level::kElement) return true;
    return false;
  }
  std::string Origin(int id) const {
    const std::string& o = p_.nodes[id].origin;
    return o.empty() ? "" : "  // " + o;
  }

  // Which scalar nodes the kernel reads (device_) and which the host must
  // compute for them (host_): only those are printed, so that nvcc has no
  // unused variables to warn about in the candidate's build log.
  void FindUsedScalars() {
    const size_t count = p_.nodes.size();
    device_.assign(count, false);
    host_.assign(count, false);
    for (const KNode& node : p_.nodes)
      if (node.level != Level::kScalar)
        for (int op : node.operands)
          if (op >= 0 && op < static_cast<int>(count) && p_.nodes[op].level == Level::kScalar) device_[op] = true;
    for (size_t id = 0; id < count; ++id)
      if (device_[id] && p_.nodes[id].kind != KNode::Kind::kConst) host_[id] = true;
    for (size_t id = count; id-- > 0;)
      if (host_[id])
        for (int op : p_.nodes[id].operands)
          if (op >= 0 && op < static_cast<int>(id)) host_[op] = true;
  }
  // Scalars passed in Args: computed on the host, read by the kernel.
  bool Passed(int id) const { return device_[id] && p_.nodes[id].kind != KNode::Kind::kConst; }

  // ---- Args ----------------------------------------------------------------

  void PrintArgs() {
    const int dims = n_ > 0 ? n_ : 1;  // no zero-length arrays for a rank-0 domain
    out_ << "struct Args {\n";
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      out_ << "  const " << StorageType(p_.inputs[i].dtype) << "* in" << i << ";  // " << p_.inputs[i].name << "\n";
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      out_ << "  " << StorageType(p_.outputs[o].dtype) << "* out" << o << ";  // " << p_.outputs[o].name << "\n";
    out_ << "  int64_t size[" << dims << "];  // the domain\n";
    out_ << "  int64_t stride[" << std::max<size_t>(p_.inputs.size(), 1) << "][" << dims
         << "];  // [input][domain dim], in elements; 0 where the input broadcasts\n";
    if (p_.HasInPlaceOutputs())
      out_ << "  int64_t out_stride[" << p_.outputs.size() << "][" << dims
           << "];  // [output][domain dim] of in-place outputs (their input's strides)\n";
    out_ << "  int64_t rows, row_length, iter_length;\n";
    for (int id : p_.ScalarNodes()) {
      if (!Passed(id)) continue;  // literals are printed in the kernel
      out_ << "  " << ComputeType(p_.nodes[id].dtype) << " s" << id << ";" << Origin(id) << "\n";
    }
    out_ << "};\n\n";
  }

  // One functor per reduction: the fold `acc = f(acc, v)` of c_expr.h, used
  // per thread and to combine partial results across threads.
  Status PrintCombines() {
    for (size_t id = 0; id < p_.nodes.size(); ++id) {
      const KNode& node = p_.nodes[id];
      if (node.kind != KNode::Kind::kReduce) continue;
      const std::string acc = AccumulatorType(node);
      out_ << "struct Combine" << id << " {" << Origin(static_cast<int>(id)) << "\n"
           << "  __device__ __forceinline__ " << acc << " operator()(" << acc << " acc, " << acc
           << " v) const { return " << ReduceUpdate(node, "acc", "v") << "; }\n"
           << "};\n";
    }
    out_ << "\n";
    return Status::Ok();
  }

  // ---- values ----------------------------------------------------------------

  // Which offsets element-level loads use: `eo<i>` declared at the top of the
  // loop, or `e` (the flat index) in the dense elementwise path.
  enum class Where { kHost, kDevice };

  // Declares node `id` as `v<id>` (kOp, kInput, kAttr, kConst, kRowLength).
  Status PrintValue(int id, const std::string& indent, Where where) {
    const KNode& node = p_.nodes[id];
    const bool from_args = where == Where::kDevice && Passed(id);
    for (int op : node.operands) {
      if (op < 0 || op >= id) return Bad("node %" + N(id) + " has operand %" + N(op) + " out of order");
      if (!from_args && !ready_[op]) return Bad("node %" + N(id) + " uses %" + N(op) + " before it is computed");
    }
    std::string expr;
    switch (node.kind) {
      case KNode::Kind::kInput: {
        if (node.index < 0 || node.index >= static_cast<int>(p_.inputs.size())) return Bad("unknown input");
        if (preloaded_[id]) {  // loaded into ld<id>[u] by the tile's load loop
          expr = "ld" + N(id) + "[u]";
          break;
        }
        const std::string off = node.level == Level::kElement ? "eo" + N(node.index) : "rb" + N(node.index);
        expr = LoadAs(node.dtype, "a.in" + N(node.index) + "[" + off + "]");
        break;
      }
      case KNode::Kind::kAttr: {
        if (from_args) {
          expr = "a.s" + N(id);
          break;
        }
        if (node.index < 0 || node.index >= static_cast<int>(p_.attrs.size())) return Bad("unknown attribute");
        const std::string ct = ComputeType(node.dtype);
        const std::string var = "attr_" + N(id);
        out_ << indent << "const AnvilAttr* " << var << " = anvil::FindAttr(call, "
             << Quoted(p_.attrs[node.index].name) << ");\n"
             << indent << "if (" << var << " == nullptr) {\n"
             << indent << "  anvil::SetError(call, " << Quoted(p_.name + ": the call has no attribute '" +
                                                               p_.attrs[node.index].name + "'")
             << ");\n"
             << indent << "  return ANVIL_ERROR_INVALID_ARGUMENT;\n"
             << indent << "}\n";
        expr = var + "->dtype.code == kDLFloat ? static_cast<" + ct + ">(" + var + "->value.f) : static_cast<" + ct +
               ">(" + var + "->value.i)";
        break;
      }
      case KNode::Kind::kConst:
        expr = Literal(node);
        break;
      case KNode::Kind::kRowLength:
        expr = from_args ? "a.s" + N(id) : "static_cast<" + ComputeType(node.dtype) + ">(row_length)";
        break;
      case KNode::Kind::kOp: {
        if (from_args) {
          expr = "a.s" + N(id);
          break;
        }
        std::vector<std::string> args;
        std::vector<DType> arg_dtypes;
        for (int op : node.operands) {
          args.push_back("v" + N(op));
          arg_dtypes.push_back(p_.nodes[op].dtype);
        }
        auto e = OpExpression(node, args, arg_dtypes);
        if (!e.ok())
          return e.status().Context("CUDA printer, plan " + p_.name + ", node %" + N(id) +
                                    (node.origin.empty() ? "" : " (" + node.origin + ")"));
        expr = *e;
        break;
      }
      case KNode::Kind::kReduce:
        return Bad("reduction %" + N(id) + " listed as an elementwise value");
    }
    out_ << indent << "const " << ComputeType(node.dtype) << " v" << id << " = " << expr << ";" << Origin(id) << "\n";
    ready_[id] = true;
    return Status::Ok();
  }

  // Kernel prologue: every scalar node as v<id> (literals inline, the rest from Args).
  Status PrintDeviceScalars(const std::string& indent) {
    for (int id : p_.ScalarNodes())
      if (device_[id]) ANVIL_RETURN_IF_ERROR(PrintValue(id, indent, Where::kDevice));
    return Status::Ok();
  }

  // Element inputs read by `nodes` (to declare only the offsets a loop needs).
  std::set<int> ElementInputsOf(const std::vector<int>& nodes) const {
    std::set<int> used;
    for (int id : nodes)
      if (p_.nodes[id].kind == KNode::Kind::kInput && p_.nodes[id].level == Level::kElement)
        used.insert(p_.nodes[id].index);
    return used;
  }

  // Adds `var<i> += coordinate * <strides>[i][d]` for dims [first, last) of
  // index `index`, for each input (or, with strides "out_stride", in-place
  // output) in `inputs` (the outermost dim needs no modulo).
  void PrintUnravel(const std::string& index, int first, int last, const std::set<int>& inputs,
                    const std::string& var, const std::string& indent, const std::string& strides = "stride") {
    if (first >= last || inputs.empty()) return;
    out_ << indent << "{\n" << indent << "  int64_t t = " << index << ";\n";
    for (int d = last - 1; d >= first; --d) {
      if (d == first) {
        out_ << indent << "  const int64_t c" << d << " = t;\n";
      } else {
        out_ << indent << "  const int64_t c" << d << " = t % a.size[" << d << "];\n"
             << indent << "  t /= a.size[" << d << "];\n";
      }
      for (int i : inputs)
        out_ << indent << "  " << var << i << " += c" << d << " * a." << strides << "[" << i << "][" << d << "];\n";
    }
    out_ << indent << "}\n";
  }

  std::set<int> AllInputs() const {
    std::set<int> s;
    for (size_t i = 0; i < p_.inputs.size(); ++i) s.insert(static_cast<int>(i));
    return s;
  }

  // Declares rb<i> for every input: the offset of row `r`'s first element.
  void PrintRowBases(const std::string& indent) {
    if (p_.inputs.empty()) return;
    out_ << indent << "int64_t";
    for (size_t i = 0; i < p_.inputs.size(); ++i) out_ << (i ? ", rb" : " rb") << i << " = 0";
    out_ << ";\n";
    PrintUnravel("r", 0, n_ - k_, AllInputs(), "rb", indent);
    const std::set<int> inplace = InPlaceOutputs();
    for (int o : inplace) out_ << indent << "int64_t ob" << o << " = 0;  // in place: its row base\n";
    PrintUnravel("r", 0, n_ - k_, inplace, "ob", indent, "out_stride");
  }

  std::set<int> InPlaceOutputs(bool per_element_only = false) const {
    std::set<int> s;
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      if (p_.outputs[o].inplace >= 0 && (!per_element_only || p_.outputs[o].per_element)) s.insert(static_cast<int>(o));
    return s;
  }

  // Row kernels: where element j of the row goes in output o (ob<o> is the row base of an in-place one).
  std::string RowElementIndex(size_t o, const std::string& indent) {
    if (p_.outputs[o].inplace < 0) return "r * L + j";
    if (k_ == 1) return "ob" + N(static_cast<int64_t>(o)) + " + j * a.out_stride[" + N(static_cast<int64_t>(o)) + "][" + N(n_ - 1) + "]";
    out_ << indent << "int64_t oo" << o << " = ob" << o << ";\n";
    PrintUnravel("j", n_ - k_, n_, {static_cast<int>(o)}, "oo", indent, "out_stride");
    return "oo" + N(static_cast<int64_t>(o));
  }

  // Declares eo<i> (element offset = row base + position j) for `inputs`.
  void PrintElementOffsets(const std::set<int>& inputs, const std::string& indent) {
    if (inputs.empty()) return;
    if (k_ == 1) {
      for (int i : inputs)
        out_ << indent << "const int64_t eo" << i << " = rb" << i << " + j * a.stride[" << i << "][" << n_ - 1 << "];\n";
      return;
    }
    out_ << indent << "int64_t";
    bool first = true;
    for (int i : inputs) {
      out_ << (first ? " eo" : ", eo") << i << " = rb" << i;
      first = false;
    }
    out_ << ";\n";
    PrintUnravel("j", n_ - k_, n_, inputs, "eo", indent);
  }

  // Prints `nodes` (element-level, in order) inside a loop body; they stay in
  // scope only there, so readiness is restored by the caller.
  Status PrintElementNodes(const std::vector<int>& nodes, const std::string& indent) {
    for (int id : nodes) {
      if (p_.nodes[id].level != Level::kElement) return Bad("ElementNodesFor listed the non-element node %" + N(id));
      ANVIL_RETURN_IF_ERROR(PrintValue(id, indent, Where::kDevice));
    }
    return Status::Ok();
  }

  Status PrintRowNodes(int after_pass, const std::string& indent) {
    for (int id : p_.RowNodesAfter(after_pass)) ANVIL_RETURN_IF_ERROR(PrintValue(id, indent, Where::kDevice));
    return Status::Ok();
  }

  Status RequireReady(int id, const std::string& what) const {
    if (!ready_[id]) return Bad(what + " needs %" + N(id) + ", which no loop computes");
    return Status::Ok();
  }

  // `out<o>[index] = value` with the conversion to the output's storage type.
  Status PrintStore(size_t o, const std::string& index, const std::string& indent) {
    const PlanOutput& out = p_.outputs[o];
    ANVIL_RETURN_IF_ERROR(RequireReady(out.node, "output " + out.name));
    std::string value = "v" + N(out.node);
    if (p_.nodes[out.node].dtype != out.dtype) value = "static_cast<" + ComputeType(out.dtype) + ">(" + value + ")";
    out_ << indent << "a.out" << o << "[" << index << "] = " << StoreAs(out.dtype, value) << ";\n";
    return Status::Ok();
  }

  std::vector<int> ElementOutputNodes() const {
    std::vector<int> t;
    for (const PlanOutput& o : p_.outputs)
      if (o.per_element) t.push_back(o.node);
    return t;
  }
  bool HasRowOutputs() const {
    for (const PlanOutput& o : p_.outputs)
      if (!o.per_element) return true;
    return false;
  }

  // ---- kernels ---------------------------------------------------------------

  // The kInput nodes among `nodes`, in order.
  std::vector<int> InputNodesOf(const std::vector<int>& nodes) const {
    std::vector<int> ids;
    for (int id : nodes)
      if (p_.nodes[id].kind == KNode::Kind::kInput) ids.push_back(id);
    return ids;
  }
  // The inputs that the element-level nodes among `loads` read.
  std::set<int> ElementInputIndices(const std::vector<int>& loads) const {
    std::set<int> s;
    for (int id : loads)
      if (p_.nodes[id].level == Level::kElement) s.insert(p_.nodes[id].index);
    return s;
  }

  // Declares a tile's registers, `T ld<id>[count]` per input node: indexed
  // only by unrolled loops, so they stay in registers.
  void PrintTileRegisters(const std::vector<int>& loads, const std::string& count, const std::string& indent) {
    for (int id : loads)
      out_ << indent << ComputeType(p_.nodes[id].dtype) << " ld" << id << "[" << count << "];" << Origin(id) << "\n";
  }
  // `ld<id>[u] = <load>` for the nodes of `level` among `loads`, at eo<i> (element) or rb<i> (row).
  void PrintTileLoads(const std::vector<int>& loads, Level level, const std::string& indent) {
    for (int id : loads) {
      const KNode& node = p_.nodes[id];
      if (node.level != level) continue;
      const std::string off = (level == Level::kElement ? "eo" : "rb") + N(node.index);
      out_ << indent << "ld" << id << "[u] = " << LoadAs(node.dtype, "a.in" + N(node.index) + "[" + off + "]")
           << ";\n";
    }
  }
  void SetPreloaded(const std::vector<int>& loads, bool on) {
    for (int id : loads) preloaded_[id] = on;
  }

  Status PrintElementwiseKernel() {
    const std::vector<int> targets = ElementOutputNodes();
    const std::vector<int> elements = p_.ElementNodesFor(targets);
    const bool row_outputs = HasRowOutputs();
    // Every input node the items read: row-level ones (stage -1 row nodes,
    // computed per item here) and element-level ones.
    std::vector<int> loads = InputNodesOf(p_.RowNodesAfter(-1));
    for (int id : InputNodesOf(elements)) loads.push_back(id);
    const std::set<int> element_inputs = ElementInputIndices(loads);
    std::set<int> row_inputs;
    for (int id : loads)
      if (p_.nodes[id].level == Level::kRow) row_inputs.insert(p_.nodes[id].index);
    std::set<int> based = row_inputs;  // inputs whose row base the strided path unravels
    based.insert(element_inputs.begin(), element_inputs.end());

    out_ << "// A grid-stride loop over the flat index e = r * L + j, kItems elements per\n"
            "// thread and iteration (coalesced: e = base + u * blockDim.x). Every item's inputs\n"
            "// are loaded into registers first, so that kItems loads per input are in flight,\n"
            "// then each item is computed and stored. kDense: every element input's offset is\n"
            "// e and every row input's is r (no unravelling; no division unless r is needed).\n"
         << "template <bool kDense>\n"
         << "__global__ void __launch_bounds__(kThreads) " << Kernel() << "(const Args a) {\n";
    ANVIL_RETURN_IF_ERROR(PrintDeviceScalars("  "));
    out_ << "  const int64_t L = a.row_length;\n"
         << "  (void)L;\n"
         << "  const int64_t total = a.rows * a.iter_length;\n"
         << "  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x * kItems;\n"
         << "  for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * kItems + threadIdx.x; base < total;\n"
         << "       base += step) {\n";
    if (!loads.empty()) {
      PrintTileRegisters(loads, "kItems", "    ");
      out_ << "    #pragma unroll\n"
           << "    for (int u = 0; u < kItems; ++u) {\n"
           << "      const int64_t e = base + static_cast<int64_t>(u) * blockDim.x;\n"
           << "      if (e >= total) continue;\n"
           << "      if constexpr (kDense) {\n";
      // Element loads of an empty row (one iteration for its row outputs) would be out of bounds.
      const std::string guard = "if (j < L) {  // iter_length is 1 for L = 0: empty rows have no elements\n";
      if (row_outputs || !row_inputs.empty()) out_ << "        const int64_t r = e / a.iter_length;\n";
      if (row_outputs) out_ << "        const int64_t j = e - r * a.iter_length;\n";
      for (int i : row_inputs) out_ << "        const int64_t rb" << i << " = r;\n";
      PrintTileLoads(loads, Level::kRow, "        ");
      if (!element_inputs.empty()) {
        std::string ind = "        ";
        if (row_outputs) out_ << ind << guard, ind += "  ";
        for (int i : element_inputs) out_ << ind << "const int64_t eo" << i << " = e;\n";
        PrintTileLoads(loads, Level::kElement, ind);
        if (row_outputs) out_ << "        }\n";
      }
      out_ << "      } else {\n"
           << "        const int64_t r = e / a.iter_length;\n"
           << "        const int64_t j = e - r * a.iter_length;\n"
           << "        (void)r; (void)j;\n";
      if (!based.empty()) {
        out_ << "        int64_t";
        bool first = true;
        for (int i : based) out_ << (first ? " rb" : ", rb") << i << " = 0", first = false;
        out_ << ";\n";
        PrintUnravel("r", 0, n_ - k_, based, "rb", "        ");
      }
      PrintTileLoads(loads, Level::kRow, "        ");
      if (!element_inputs.empty()) {
        std::string ind = "        ";
        if (row_outputs) out_ << ind << guard, ind += "  ";
        out_ << ind << "int64_t";
        bool first = true;
        for (int i : element_inputs) out_ << (first ? " eo" : ", eo") << i << " = rb" << i, first = false;
        out_ << ";\n";
        PrintUnravel("j", n_ - k_, n_, element_inputs, "eo", ind);
        PrintTileLoads(loads, Level::kElement, ind);
        if (row_outputs) out_ << "        }\n";
      }
      out_ << "      }\n"
           << "    }\n";
    }
    // Compute and store each item from the registers.
    out_ << "    #pragma unroll\n"
         << "    for (int u = 0; u < kItems; ++u) {\n"
         << "      const int64_t e = base + static_cast<int64_t>(u) * blockDim.x;\n"
         << "      if (e >= total) continue;\n";
    if (row_outputs)
      out_ << "      const int64_t r = e / a.iter_length;\n"
           << "      const int64_t j = e - r * a.iter_length;\n";
    const std::vector<bool> outer = ready_;
    SetPreloaded(loads, true);
    Status st = PrintRowNodes(-1, "      ");
    const std::vector<bool> in_item = ready_;
    std::string indent = "      ";
    if (st.ok() && !targets.empty()) {
      if (row_outputs) out_ << "      if (j < L) {\n", indent = "        ";
      st = PrintElementNodes(elements, indent);
      for (size_t o = 0; st.ok() && o < p_.outputs.size(); ++o) {
        if (!p_.outputs[o].per_element) continue;
        if (p_.outputs[o].inplace < 0) {
          st = PrintStore(o, "e", indent);
          continue;
        }
        // In place: dense means the flat index; else unravel e with the output's own strides.
        const std::string oo = "oo" + N(static_cast<int64_t>(o));
        out_ << indent << "int64_t " << oo << " = e;\n"
             << indent << "if constexpr (!kDense) {\n"
             << indent << "  const int64_t er = e / a.iter_length;\n"
             << indent << "  const int64_t ej = e - er * a.iter_length;\n"
             << indent << "  " << oo << " = 0;\n";
        PrintUnravel("er", 0, n_ - k_, {static_cast<int>(o)}, "oo", indent + "  ", "out_stride");
        PrintUnravel("ej", n_ - k_, n_, {static_cast<int>(o)}, "oo", indent + "  ", "out_stride");
        out_ << indent << "}\n";
        st = PrintStore(o, oo, indent);
      }
      if (row_outputs) out_ << "      }\n";
    }
    SetPreloaded(loads, false);
    ANVIL_RETURN_IF_ERROR(st);
    ready_ = in_item;  // element values are in scope only inside their block
    if (row_outputs) {
      out_ << "      if (j == 0) {\n";
      for (size_t o = 0; o < p_.outputs.size(); ++o)
        if (!p_.outputs[o].per_element) ANVIL_RETURN_IF_ERROR(PrintStore(o, "r", "        "));
      out_ << "      }\n";
    }
    ready_ = outer;
    out_ << "    }\n  }\n}\n\n";
    return Status::Ok();
  }

  // One loop over the row's positions j that computes `elements` and then
  // prints `body` (folds or stores) per position.
  //   regs: the row's inputs are in ld<id>[u] already (j = threadIdx.x + u * blockDim.x,
  //         u < kRowItems); one unrolled loop over them.
  //   streaming: a block-stride loop over tiles of kItems positions per thread
  //         (coalesced); each tile first loads every item's inputs into registers, so
  //         that kItems loads per input are in flight, then computes them.
  Status PrintRowLoop(const std::vector<int>& elements, bool regs,
                      const std::function<Status(const std::string& indent)>& body) {
    const std::vector<bool> before = ready_;
    if (regs) {
      out_ << "    #pragma unroll\n"
           << "    for (int u = 0; u < kRowItems; ++u) {\n"
           << "      const int64_t j = threadIdx.x + static_cast<int64_t>(u) * blockDim.x;\n"
           << "      if (j >= L) continue;\n";
      ANVIL_RETURN_IF_ERROR(PrintElementNodes(elements, "      "));
      ANVIL_RETURN_IF_ERROR(body("      "));
      out_ << "    }\n";
      ready_ = before;
      return Status::Ok();
    }
    const std::vector<int> loads = InputNodesOf(elements);
    out_ << "    for (int64_t j0 = threadIdx.x; j0 < L; j0 += static_cast<int64_t>(kItems) * blockDim.x) {\n";
    if (!loads.empty()) {
      PrintTileRegisters(loads, "kItems", "      ");
      out_ << "      #pragma unroll\n"
           << "      for (int u = 0; u < kItems; ++u) {\n"
           << "        const int64_t j = j0 + static_cast<int64_t>(u) * blockDim.x;\n"
           << "        if (j >= L) continue;\n";
      PrintElementOffsets(ElementInputIndices(loads), "        ");
      PrintTileLoads(loads, Level::kElement, "        ");
      out_ << "      }\n";
    }
    out_ << "      #pragma unroll\n"
         << "      for (int u = 0; u < kItems; ++u) {\n"
         << "        const int64_t j = j0 + static_cast<int64_t>(u) * blockDim.x;\n"
         << "        if (j >= L) continue;\n";
    SetPreloaded(loads, true);
    Status st = PrintElementNodes(elements, "        ");
    if (st.ok()) st = body("        ");
    SetPreloaded(loads, false);
    ANVIL_RETURN_IF_ERROR(st);
    out_ << "      }\n"
         << "    }\n";
    ready_ = before;
    return Status::Ok();
  }

  // The row kernel. regs: the register-resident variant (template <int
  // kRowItems>) for rows of at most blockDim.x * kRowItems positions: each
  // thread loads its positions' inputs once and every pass reads registers.
  // Otherwise the streaming variant for rows of any length: every pass
  // re-reads the row (from L2 when it fits).
  Status PrintRowKernel(bool regs) {
    if (regs) {
      out_ << "// One block per row (grid-stride over rows), the row in registers: thread t holds\n"
              "// positions t + u * blockDim.x (u < kRowItems), loaded once; "
           << p_.passes << " pass(es) over\n// the registers, each followed by a block reduction.\n"
           << "template <int kRowItems>\n";
    } else {
      out_ << "// One block per row (grid-stride over rows), for rows too long for registers; " << p_.passes
           << "\n// pass(es) over the row, each a block-stride loop and a block reduction.\n";
    }
    out_ << "__global__ void __launch_bounds__(kThreads) " << (regs ? RegsKernel() : Kernel()) << "(const Args a) {\n"
         << "  __shared__ __align__(8) unsigned char scratch[anvil_gen::kScratchBytes];\n";
    ANVIL_RETURN_IF_ERROR(PrintDeviceScalars("  "));
    out_ << "  const int64_t L = a.row_length;\n"
         << "  (void)L;\n"
         << "  for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {\n";
    PrintRowBases("    ");
    ANVIL_RETURN_IF_ERROR(PrintRowNodes(-1, "    "));

    // Per pass, its reductions and the element nodes their operands need.
    std::vector<std::vector<int>> pass_reduces(p_.passes), pass_elements(p_.passes);
    std::vector<int> everything = ElementOutputNodes();  // targets of every loop, for the register loads
    for (int pass = 0; pass < p_.passes; ++pass) {
      pass_reduces[pass] = p_.ReducesInPass(pass);
      if (pass_reduces[pass].empty()) return Bad("pass " + N(pass) + " has no reduction");
      std::vector<int> operands;
      for (int id : pass_reduces[pass]) {
        if (p_.nodes[id].operands.size() != 1)
          return Bad("reduction %" + N(id) + " has " + N(p_.nodes[id].operands.size()) + " operands");
        operands.push_back(p_.nodes[id].operands[0]);
      }
      // ElementNodesFor lists element nodes only, so the targets are the operands.
      pass_elements[pass] = p_.ElementNodesFor(operands);
      everything.insert(everything.end(), operands.begin(), operands.end());
    }
    std::vector<int> loads;
    if (regs) {
      loads = InputNodesOf(p_.ElementNodesFor(everything));
      if (!loads.empty()) {
        out_ << "    // the row's inputs, read once\n";
        PrintTileRegisters(loads, "kRowItems", "    ");
        out_ << "    #pragma unroll\n"
             << "    for (int u = 0; u < kRowItems; ++u) {\n"
             << "      const int64_t j = threadIdx.x + static_cast<int64_t>(u) * blockDim.x;\n"
             << "      if (j >= L) continue;\n";
        PrintElementOffsets(ElementInputIndices(loads), "      ");
        PrintTileLoads(loads, Level::kElement, "      ");
        out_ << "    }\n";
      }
      SetPreloaded(loads, true);
    }
    Status st = PrintRowPasses(regs, pass_reduces, pass_elements);
    SetPreloaded(loads, false);
    ANVIL_RETURN_IF_ERROR(st);
    if (HasRowOutputs()) {
      out_ << "    if (threadIdx.x == 0) {\n";
      for (size_t o = 0; o < p_.outputs.size(); ++o)
        if (!p_.outputs[o].per_element)
          ANVIL_RETURN_IF_ERROR(PrintStore(o, p_.outputs[o].inplace >= 0 ? "ob" + N(static_cast<int64_t>(o)) : "r", "      "));
      out_ << "    }\n";
    }
    out_ << "  }\n}\n\n";
    return Status::Ok();
  }

  // The passes of a row and the loop writing its element outputs.
  Status PrintRowPasses(bool regs, const std::vector<std::vector<int>>& pass_reduces,
                        const std::vector<std::vector<int>>& pass_elements) {
    for (int pass = 0; pass < p_.passes; ++pass) {
      const std::vector<int>& reduces = pass_reduces[pass];
      out_ << "    // pass " << pass << "\n";
      for (int id : reduces)
        out_ << "    " << AccumulatorType(p_.nodes[id]) << " acc" << id << " = " << ReduceIdentity(p_.nodes[id])
             << ";\n";
      ANVIL_RETURN_IF_ERROR(PrintRowLoop(pass_elements[pass], regs, [&](const std::string& indent) {
        for (int id : reduces) {
          const KNode& node = p_.nodes[id];
          ANVIL_RETURN_IF_ERROR(RequireReady(node.operands[0], "reduction %" + N(id)));
          out_ << indent << "acc" << id << " = Combine" << id << "{}(acc" << id << ", static_cast<"
               << AccumulatorType(node) << ">(v" << node.operands[0] << "));\n";
        }
        return Status::Ok();
      }));
      for (int id : reduces) {
        const KNode& node = p_.nodes[id];
        out_ << "    const " << ComputeType(node.dtype) << " v" << id << " = static_cast<" << ComputeType(node.dtype)
             << ">(anvil_gen::BlockReduce(acc" << id << ", static_cast<" << AccumulatorType(node) << ">("
             << ReduceIdentity(node) << "), Combine" << id << "{}, scratch));" << Origin(id) << "\n";
        ready_[id] = true;
      }
      ANVIL_RETURN_IF_ERROR(PrintRowNodes(pass, "    "));
    }
    const std::vector<int> targets = ElementOutputNodes();
    if (targets.empty()) return Status::Ok();
    out_ << "    // element outputs\n";
    return PrintRowLoop(p_.ElementNodesFor(targets), regs, [&](const std::string& indent) {
      for (size_t o = 0; o < p_.outputs.size(); ++o)
        if (p_.outputs[o].per_element) ANVIL_RETURN_IF_ERROR(PrintStore(o, RowElementIndex(o, indent), indent));
      return Status::Ok();
    });
  }

  // ---- host ------------------------------------------------------------------

  // Run(call): checks ranks, sizes and output dtypes, fills Args, computes the
  // scalar nodes and launches. The caller checked counts and input dtypes.
  Status PrintRun() {
    const std::string name = p_.name;
    out_ << "int Run(const AnvilCall* call) {\n"
         << "  const DLTensor* in = call->inputs;\n"
         << "  DLTensor* out = call->outputs;\n"
         << "  Args a{};\n";
    for (size_t i = 0; i < p_.inputs.size(); ++i) {
      const PlanInput& pi = p_.inputs[i];
      out_ << "  if (in[" << i << "].ndim != " << pi.rank << ") {\n"
           << "    anvil::SetError(call, " << Quoted(name + ": input " + pi.name + " has rank %d, expected " + N(pi.rank))
           << ", in[" << i << "].ndim);\n"
           << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n";
    }
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      const PlanOutput& po = p_.outputs[o];
      out_ << "  if (!" << DLCheck("out[" + N(o) + "]", po.dtype) << ") {\n"
           << "    anvil::SetError(call, "
           << Quoted(name + ": output " + po.name + " has dtype %s, expected " + std::string(DTypeName(po.dtype)))
           << ", anvil::DTypeName(out[" << o << "].dtype));\n"
           << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n";
    }
    // The domain's sizes.
    for (int d = 0; d < n_; ++d) {
      const DimSource& s = p_.dim_source[d];
      if (s.fixed) {
        out_ << "  a.size[" << d << "] = " << s.size << ";\n";
      } else {
        if (s.input < 0 || s.input >= static_cast<int>(p_.inputs.size()) || s.dim < 0 || s.dim >= p_.inputs[s.input].rank)
          return Bad("domain dim " + N(d) + " is read from dim " + N(s.dim) + " of input #" + N(s.input));
        out_ << "  a.size[" << d << "] = in[" << s.input << "].shape[" << s.dim << "];"
             << (s.symbol.empty() ? "" : "  // " + s.symbol) << "\n";
      }
    }
    // Per input: sizes must match the domain (1 where it broadcasts); strides.
    for (size_t i = 0; i < p_.inputs.size(); ++i) {
      const PlanInput& pi = p_.inputs[i];
      for (int d = 0; d < n_; ++d) {
        const int ad = d - (n_ - pi.rank);  // the input's own dim, < 0 when it lacks d
        if (ad < 0) {
          out_ << "  a.stride[" << i << "][" << d << "] = 0;\n";
          continue;
        }
        const std::string dim = "in[" + N(i) + "].shape[" + N(ad) + "]";
        const std::string expected = pi.broadcast[d] ? "1" : "a.size[" + N(d) + "]";
        const std::string sym = p_.dim_source[d].symbol.empty() ? "" : " (" + p_.dim_source[d].symbol + ")";
        out_ << "  if (" << dim << " != " << expected << ") {\n"
             << "    anvil::SetError(call, "
             << Quoted(name + ": input " + pi.name + " has size %lld in dim " + N(ad) + ", expected %lld" + sym) << ", "
             << "static_cast<long long>(" << dim << "), static_cast<long long>(" << expected << "));\n"
             << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n";
        out_ << "  a.stride[" << i << "][" << d << "] = "
             << (pi.broadcast[d] ? "0" : "anvil::Stride(in[" + N(i) + "], " + N(ad) + ")") << ";\n";
      }
    }
    out_ << "  int64_t rows = 1, row_length = 1;\n";
    for (int d = 0; d < n_; ++d) out_ << "  " << (d < n_ - k_ ? "rows" : "row_length") << " *= a.size[" << d << "];\n";
    out_ << "  a.rows = rows;\n  a.row_length = row_length;\n";
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      const PlanOutput& po = p_.outputs[o];
      const std::string expected = po.per_element ? "rows * row_length" : "rows";
      out_ << "  if (anvil::Numel(out[" << o << "]) != " << expected << ") {\n"
           << "    anvil::SetError(call, "
           << Quoted(name + ": output " + po.name + " has %lld elements, expected %lld (" +
                     (po.per_element ? "the domain" : "one per row") + ")")
           << ", static_cast<long long>(anvil::Numel(out[" << o << "])), static_cast<long long>(" << expected
           << "));\n    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n";
    }
    // In-place outputs: the input tensor itself, so its sizes are the domain's (row dims for a row
    // output) and its strides are whatever the input has.
    for (int o : InPlaceOutputs()) {
      const PlanOutput& po = p_.outputs[o];
      const int varying = po.per_element ? n_ : n_ - k_;
      const std::string so = N(o);
      out_ << "  if (out[" << so << "].ndim < " << varying << ") {\n"
           << "    anvil::SetError(call, "
           << Quoted(name + ": in-place output " + po.name + " has rank %d, expected at least " + N(varying))
           << ", out[" << so << "].ndim);\n"
           << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n";
      for (int d = 0; d < varying; ++d) {
        const std::string dim = "out[" + so + "].shape[" + N(d) + "]";
        out_ << "  if (" << dim << " != a.size[" << d << "]) {\n"
             << "    anvil::SetError(call, "
             << Quoted(name + ": in-place output " + po.name + " has size %lld in dim " + N(d) + ", expected %lld")
             << ", static_cast<long long>(" << dim << "), static_cast<long long>(a.size[" << d << "]));\n"
             << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n"
             << "  a.out_stride[" << so << "][" << d << "] = anvil::Stride(out[" << so << "], " << d << ");\n";
      }
    }
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      out_ << "  a.in" << i << " = anvil::DataPtr<const " << StorageType(p_.inputs[i].dtype) << ">(in[" << i << "]);\n";
    for (size_t o = 0; o < p_.outputs.size(); ++o)
      out_ << "  a.out" << o << " = anvil::DataPtr<" << StorageType(p_.outputs[o].dtype) << ">(out[" << o << "]);\n";
    // Scalar nodes, once per call, on the host.
    std::vector<bool> before = ready_;
    for (int id : p_.ScalarNodes()) {
      if (!host_[id]) continue;
      ANVIL_RETURN_IF_ERROR(PrintValue(id, "  ", Where::kHost));
      if (Passed(id)) out_ << "  a.s" << id << " = v" << id << ";\n";
    }
    ready_ = before;
    out_ << "  if (rows == 0) return ANVIL_OK;  // nothing to write\n";
    if (p_.HasReductions()) {
      out_ << "  // A short row needs fewer threads (whole warps; the block reduction needs them).\n"
           << "  int threads = kThreads;\n"
           << "  while (threads > 32 && threads / 2 >= row_length) threads /= 2;\n"
           << "  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(rows, 2147483647));\n"
           << "  // With kRowRegs, a row of at most threads * kRowItems positions is read once, into registers.\n"
           << "  if (kRowRegs && row_length <= static_cast<int64_t>(threads) * 4) {\n"
           << "    " << RegsKernel() << "<4><<<blocks, threads, 0, anvil::StreamOf(call)>>>(a);\n"
           << "  } else if (kRowRegs && row_length <= static_cast<int64_t>(threads) * kMaxRowItems) {\n"
           << "    " << RegsKernel() << "<kMaxRowItems><<<blocks, threads, 0, anvil::StreamOf(call)>>>(a);\n"
           << "  } else {\n"
           << "    " << Kernel() << "<<<blocks, threads, 0, anvil::StreamOf(call)>>>(a);\n"
           << "  }\n";
    } else {
      out_ << "  // Row outputs of empty rows are still written: one iteration per row.\n"
           << "  a.iter_length = " << (HasRowOutputs() ? "row_length == 0 ? 1 : row_length" : "row_length") << ";\n"
           << "  const int64_t total = rows * a.iter_length;\n"
           << "  if (total == 0) return ANVIL_OK;\n"
           << "  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(anvil::CeilDiv(total, kThreads * kItems), "
           << kMaxElementwiseBlocks << "));\n"
           << "  bool dense = true;  // every input's offset is the flat index (element inputs) or the row (row inputs)\n";
      for (size_t i = 0; i < p_.inputs.size(); ++i) {
        const int last = ReadPerElement(static_cast<int>(i)) ? n_ : n_ - k_;
        out_ << "  {\n    int64_t expected = 1;\n"
             << "    for (int d = " << last - 1 << "; d >= 0; --d) {\n"
             << "      if (a.size[d] != 1 && a.stride[" << i << "][d] != expected) dense = false;\n"
             << "      expected *= a.size[d];\n    }\n  }\n";
      }
      for (int o : InPlaceOutputs(/*per_element_only=*/true))
        out_ << "  {  // in-place output " << p_.outputs[o].name << ": dense when stored at the flat index\n"
             << "    int64_t expected = 1;\n"
             << "    for (int d = " << n_ - 1 << "; d >= 0; --d) {\n"
             << "      if (a.size[d] != 1 && a.out_stride[" << o << "][d] != expected) dense = false;\n"
             << "      expected *= a.size[d];\n    }\n  }\n";
      out_ << "  if (dense) {\n"
           << "    " << Kernel() << "<true><<<blocks, kThreads, 0, anvil::StreamOf(call)>>>(a);\n"
           << "  } else {\n"
           << "    " << Kernel() << "<false><<<blocks, kThreads, 0, anvil::StreamOf(call)>>>(a);\n"
           << "  }\n";
    }
    out_ << "  ANVIL_CUDA_CHECK(call, cudaGetLastError());\n"
         << "  return ANVIL_OK;\n}\n\n";
    return Status::Ok();
  }

  const KernelPlan& p_;
  int index_;
  int n_ = 0, k_ = 0;
  std::vector<bool> ready_;  // node ids whose v<id> is in scope where printing is
  std::vector<bool> preloaded_;  // kInput nodes read from ld<id>[u] (the tile's registers) where printing is
  std::vector<bool> device_, host_;  // scalar nodes the kernel / the host needs
  std::ostringstream out_;
};

// Helpers every printed file shares: a shuffle for any accumulator type and
// the block reduction.
const char* kHelpers = R"cu(namespace anvil_gen {

// Room for one partial result per warp (at most 32) plus the broadcast slot, 8 bytes each.
constexpr int kScratchBytes = 33 * 8;

// __shfl_xor_sync for any trivially copyable type of at most 8 bytes.
template <class T>
__device__ __forceinline__ T ShuffleXor(T v, int lane_mask) {
  static_assert(sizeof(T) <= 8, "accumulators are at most 8 bytes");
  if constexpr (sizeof(T) == 8) {
    long long bits;
    memcpy(&bits, &v, 8);
    bits = __shfl_xor_sync(0xffffffffu, bits, lane_mask);
    memcpy(&v, &bits, 8);
  } else {
    int bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = __shfl_xor_sync(0xffffffffu, bits, lane_mask);
    memcpy(&v, &bits, sizeof(T));
  }
  return v;
}

// Combines every thread's `v` with `f` (the same update as the per-thread
// fold, so NaN rules hold); every thread gets the result. blockDim.x is a
// multiple of 32. Ends with a barrier, so `scratch` can be reused at once.
template <class T, class F>
__device__ T BlockReduce(T v, T identity, F f, unsigned char* scratch_bytes) {
  T* scratch = reinterpret_cast<T*>(scratch_bytes);
  for (int o = 16; o > 0; o >>= 1) v = f(v, ShuffleXor(v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? scratch[lane] : identity;
    for (int o = 16; o > 0; o >>= 1) v = f(v, ShuffleXor(v, o));
    if (lane == 0) scratch[32] = v;
  }
  __syncthreads();
  v = scratch[32];
  __syncthreads();
  return v;
}

}  // namespace anvil_gen

)cu";

struct CudaParams {
  int64_t threads = kDefaultThreads;  // per block
  int64_t items = kDefaultItems;      // positions per thread and loop iteration (loads in flight)
  int64_t row_regs = 0;               // row plans: 1 = rows that fit are held in registers
};

Result<CudaParams> ParseParams(const KernelParams& params) {
  CudaParams p;
  for (const auto& [key, value] : params) {
    if (key == "threads") {
      p.threads = value;
    } else if (key == "items") {
      p.items = value;
    } else if (key == "row_regs") {
      p.row_regs = value;
    } else {
      return InvalidInput("CUDA printer: unknown parameter '" + key + "' (it knows: threads, items, row_regs)");
    }
  }
  if (p.threads < 32 || p.threads > 1024 || p.threads % 32 != 0)
    return InvalidInput("CUDA printer: threads=" + N(p.threads) + " is not a multiple of 32 in [32, 1024]");
  if (p.items < 1 || p.items > 16 || (p.items & (p.items - 1)) != 0)
    return InvalidInput("CUDA printer: items=" + N(p.items) + " is not one of 1, 2, 4, 8, 16");
  if (p.row_regs != 0 && p.row_regs != 1) return InvalidInput("CUDA printer: row_regs=" + N(p.row_regs) + " is not 0 or 1");
  return p;
}

// The most positions per thread that a register-resident row kernel holds:
// rows up to 4096 at 256 threads or more; fewer at 1024 threads, whose
// launch bound leaves 64 registers per thread.
int64_t MaxRowItems(int64_t threads) { return std::clamp<int64_t>(4096 / threads, 4, 16); }

}  // namespace

std::vector<KernelParams> CudaSpace(const std::vector<KernelPlan>& variants) {
  // Row plans may use 1024 threads for long rows; the row length is only known
  // at run time, so the tuner measures it (Run() halves the block for short rows).
  // Elementwise plans also vary the elements per thread; row plans keep the
  // default (it only sizes the tiles of rows too long for registers).
  const bool rows = !variants.empty() && variants.front().HasReductions();
  auto at = [](int64_t threads, int64_t items) { return KernelParams{{"threads", threads}, {"items", items}}; };
  // The register-resident row kernel measured slower than the streaming one on an
  // H200 (rmsnorm f16 132 vs 63 µs, 88 registers, 2 blocks per SM): a choice for
  // the tuner, not the default.
  auto row = [](int64_t threads, int64_t regs) {
    return KernelParams{{"threads", threads}, {"items", 4}, {"row_regs", regs}};
  };
  if (rows) return {row(256, 0), row(128, 0), row(512, 0), row(1024, 0), row(256, 1)};
  return {at(256, 4), at(128, 4), at(512, 4), at(256, 1), at(256, 8)};
}

Result<std::string> EmitCuda(const std::vector<KernelPlan>& variants, const KernelParams& params) {
  if (variants.empty()) return InvalidInput("CUDA printer: no kernel plans to print");
  if (variants.front().HasMatmul())
    return Unsupported("the CUDA C++ printer does not generate matmuls: a matmul with a fused epilogue is generated "
                       "for --target triton (tl.dot tiles) and --target cpu; for CUDA C++ write the kernel as a "
                       "candidate and verify it");
  ANVIL_ASSIGN_OR_RETURN(const CudaParams cp, ParseParams(params));
  const KernelPlan& first = variants.front();
  for (const KernelPlan& v : variants) {
    if (v.inputs.size() != first.inputs.size() || v.outputs.size() != first.outputs.size())
      return InternalError("CUDA printer: the dtype variants of " + first.name +
                           " differ in their numbers of inputs or outputs");
  }

  const bool any_reductions =
      std::any_of(variants.begin(), variants.end(), [](const KernelPlan& v) { return v.HasReductions(); });
  std::ostringstream s;
  s << "// " << first.name << " (CUDA): one fused kernel per dtype variant, printed by Anvil's\n"
    << "// built-in compiler (anvil gen); do not edit, regenerate.\n"
    << "//   domain " << ShapeToString(first.domain) << ", the last " << first.reduced_dims
    << " dim(s) are the row axis; " << first.passes << " reduction pass(es) per row\n"
    << "//   params: threads=" << cp.threads << ", items=" << cp.items << "\n";
  for (size_t i = 0; i < variants.size(); ++i) s << "//   variant v" << i << ": " << InputDTypes(variants[i]) << "\n";
  s << "//   outputs:";
  for (const PlanOutput& o : first.outputs)
    s << " " << o.name << " (" << (o.per_element ? "per element" : "per row") << ")";
  s << "\n"
    << (first.HasReductions()
            ? "// One block per row: each pass folds the row and reduces across the block; element\n"
              "// outputs are written in a last loop over the row. Rows that fit are read once into\n"
              "// registers; longer ones are re-read by each pass.\n"
            : "// A grid-stride loop over every element, several per thread; inputs of any strides\n"
              "// (0 where they broadcast).\n")
    << "// Floating values of f16/bf16/f32 are computed in f32 and rounded once when stored.\n"
    << "#include <algorithm>\n"
    << "#include <cstdint>\n"
    << "#include <cstring>\n\n"
    << "#include <anvil/cuda_tensor.h>\n"
    << "#include <anvil/fused_math.h>\n\n"
    << "namespace {\n\n"
    << "constexpr int kThreads = " << cp.threads << ";\n"
    << "// Positions per thread and loop iteration: kItems loads per input in flight.\n"
    << "constexpr int kItems = " << cp.items << ";\n"
    << (any_reductions ? "// The most positions per thread of a row held in registers, and whether rows that\n"
                         "// fit are (a tuning parameter).\nconstexpr int kMaxRowItems = " +
                             N(MaxRowItems(cp.threads)) + ";\nconstexpr bool kRowRegs = " +
                             (cp.row_regs ? "true" : "false") + ";\n"
                       : "")
    << "\n"
    << (any_reductions ? kHelpers : "");
  for (size_t i = 0; i < variants.size(); ++i) {
    ANVIL_ASSIGN_OR_RETURN(std::string text, VariantPrinter(variants[i], static_cast<int>(i)).Print());
    s << text;
  }
  s << "}  // namespace\n\n";

  // The entry point: counts, then the variant whose input dtypes match.
  const std::string nin = std::to_string(first.inputs.size()), nout = std::to_string(first.outputs.size());
  s << "extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {\n"
    << "  if (call->num_inputs != " << nin << " || call->num_outputs != " << nout << ") {\n"
    << "    anvil::SetError(call, "
    << Quoted(first.name + " expects " + nin + " input(s) and " + nout + " output(s), got %d and %d")
    << ", call->num_inputs, call->num_outputs);\n"
    << "    return ANVIL_ERROR_INVALID_ARGUMENT;\n  }\n"
    << "  const DLTensor* in = call->inputs;\n";
  std::string served;
  for (size_t v = 0; v < variants.size(); ++v) {
    s << "  if (";
    for (size_t i = 0; i < variants[v].inputs.size(); ++i)
      s << (i ? " && " : "") << DLCheck("in[" + std::to_string(i) + "]", variants[v].inputs[i].dtype);
    if (variants[v].inputs.empty()) s << "true";
    s << ") return v" << v << "::Run(call);\n";
    served += (v ? "; " : "") + InputDTypes(variants[v]);
  }
  std::string got, args;
  for (size_t i = 0; i < first.inputs.size(); ++i) {
    got += (i ? ", " : "") + first.inputs[i].name + ": %s";
    args += ", anvil::DTypeName(in[" + std::to_string(i) + "].dtype)";
  }
  s << "  anvil::SetError(call, " << Quoted(first.name + ": no kernel for input dtypes (" + got + "); it serves (" + served + ")")
    << args << ");\n"
    << "  return ANVIL_ERROR_UNSUPPORTED;\n}\n";
  return s.str();
}

}  // namespace anvil::compiler
