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
  EXPECT_EQ(passes, (std::vector<std::string>{"domain", "decompose", "prune", "levels", "widen", "io"}));
}

}  // namespace
}  // namespace anvil::compiler
