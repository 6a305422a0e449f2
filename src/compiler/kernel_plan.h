// The built-in compiler's kernel IR: one fused kernel for one formula graph
// (one dtype variant), ready for a backend to print.
//
// SEMANTICS (the contract between lowering and every emitter):
//
// Domain. The kernel iterates over one index space, the *domain*: the
// broadcast of all input shapes (rank n). Its last `reduced_dims` dims (k) are
// the *row axis*; the first n - k dims the *row dims*. rows = product of the
// row dims, row_length L = product of the reduced dims. An elementwise graph
// is the case without reductions: k = 1 (k = 0 for a rank-0 domain), so the
// row axis is the last dim. Each element of the domain is (row r, position j).
//
// Nodes. `nodes` is a DAG in topological order (operands first) of primitive
// operations; composites (mean, var, std, logsumexp, softmax, log_softmax)
// are decomposed by lowering. Each node has a `level`:
//   kScalar   computed once per call (attributes, literals, row_length, and
//             expressions of those only), Python number semantics as in the
//             formula IR (f64, i64 or bool);
//   kRow      one value per row (reduction results, inputs that are constant
//             along the row axis, and expressions of those);
//   kElement  one value per (row, position).
// A kReduce node folds its operand over the row axis of its row (sum, max,
// min or product; max and min propagate NaN as torch.amax does; an empty row
// gives 0, -inf, +inf, 1) and is a kRow value available from the end of pass
// `pass`. Passes run in order 0..passes-1, each one loop over the row; a row
// node's `pass` (stage) says after which pass it can be computed: -1 at the
// start of the row, p after pass p. Element nodes are recomputed in every
// loop that needs them (they are cheap; inputs are re-read from cache).
//
// Values and dtypes. A node's dtype is the one it is computed in: the formula
// IR's (what PyTorch eager gives), except where lowering widened it to f64
// (the widen pass: sums of products over f32 rows, and every floating row
// value, so that squares of large values cannot overflow where the f64
// reference does not). Backends compute floating nodes of f16, bf16 and f32
// in f32 and round only when storing an output ("compute in f32": at least as
// accurate as eager, which rounds every op to f16); f64 in f64; integers and
// bool in their own type. Reductions accumulate in f32 (f64 when widened).
//
// Inputs. Input i (rank r_i <= n) aligns right with the domain: its dim a is
// domain dim a + n - r_i. `broadcast[d]` says the input does not vary along
// domain dim d (it lacks the dim, or has a fixed size 1 where the domain does
// not): its stride there is 0. Otherwise the input's own runtime stride
// applies (any strides, including 0 and transposed).
//
// Outputs. Contiguous (the harness allocates them). An element output has the
// domain's shape and is written at r * L + j; a row output (a kRow node; shape
// = the row dims, with or without size-1 reduced dims) is written once per
// row at r.
//
// In-place outputs. An output may be written into an input (`inplace`, the
// task's `inplace = "x"`): the harness then passes that input tensor itself
// as the output, so the output has the input's strides (transposed, strided)
// and is written through its own runtime strides (row r's base is the dot of
// r's coordinates with the output's strides over the row dims; position j
// adds the dot of j's coordinates with those over the row axis). Lowering
// accepts one only where every element of the input is read before the
// kernel writes its position and never after (kUnsupported otherwise):
//   - the input is a domain input that broadcasts along no dim of the output
//     (so each output position has exactly one input element, its own), has
//     the output's dtype and is no matmul operand (a matmul reads a whole row
//     of A and column of B for each output element);
//   - an element output: reads of the input at that position happen in the
//     same iteration before the store (elementwise), or in reduction passes
//     that all finish before the output loop of the row (row plans: a row is
//     one thread / block / program, and no other row reads it);
//   - a row output only in a plan with reductions, where the row's reads come
//     before its one store; an elementwise plan writes row outputs from the
//     position-0 block while other blocks of the row may still read the input.
// Contiguous outputs keep the flat index above (no strides read, no cost).
//
// Matmul. A plan may hold one kMatmul node (`matmul`): the domain is then
// the matmul's output [M, N] (rank 2, row axis N), its operands are the
// inputs A [M, K] and B [K, N] (any strides; role kMatmulA / kMatmulB, read
// by the matmul only), and its value at (m, n) is sum over k of
// A[m, k] * B[k, n], accumulated in f32 (f64 for f64 operands) and not
// rounded to the storage dtype (compute in f32, as above). Every other node
// is the *epilogue*: elementwise over [M, N] and evaluated once per output
// element on the finished sum (bias, activation, residual, scale). Such a
// plan has no reductions and every non-scalar node is element-level; K is
// read from A's shape (`matmul_k`).
//
// Runtime sizes. Domain dim d is either a fixed size or read from an input's
// shape (`dim_source`), so the kernel is generic over every symbol: any size,
// 0 and 1 included.
//
// Thread-safety: a plan is an immutable value once lowered.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "formula/ir.h"
#include "util/status.h"

namespace anvil::compiler {

enum class Level : uint8_t { kScalar, kRow, kElement };

struct KNode {
  enum class Kind : uint8_t {
    kInput,      // `index`: task input
    kAttr,       // `index`: task attribute (a scalar)
    kConst,      // `value`
    kRowLength,  // L, the number of elements in a row, as `dtype` (a scalar)
    kOp,         // an elementwise formula op (`op`: unary, binary, where, to) on `operands`
    kReduce,     // `op` is kSum, kAmax, kAmin or kProd over the row axis of operands[0]
    kMatmul,     // operands {A, B}: the contraction over K at element (m, n) (see Matmul above)
  };
  Kind kind = Kind::kOp;
  formula::Op op = formula::Op::kConst;
  std::vector<int> operands;
  DType dtype = DType::kF32;          // the result's dtype
  DType operand_dtype = DType::kF32;  // kOp: the dtype the op works in (operands converted to it first):
                                      // torch.result_type of the operands (of operands 1, 2 for where;
                                      // the source's for to). kReduce: the operand's.
  Level level = Level::kElement;
  int pass = -1;  // kReduce: the pass computing it; kRow nodes: available after this pass (-1: at row start)
  int index = -1;
  ScalarValue value;
  // Elementwise op attributes, as in formula::Node.
  DType to_dtype = DType::kF32;
  std::string approximate;
  std::vector<double> params;
  std::string origin;  // the formula node it implements ("softmax %4: row max"), for dumps and comments
};

// How the kernel reads an input: on the domain (broadcast per dim), or as an operand of the matmul.
enum class InputRole : uint8_t { kDomain, kMatmulA, kMatmulB };

struct PlanInput {
  std::string name;
  InputRole role = InputRole::kDomain;
  DType dtype;
  int rank = 0;
  std::vector<bool> broadcast;  // per domain dim (all false for matmul operands: unused)
  Level level = Level::kElement;  // kRow when constant along the row axis
};

struct PlanOutput {
  std::string name;
  int node = -1;
  DType dtype;
  bool per_element = true;  // false: one value per row
  int inplace = -1;         // the plan input this output is written into (its strides), or -1: contiguous
};

struct DimSource {
  bool fixed = true;
  int64_t size = 1;   // fixed
  int input = -1;     // else: input `input`'s dim `dim` (its own numbering)
  int dim = -1;
  std::string symbol;
};

struct KernelPlan {
  std::string name;                 // a C identifier derived from the task name
  int rank = 0;                     // n
  int reduced_dims = 0;             // k
  SymShape domain;
  std::vector<DimSource> dim_source;  // per domain dim
  int passes = 0;                   // reduction passes (0 for an elementwise graph)
  std::vector<KNode> nodes;
  std::vector<PlanInput> inputs;
  std::vector<formula::AttrDecl> attrs;
  std::vector<PlanOutput> outputs;
  int matmul = -1;         // the kMatmul node, or -1
  DimSource matmul_k;      // K, when matmul >= 0

  bool HasReductions() const { return passes > 0; }
  bool HasMatmul() const { return matmul >= 0; }
  // The plan input index of the matmul's A (B when `b`); requires HasMatmul().
  int MatmulInput(bool b) const;
  bool HasElementOutputs() const;
  bool HasInPlaceOutputs() const;
  // Element-level nodes needed to compute `targets`, in topological order
  // (row and scalar nodes are values already in scope, not listed).
  std::vector<int> ElementNodesFor(const std::vector<int>& targets) const;
  // kReduce nodes of pass p, in order.
  std::vector<int> ReducesInPass(int p) const;
  // kRow nodes that are not reductions, computed after pass p (p = -1: at row start), in order.
  std::vector<int> RowNodesAfter(int p) const;
  // kScalar nodes, in order.
  std::vector<int> ScalarNodes() const;

  // One line per node and per input/output; stable.
  std::string Dump() const;
};

// Output name -> the name of the input it is written into (TaskOutput::inplace).
using InPlaceOutputs = std::map<std::string, std::string>;

// Lowers a verified formula graph to one fused kernel. Each pass of lowering
// (decompose, levels, passes) can print the plan after it: `dump` receives
// (pass name, text) when non-null. `inplace` names the outputs written into
// an input (see "In-place outputs" above). An unsupported graph, or an
// in-place output the kernel could not write safely, is kUnsupported with a
// message naming the node or output and what the compiler would need; an
// `inplace` entry naming no output or input is kInvalidInput.
using DumpFn = std::function<void(const std::string& pass, const std::string& text)>;

// Appends nodes to a plan's node list: what lowering and its rewrites
// (stabilize.h) build plans with. Returns each node's index. Constants are
// f64 scalars; an op's level is left for the `levels` pass.
class NodeAppender {
 public:
  explicit NodeAppender(std::vector<KNode>& nodes) : nodes_(&nodes) {}
  int Add(KNode n);
  int Const(double v);
  // An elementwise primitive working in `in` (operands converted to it), giving `result`.
  int OpNode(formula::Op op, std::vector<int> operands, DType in, const std::string& origin, DType result);
  int OpNode(formula::Op op, std::vector<int> operands, DType t, const std::string& origin) {
    return OpNode(op, std::move(operands), t, origin, t);
  }

 private:
  std::vector<KNode>* nodes_;
};

Result<KernelPlan> LowerToPlan(const formula::Graph& graph, const std::string& name, const DumpFn& dump = nullptr,
                               const InPlaceOutputs& inplace = {});

}  // namespace anvil::compiler
