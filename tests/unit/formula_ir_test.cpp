// IR pieces: broadcasting, promotion, the catalog, ReductionLength and Verify.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "formula/formula.h"
#include "formula/infer.h"
#include "formula/op_catalog.h"

namespace anvil::formula {
namespace {

Dim Sym(const char* s) { return Dim::Symbol(s); }
Dim Fix(int64_t n) { return Dim::Fixed(n); }

TEST(FormulaBroadcast, SymbolsAndOnes) {
  auto r = Broadcast({Sym("B"), Fix(1), Sym("N")}, "'x'", {Sym("M"), Fix(1)}, "'y'");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ShapeToString(*r), "[B, M, N]");
  EXPECT_EQ(ShapeToString(*Broadcast({}, "a", {Sym("N")}, "b")), "[N]");
  EXPECT_EQ(Broadcast({Sym("B"), Sym("N")}, "'x'", {Sym("M")}, "'y'").status().message(),
            "cannot broadcast 'x' [B, N] with 'y' [M]: dim N vs M");
  // A symbol is never assumed to be 1.
  EXPECT_FALSE(Broadcast({Sym("N")}, "a", {Fix(4)}, "b").ok());
}

TEST(FormulaPromotion, TorchResultTypeTiers) {
  auto T = [](DType t) { return ValueType{t, {Sym("N")}, false}; };
  auto Z = [](DType t) { return ValueType{t, {}, false}; };
  auto W = [](DType t) { return ValueType{t, {}, true}; };
  EXPECT_EQ(PromoteOperands({T(DType::kF16), W(DType::kF64)}), DType::kF16);
  EXPECT_EQ(PromoteOperands({T(DType::kI32), W(DType::kF64)}), DType::kF32);
  EXPECT_EQ(PromoteOperands({T(DType::kBool), W(DType::kI64)}), DType::kI64);
  EXPECT_EQ(PromoteOperands({T(DType::kU8), W(DType::kI64)}), DType::kU8);
  EXPECT_EQ(PromoteOperands({T(DType::kF16), Z(DType::kF64)}), DType::kF16);
  EXPECT_EQ(PromoteOperands({T(DType::kI32), Z(DType::kF64)}), DType::kF64);
  EXPECT_EQ(PromoteOperands({T(DType::kI8), T(DType::kU8)}), DType::kI16);
  EXPECT_EQ(PromoteOperands({Z(DType::kI32), W(DType::kF32)}), DType::kF32);
  EXPECT_EQ(PromoteOperands({W(DType::kF32), W(DType::kI64)}), DType::kF64);  // Python numbers
  EXPECT_EQ(PromoteOperands({W(DType::kBool), W(DType::kI32)}), DType::kI64);
}

TEST(FormulaCatalog, NamesAreUniqueAndFindable) {
  std::set<std::string_view> seen;
  for (std::string_view n : CallableNames()) EXPECT_TRUE(seen.insert(n).second) << n;
  EXPECT_EQ(FindOp("subtract")->op, Op::kSub);
  EXPECT_EQ(FindOp("true_divide")->op, Op::kDiv);
  EXPECT_EQ(FindOp("softmax")->op, Op::kSoftmax);
  EXPECT_EQ(FindOp("input"), nullptr);  // leaves are not callable
  EXPECT_EQ(FindOp("sigmod"), nullptr);
  for (const OpInfo& info : Catalog()) {
    int tensors = 0;
    for (const ParamSpec& p : info.params) tensors += !p.name.empty() && p.type == ParamType::kTensor;
    EXPECT_EQ(tensors, info.arity) << info.name;
  }
}

TEST(FormulaCatalog, LanguageReferenceListsEveryFunction) {
  std::ifstream f(std::string(ANVIL_TEST_DATA_DIR) + "/../docs/formula.md");
  ASSERT_TRUE(f) << "docs/formula.md is missing";
  std::stringstream text;
  text << f.rdbuf();
  for (const OpInfo& info : Catalog())
    if (info.callable) EXPECT_NE(text.str().find("`" + std::string(info.name) + "`"), std::string::npos) << info.name;
}

Graph MustCompile(const std::string& src, std::vector<InputDecl> in, std::vector<std::string> outs = {"out"}) {
  auto g = Compile(src, in, {}, outs);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return g.ok() ? *g : Graph();
}

TEST(FormulaReductionLength, ProductsAlongChains) {
  std::vector<InputDecl> in = {{"x", DType::kF32, {Sym("B"), Sym("N"), Sym("K")}},
                               {"w", DType::kF32, {Sym("K"), Sym("M")}}};
  Graph h = MustCompile("m = x @ w\nout = softmax(m, 1)\nside = x.exp()\nall = x.mean()", in,
                        {"out", "side", "all"});
  Bindings b = {{"B", 2}, {"N", 3}, {"K", 5}, {"M", 7}};
  EXPECT_EQ(h.ReductionLength(0, b), 15);  // K through matmul, then N through softmax
  EXPECT_EQ(h.ReductionLength(1, b), 1);
  EXPECT_EQ(h.ReductionLength(2, b), 30);
  // An empty reduction does not zero the chain.
  EXPECT_EQ(h.ReductionLength(2, {{"B", 0}, {"N", 3}, {"K", 5}, {"M", 7}}), 1);
}

TEST(FormulaDump, ScalarsAndRankZeroTensorsDiffer) {
  Graph g = MustCompile("out = s + 2.0", {{"s", DType::kF32, {}}});
  EXPECT_EQ(g.Dump(), "%0: f32[] = input s\n%1: f64 = const 2.0\n%2: f32[] = add(%0, %1)\nout = %2\n");
}

TEST(FormulaVerify, AcceptsCompiledGraphsAndCatchesCorruption) {
  std::vector<InputDecl> in = {{"x", DType::kF32, {Sym("B"), Sym("N")}}};
  Graph g = MustCompile("out = exp(x).sum(-1)", in);
  ASSERT_TRUE(Verify(g).ok());

  // Rebuild the same graph by hand, then break one thing at a time.
  auto build = [&](auto mutate) {
    Graph h(in, {});
    std::vector<Node> nodes = g.nodes();
    mutate(nodes);
    for (Node& n : nodes) h.AddNode(n);
    h.AddOutput("out", static_cast<NodeId>(nodes.size() - 1));
    return Verify(h);
  };
  EXPECT_TRUE(build([](std::vector<Node>&) {}).ok());
  Status wrong_dtype = build([](std::vector<Node>& n) { n[1].dtype = DType::kF16; });
  EXPECT_EQ(wrong_dtype.code(), ErrorCode::kInternal);
  EXPECT_EQ(wrong_dtype.message(), "graph verification failed at %1: node says f16[B, N], its operands give f32[B, N]");
  EXPECT_FALSE(build([](std::vector<Node>& n) { n[2].operands = {2}; }).ok());  // uses itself
  EXPECT_FALSE(build([](std::vector<Node>& n) { n[2].dims = {2}; }).ok());      // dim out of range
  EXPECT_FALSE(build([](std::vector<Node>& n) { n[0].shape = {Sym("N")}; }).ok());
  EXPECT_FALSE(build([](std::vector<Node>& n) { n[1].operands = {0, 0}; }).ok());
  EXPECT_FALSE(build([](std::vector<Node>& n) { n[2].shape = {Sym("N")}; }).ok());
}

}  // namespace
}  // namespace anvil::formula
