// Lowering, data-driven: formula -> the plan's shape (passes, row axis,
// outputs per element or per row, where f64 is used), or the exact reason
// the built-in compiler refuses it.
#include <gtest/gtest.h>

#include "compiler/kernel_plan.h"
#include "formula/formula.h"

namespace anvil::compiler {
namespace {

struct Case {
  std::string formula;
  std::vector<formula::InputDecl> inputs;
  std::vector<std::string> outputs;
  // Expected: passes, reduced dims, per-element flag per output; or an error substring.
  int passes = 0;
  int reduced_dims = 1;
  std::vector<bool> per_element;
  std::string error;
  std::string dump_contains;
};

SymShape RC() { return {Dim::Symbol("R"), Dim::Symbol("C")}; }
SymShape C() { return {Dim::Symbol("C")}; }
SymShape CN() { return {Dim::Symbol("C"), Dim::Symbol("N")}; }
SymShape RN() { return {Dim::Symbol("R"), Dim::Symbol("N")}; }
SymShape N() { return {Dim::Symbol("N")}; }

TEST(CompilerLowering, FormulasLowerToTheExpectedPlans) {
  const std::vector<Case> cases = {
      {"out = x * sigmoid(1.702 * x) * y", {{"x", DType::kF16, RC()}, {"y", DType::kF16, C()}}, {"out"}, 0, 1,
       {true}, "", "input y: f16 rank 1 strides [0s] element"},
      {"out = softmax(x / t, -1)", {{"x", DType::kF32, RC()}}, {"out"}, 2, 1, {true}, "", "reduce_amax"},
      {"out = logsumexp(x, -1)", {{"x", DType::kF32, RC()}}, {"out"}, 2, 1, {false}, "", ""},
      {"mu = mean(x, -1, keepdim=True)\nout = x - mu", {{"x", DType::kBF16, RC()}}, {"out", "mu"}, 1, 1,
       {true, false}, "", ""},
      // var: mean first, then the squared deviations, widened to f64 (squares overflow f32).
      {"out = var(x, -1)", {{"x", DType::kF32, RC()}}, {"out"}, 2, 1, {false}, "", "f64 element = mul"},
      {"out = sum(x)", {{"x", DType::kF32, RC()}}, {"out"}, 1, 2, {false}, "", ""},
      // A matmul with an elementwise epilogue: the domain is its output [R, N].
      {"out = gelu(x @ w + b)", {{"x", DType::kF16, RC()}, {"w", DType::kF16, CN()}, {"b", DType::kF16, N()}},
       {"out"}, 0, 1, {true}, "", "matmul %3: K = C"},
      {"out = r + 0.5 * (x @ w)", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}, {"r", DType::kF32, RN()}},
       {"out"}, 0, 1, {true}, "", "input w: f32 rank 2 matmul operand B [K, N]"},
      {"out = x @ w", {{"x", DType::kF32, RC()}, {"w", DType::kF32, {Dim::Symbol("B"), Dim::Symbol("C"), Dim::Symbol("N")}}},
       {"out"}, 0, 0, {}, "the right operand has rank 3", ""},
      {"out = (x * 2) @ w", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}}, {"out"}, 0, 0, {},
       "the left operand is computed", ""},
      {"out = x @ w + x @ w", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}}, {"out"}, 0, 0, {},
       "a second matmul", ""},
      {"out = softmax(x @ w, -1)", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}}, {"out"}, 0, 0, {},
       "a reduction in a formula with a matmul", ""},
      {"out = x @ w + r", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}, {"r", DType::kF32, {Dim::Symbol("B"), Dim::Symbol("R"), Dim::Symbol("N")}}},
       {"out"}, 0, 0, {}, "does not broadcast into the matmul's output", ""},
      {"out = x @ w\nx2 = x * 2", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}}, {"out", "x2"}, 0, 0, {},
       "uses matmul operand 'x' elementwise", ""},
      {"out = x @ w", {{"x", DType::kI32, RC()}, {"w", DType::kI32, CN()}}, {"out"}, 0, 0, {},
       "lowers floating matmuls", ""},
      {"out = sum(x, 0)", {{"x", DType::kF32, RC()}}, {"out"}, 0, 0, {}, "innermost dims", ""},
      {"out = sum(x, -1) + x", {{"x", DType::kF32, {Dim::Symbol("C"), Dim::Symbol("C")}}}, {"out"}, 0, 0, {},
       "keepdim=True", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.formula);
    std::vector<formula::AttrDecl> attrs;
    if (c.formula.find("/ t") != std::string::npos) attrs.push_back({"t", DType::kF32});
    auto graph = formula::Compile(c.formula, c.inputs, attrs, c.outputs);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto plan = LowerToPlan(*graph, "k");
    if (!c.error.empty()) {
      ASSERT_FALSE(plan.ok());
      EXPECT_EQ(plan.status().code(), ErrorCode::kUnsupported);
      EXPECT_NE(plan.status().message().find(c.error), std::string::npos) << plan.status().message();
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_EQ(plan->passes, c.passes) << plan->Dump();
    EXPECT_EQ(plan->reduced_dims, c.reduced_dims) << plan->Dump();
    ASSERT_EQ(plan->outputs.size(), c.per_element.size());
    for (size_t i = 0; i < c.per_element.size(); ++i) EXPECT_EQ(plan->outputs[i].per_element, c.per_element[i]);
    if (!c.dump_contains.empty())
      EXPECT_NE(plan->Dump().find(c.dump_contains), std::string::npos) << plan->Dump();
  }
}

TEST(CompilerLowering, EveryPassCanBeDumped) {
  auto graph = formula::Compile("out = softmax(x, -1)", {{"x", DType::kF32, RC()}}, {}, {"out"});
  ASSERT_TRUE(graph.ok());
  std::vector<std::string> passes;
  auto plan = LowerToPlan(*graph, "k", [&](const std::string& pass, const std::string& text) {
    passes.push_back(pass);
    EXPECT_NE(text.find("plan k"), std::string::npos);
  });
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(passes, (std::vector<std::string>{"domain", "decompose", "stabilize", "prune", "levels", "widen", "io"}));
}

// In-place outputs: accepted where every element is read before it is written
// and never after; otherwise refused with the reason.
struct InPlaceCase {
  std::string formula;
  std::vector<formula::InputDecl> inputs;
  std::vector<std::string> outputs;
  InPlaceOutputs inplace;
  std::string error;  // empty: lowers, and each output in `inplace` is marked
  ErrorCode code = ErrorCode::kUnsupported;
};

TEST(CompilerLowering, InPlaceOutputsAreMarkedOrRefused) {
  const SymShape R1 = {Dim::Symbol("R"), Dim::Fixed(1)};
  const std::vector<InPlaceCase> cases = {
      {"out = x + y", {{"x", DType::kF32, RC()}, {"y", DType::kF32, RC()}}, {"out"}, {{"out", "x"}}, ""},
      {"out = where(mask, v, x)", {{"x", DType::kF16, RC()}, {"mask", DType::kBool, RC()}}, {"out"}, {{"out", "x"}}, ""},
      // A row plan: the passes read the row before the output loop writes it.
      {"out = softmax(x, -1)", {{"x", DType::kF32, RC()}}, {"out"}, {{"out", "x"}}, ""},
      // A per-row output in a row plan: read at the row's start, written once at its end.
      {"out = x + sum(y, -1, keepdim=True)", {{"x", DType::kF32, R1}, {"y", DType::kF32, RC()}}, {"out"},
       {{"out", "x"}}, ""},
      // The epilogue input of a matmul, read only where it is written.
      {"out = r + x @ w", {{"x", DType::kF32, RC()}, {"w", DType::kF32, CN()}, {"r", DType::kF32, RN()}}, {"out"},
       {{"out", "r"}}, ""},
      {"out = x @ w", {{"x", DType::kF32, {Dim::Symbol("R"), Dim::Symbol("R")}}, {"w", DType::kF32, {Dim::Symbol("R"), Dim::Symbol("R")}}},
       {"out"}, {{"out", "x"}}, "a matmul operand"},
      {"out = x + y", {{"x", DType::kF32, C()}, {"y", DType::kF32, RC()}}, {"out"}, {{"out", "x"}},
       "has shape [R, C] and the input [C]"},
      {"out = x / 2", {{"x", DType::kI32, RC()}}, {"out"}, {{"out", "x"}}, "the output is f32 and the input i32"},
      // Elementwise with a per-row in-place output: other blocks of the row still read x.
      {"out = x * 2\nz = x + y", {{"x", DType::kF32, R1}, {"y", DType::kF32, RC()}}, {"out", "z"}, {{"out", "x"}},
       "one value per row of an elementwise kernel"},
      {"a = x + 1\nb = x + 2", {{"x", DType::kF32, RC()}}, {"a", "b"}, {{"a", "x"}, {"b", "x"}},
       "two outputs in one tensor"},
      {"out = x + y", {{"x", DType::kF32, RC()}, {"y", DType::kF32, RC()}}, {"out"}, {{"out", "q"}},
       "not an input of the formula", ErrorCode::kInvalidInput},
      {"out = x + y", {{"x", DType::kF32, RC()}, {"y", DType::kF32, RC()}}, {"out"}, {{"res", "x"}},
       "the formula has no such output", ErrorCode::kInvalidInput},
  };
  for (const InPlaceCase& c : cases) {
    SCOPED_TRACE(c.formula);
    std::vector<formula::AttrDecl> attrs;
    if (c.formula.find(", v,") != std::string::npos) attrs.push_back({"v", DType::kF32});
    auto graph = formula::Compile(c.formula, c.inputs, attrs, c.outputs);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto plan = LowerToPlan(*graph, "k", nullptr, c.inplace);
    if (!c.error.empty()) {
      ASSERT_FALSE(plan.ok()) << plan->Dump();
      EXPECT_EQ(plan.status().code(), c.code);
      EXPECT_NE(plan.status().message().find(c.error), std::string::npos) << plan.status().message();
      continue;
    }
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    EXPECT_TRUE(plan->HasInPlaceOutputs());
    for (const PlanOutput& o : plan->outputs) {
      auto it = c.inplace.find(o.name);
      if (it == c.inplace.end()) {
        EXPECT_EQ(o.inplace, -1) << o.name;
        continue;
      }
      ASSERT_GE(o.inplace, 0) << o.name;
      EXPECT_EQ(plan->inputs[o.inplace].name, it->second);
      EXPECT_NE(plan->Dump().find("in place into " + it->second), std::string::npos) << plan->Dump();
    }
  }
  // Without the declaration nothing is in place (outputs stay contiguous).
  auto graph = formula::Compile("out = x + y", {{"x", DType::kF32, RC()}, {"y", DType::kF32, RC()}}, {}, {"out"});
  ASSERT_TRUE(graph.ok());
  auto plan = LowerToPlan(*graph, "k");
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->HasInPlaceOutputs());
  EXPECT_EQ(plan->Dump().find("in place"), std::string::npos);
}

// log1p(exp(z)) and log(1 + exp(z)) become max(z, 0) + log1p(exp(-|z|)): no
// exp of a positive argument is left in the plan; other uses of exp stay.
TEST(CompilerLowering, SoftplusPatternsAreRewrittenStably) {
  struct Stable {
    std::string formula;
    bool rewritten;
  };
  const std::vector<Stable> cases = {
      {"out = mean(log1p(exp(-x * y)), -1)", true},  // soft_margin_loss, per row
      {"out = log1p(exp(x))", true},
      {"out = log(1 + exp(x))", true},
      {"out = log(exp(x) + 1.0)", true},
      {"out = log(2 + exp(x))", false},
      {"out = log1p(exp(x)) + exp(y)", true},
      {"out = log1p(x)", false},
  };
  for (const Stable& c : cases) {
    SCOPED_TRACE(c.formula);
    std::vector<formula::InputDecl> inputs = {{"x", DType::kF32, RC()}};
    if (c.formula.find('y') != std::string::npos) inputs.push_back({"y", DType::kF32, RC()});
    auto graph = formula::Compile(c.formula, inputs, {}, {"out"});
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto plan = LowerToPlan(*graph, "k");
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    const std::string dump = plan->Dump();
    bool stable_origin = false;
    for (const KNode& n : plan->nodes) stable_origin = stable_origin || n.origin.find("(stable)") != std::string::npos;
    // Every exp of the rewritten form takes -|z| (a neg of an abs).
    int exps = 0, stable_exps = 0, clamps = 0;
    for (const KNode& n : plan->nodes) {
      if (n.kind != KNode::Kind::kOp) continue;
      clamps += n.op == formula::Op::kClampMin;
      if (n.op != formula::Op::kExp) continue;
      ++exps;
      const KNode& arg = plan->nodes[n.operands[0]];
      stable_exps += arg.op == formula::Op::kNeg && plan->nodes[arg.operands[0]].op == formula::Op::kAbs;
    }
    if (c.rewritten) {
      EXPECT_GE(stable_exps, 1) << dump;
      EXPECT_EQ(clamps, 1) << dump;
      EXPECT_TRUE(stable_origin) << "the rewritten node's origin says so";
      // log1p(exp(x)) + exp(y): y's exp is untouched.
      EXPECT_EQ(exps - stable_exps, c.formula.find("exp(y)") != std::string::npos ? 1 : 0) << dump;
    } else {
      EXPECT_EQ(stable_exps, 0) << dump;
      EXPECT_EQ(clamps, 0) << dump;
    }
  }
}

}  // namespace
}  // namespace anvil::compiler
