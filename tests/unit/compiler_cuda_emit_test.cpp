// Tests of the built-in compiler's CUDA printer (compiler/emit_cuda.cpp):
// formulas are compiled, lowered to one plan per dtype variant, printed, and
// the .cu is built with nvcc exactly as a candidate is (backend/cuda). They
// need nvcc but no GPU, and the builds skip with a line when nvcc is absent;
// running the printed kernels against the reference is the GPU suite's job.
// About seven nvcc runs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backend/cuda/cuda_build.h"
#include "compiler/emit.h"
#include "compiler_test_formulas.h"
#include "compiler/kernel_plan.h"
#include "formula/formula.h"

namespace anvil::compiler {
namespace {

using formula::AttrDecl;
using formula::InputDecl;

using testing::F;
using testing::Formula;
using testing::Has;
using testing::Lower;
using testing::S;

// The text between the first `from` and the next `to` after it ("" if absent).
std::string Between(const std::string& text, const std::string& from, const std::string& to) {
  const size_t a = text.find(from);
  if (a == std::string::npos) return "";
  const size_t b = text.find(to, a + from.size());
  return b == std::string::npos ? "" : text.substr(a, b - a);
}

class CudaEmitTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Prints `f` for `dtypes` with `params`, checks the text's frame and builds
  // it with nvcc (skipped without nvcc). Returns the source.
  std::string PrintAndBuild(const Formula& f, const std::vector<DType>& dtypes, const KernelParams& params = {}) {
    std::vector<KernelPlan> plans = Lower(f, dtypes);
    if (plans.size() != dtypes.size()) return "";
    auto source = EmitCuda(plans, params);
    EXPECT_TRUE(source.ok()) << f.name << ": " << source.status().message();
    if (!source.ok()) return "";
    const std::string& text = *source;
    EXPECT_EQ(text.rfind("// " + f.name + " (CUDA)", 0), 0u) << text.substr(0, 200);
    EXPECT_TRUE(Has(text, "built-in compiler"));
    EXPECT_TRUE(Has(text, "extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call)"));
    EXPECT_TRUE(Has(text, "ANVIL_ERROR_UNSUPPORTED"));
    EXPECT_TRUE(Has(text, "cudaGetLastError()"));
    EXPECT_TRUE(Has(text, "anvil::StreamOf(call)"));
    for (size_t v = 0; v < dtypes.size(); ++v) EXPECT_TRUE(Has(text, "v" + std::to_string(v) + "::Run(call)"));
    Build(f.name, text);
    return text;
  }

  void Build(const std::string& name, const std::string& text) {
    auto nvcc = FindNvcc("");
    if (!nvcc.ok()) {
      std::printf("[  SKIPPED ] nvcc not found: %s printed but not compiled\n", name.c_str());
      return;
    }
    if (dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-cuda-emit-XXXXXX").string();
      dir_ = mkdtemp(tmpl.data());
    }
    const std::string path = dir_ + "/" + name + ".cu";
    std::ofstream(path) << text;
    CudaBuildOptions options;
    options.nvcc = *nvcc;
    options.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
    options.cache_dir = dir_ + "/cache";
    options.arch = "sm_90a";
    auto r = BuildCudaCandidate(path, options);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_TRUE(r->ok) << name << ":\n" << r->log << "\n----- source -----\n" << text;
    EXPECT_TRUE(r->forbidden_imports.empty());
  }

  std::string dir_;
};

const std::vector<DType> kFloats = {DType::kF32, DType::kF16, DType::kBF16};

TEST_F(CudaEmitTest, ElementwiseWithBroadcasting) {
  Formula f{"quick_gelu_gate", "out = x * sigmoid(1.702 * x) * y",
            {{"x", DType::kF32, {S("B"), S("N")}}, {"y", DType::kF32, {S("N")}}}, {}};
  const std::string text = PrintAndBuild(f, kFloats);
  // A grid-stride loop with the dense fast path, kItems elements per thread
  // (the default 4); no block reduction is launched.
  EXPECT_TRUE(Has(text, "template <bool kDense>"));
  EXPECT_TRUE(Has(text, "constexpr int kItems = 4;"));
  EXPECT_TRUE(Has(text, "for (int u = 0; u < kItems; ++u)"));
  EXPECT_TRUE(Has(text, "anvil::CeilDiv(total, kThreads * kItems)"));
  EXPECT_TRUE(Has(text, "quick_gelu_gate_kernel<true>"));
  EXPECT_TRUE(Has(text, "a.stride[1][0] = 0;")) << "y lacks dim 0 of the domain";
  EXPECT_FALSE(Has(text, "BlockReduce(acc"));
}

// The dense path of a plain elementwise kernel reads and writes at the flat
// index: no division by the row length (r and j are not needed).
TEST_F(CudaEmitTest, DenseElementwiseNeedsNoDivision) {
  Formula f{"swiglu", "out = silu(a) * b", {{"a", DType::kF32, {S("R"), S("C")}}, {"b", DType::kF32, {S("R"), S("C")}}},
            {}};
  const std::string text = PrintAndBuild(f, {DType::kF16}, {{"items", 8}});
  EXPECT_TRUE(Has(text, "constexpr int kItems = 8;"));
  const std::string dense = Between(text, "if constexpr (kDense) {", "} else {");
  ASSERT_FALSE(dense.empty()) << text;
  EXPECT_TRUE(Has(dense, "= e;")) << dense;
  EXPECT_FALSE(Has(dense, "/ a.iter_length")) << dense;
  // The strided path still unravels (into the row and the position).
  EXPECT_TRUE(Has(text, "e / a.iter_length"));
}

// An elementwise plan with a row output and a row input: the dense path needs
// the row (for y and for the row output) and guards element loads of empty rows.
TEST_F(CudaEmitTest, ElementwiseWithRowInputAndRowOutput) {
  Formula f{"row_scale",
            "out = x * y\n"
            "y2 = y * 2.0",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"y", DType::kF32, {S("R"), F(1)}}},
            {},
            {"out", "y2"}};
  const std::string text = PrintAndBuild(f, {DType::kF32, DType::kF16});
  const std::string dense = Between(text, "if constexpr (kDense) {", "} else {");
  ASSERT_FALSE(dense.empty()) << text;
  EXPECT_TRUE(Has(dense, "const int64_t rb1 = r;")) << dense;
  EXPECT_TRUE(Has(dense, "if (j < L) {")) << dense;
  EXPECT_TRUE(Has(text, "if (j == 0) {"));
  EXPECT_TRUE(Has(text, "a.out1[r] ="));
}

TEST_F(CudaEmitTest, SoftmaxWithTemperature) {
  Formula f{"softmax_t", "out = softmax(x / t, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {{"t", DType::kF32}}};
  const std::string text = PrintAndBuild(f, kFloats, {{"threads", 1024}});
  EXPECT_TRUE(Has(text, "constexpr int kThreads = 1024;"));
  // Rows up to 1024 * 4 are read once into registers; longer ones stream.
  EXPECT_TRUE(Has(text, "constexpr int kMaxRowItems = 4;"));
  EXPECT_TRUE(Has(text, "template <int kRowItems>"));
  EXPECT_TRUE(Has(text, "softmax_t_regs_kernel<4><<<"));
  EXPECT_TRUE(Has(text, "softmax_t_kernel<<<"));
  EXPECT_TRUE(Has(text, "anvil::FindAttr(call, \"t\")"));
  EXPECT_TRUE(Has(text, "BlockReduce(acc"));
}

TEST_F(CudaEmitTest, RmsNormWithWeight) {
  Formula f{"rmsnorm", "out = x * rsqrt(mean(x * x, -1, keepdim=True) + eps) * w",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"w", DType::kF32, {S("C")}}}, {{"eps", DType::kF32}}};
  const std::string text = PrintAndBuild(f, kFloats, {{"threads", 128}, {"items", 2}});
  EXPECT_TRUE(Has(text, "constexpr int kMaxRowItems = 16;"));
  EXPECT_TRUE(Has(text, "rmsnorm_regs_kernel<kMaxRowItems><<<"));
  // Every pass of the register variant reads the row's registers, not memory:
  // x (and w) are loaded in one place per kernel variant.
  const std::string regs = Between(text, "template <int kRowItems>", "// One block per row (grid-stride over rows), for rows");
  ASSERT_FALSE(regs.empty());
  size_t loads = 0;
  for (size_t at = regs.find("a.in0["); at != std::string::npos; at = regs.find("a.in0[", at + 1)) ++loads;
  EXPECT_EQ(loads, 1u) << regs;
}

TEST_F(CudaEmitTest, LayerNormWithRowMeanOutput) {
  Formula f{"layernorm_mu",
            "mu = mean(x, -1, keepdim=True)\n"
            "out = (x - mu) * rsqrt(var(x, -1, keepdim=True, correction=0) + 1e-5) * w + b",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"w", DType::kF32, {S("C")}}, {"b", DType::kF32, {S("C")}}},
            {},
            {"out", "mu"}};
  const std::string text = PrintAndBuild(f, {DType::kF32, DType::kBF16});
  EXPECT_TRUE(Has(text, "if (threadIdx.x == 0)")) << "mu is written once per row";
  EXPECT_TRUE(Has(text, "a.out1[r] ="));
}

TEST_F(CudaEmitTest, LogSumExpOverThreeDims) {
  // Reduces the last two dims of a rank-3 domain: positions unravel over two dims.
  Formula f{"lse", "out = logsumexp(x, (1, 2))", {{"x", DType::kF32, {S("B"), S("H"), S("C")}}}, {}};
  PrintAndBuild(f, {DType::kF32, DType::kF64});
}

TEST_F(CudaEmitTest, Variance) {
  Formula f{"row_var", "out = var(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  PrintAndBuild(f, {DType::kF32, DType::kF64, DType::kF16});
}

TEST(CudaEmit, SpaceListsThreadsAndItemsDefaultFirst) {
  KernelPlan elementwise;
  elementwise.passes = 0;
  KernelPlan rows;
  rows.passes = 2;
  const std::vector<KernelParams> e = CudaSpace({elementwise});
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].at("threads"), 256);
  EXPECT_EQ(e[0].at("items"), 4);
  EXPECT_EQ(e[3].at("items"), 1);
  EXPECT_EQ(e[4].at("items"), 8);
  const std::vector<KernelParams> r = CudaSpace({rows});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].at("threads"), 256);
  EXPECT_EQ(r[0].at("items"), 4);
  EXPECT_EQ(r[0].at("row_regs"), 0) << "the streaming row kernel is the default";
  EXPECT_EQ(r[3].at("threads"), 1024);
  EXPECT_EQ(r[4].at("row_regs"), 1);
}

TEST(CudaEmit, BadParamsAreInvalidInput) {
  Formula f{"scale", "out = x * 2.0", {{"x", DType::kF32, {S("N")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF32});
  ASSERT_EQ(plans.size(), 1u);
  for (const KernelParams& bad : {KernelParams{{"threads", 100}}, KernelParams{{"threads", 2048}},
                                  KernelParams{{"block", 256}}, KernelParams{{"items", 3}},
                                  KernelParams{{"items", 0}}, KernelParams{{"items", 32}},
                                  KernelParams{{"row_regs", 2}}}) {
    auto r = EmitCuda(plans, bad);
    ASSERT_FALSE(r.ok()) << bad.begin()->first << "=" << bad.begin()->second;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput) << r.status().message();
  }
  EXPECT_EQ(EmitCuda({}, {}).status().code(), ErrorCode::kInvalidInput);
}

// An input the plan treats as one value per call cannot be read on the host
// (its data lives on the GPU): the printer refuses rather than print a wrong kernel.
TEST(CudaEmit, ScalarLevelInputIsUnsupported) {
  Formula f{"scale", "out = x * 2.0", {{"x", DType::kF32, {S("N")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF32});
  ASSERT_EQ(plans.size(), 1u);
  bool changed = false;
  for (KNode& n : plans[0].nodes)
    if (n.kind == KNode::Kind::kInput) n.level = Level::kScalar, changed = true;
  ASSERT_TRUE(changed);
  auto r = EmitCuda(plans, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported) << r.status().message();
  EXPECT_TRUE(Has(r.status().message(), "input x")) << r.status().message();
}

// An in-place output (add_, masked_fill_) is stored through its own strides,
// passed in Args; the dense path needs them dense too, and contiguous outputs
// of the same file keep the flat index.
TEST_F(CudaEmitTest, InPlaceElementwiseOutputUsesItsStrides) {
  Formula f{"add_inplace", "out = x + y\ncopy = y * 2",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"y", DType::kF32, {S("R"), S("C")}}}, {}, {"out", "copy"}};
  f.inplace = {{"out", "x"}};
  const std::string text = PrintAndBuild(f, kFloats);
  EXPECT_TRUE(Has(text, "int64_t out_stride[2][2];"));
  EXPECT_TRUE(Has(text, "a.out_stride[0][1] = anvil::Stride(out[0], 1);"));
  EXPECT_FALSE(Has(text, "a.out_stride[1]")) << "the contiguous output needs no strides";
  EXPECT_TRUE(Has(text, "if (a.size[d] != 1 && a.out_stride[0][d] != expected) dense = false;"));
  EXPECT_TRUE(Has(text, "if constexpr (!kDense) {"));
  EXPECT_TRUE(Has(text, "oo0 += c1 * a.out_stride[0][1];"));
  EXPECT_TRUE(Has(text, "a.out0[oo0] ="));
  EXPECT_TRUE(Has(text, "a.out1[e] ="));
}

// In place in a row plan (softmax_ over the last dim, and over the last two):
// row bases from the output's strides, positions along the row axis too.
TEST_F(CudaEmitTest, InPlaceRowPlanOutputUsesItsStrides) {
  Formula f{"softmax_inplace", "out = softmax(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  f.inplace = {{"out", "x"}};
  std::string text = PrintAndBuild(f, {DType::kF32, DType::kBF16});
  EXPECT_TRUE(Has(text, "ob0 += c0 * a.out_stride[0][0];"));
  EXPECT_TRUE(Has(text, "a.out0[ob0 + j * a.out_stride[0][1]] ="));
  EXPECT_FALSE(Has(text, "a.out0[r * L + j]"));
  Formula g{"center_inplace", "out = x - mean(x, (-2, -1), keepdim=True)",
            {{"x", DType::kF32, {S("B"), S("H"), S("W")}}}, {}};
  g.inplace = {{"out", "x"}};
  text = PrintAndBuild(g, {DType::kF32});
  EXPECT_TRUE(Has(text, "int64_t oo0 = ob0;"));
  EXPECT_TRUE(Has(text, "oo0 += c2 * a.out_stride[0][2];"));
  EXPECT_TRUE(Has(text, "a.out0[oo0] ="));
}

// soft_margin_loss: the printed kernel takes exp of -|z| only.
TEST_F(CudaEmitTest, SoftMarginLossPrintsTheStableForm) {
  Formula f{"soft_margin_loss", "out = mean(log1p(exp(-x * y)))",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"y", DType::kF32, {S("R"), S("C")}}}, {}};
  const std::string text = PrintAndBuild(f, kFloats);
  EXPECT_TRUE(Has(text, "anvil::fm::Maximum<float>(")) << text;
  EXPECT_TRUE(Has(text, "(stable)")) << text;
  EXPECT_TRUE(Has(text, "709.78")) << "past ln(DBL_MAX) f64 exp overflows: inf, as the reference";
}

// Matmuls are generated for Triton and the CPU; the CUDA printer says so.
TEST(CudaEmit, MatmulIsRefusedWithWhereItIsServed) {
  Formula f{"mm", "out = relu(x @ w)", {{"x", DType::kF16, {S("M"), S("K")}}, {"w", DType::kF16, {S("K"), S("N")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF16});
  ASSERT_EQ(plans.size(), 1u);
  auto r = EmitCuda(plans, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Has(r.status().message(), "--target triton")) << r.status().message();
}

// A plan that uses a value before computing it is our bug, reported as such
// instead of as an nvcc error in printed code.
TEST(CudaEmit, BrokenPlanIsInternal) {
  Formula f{"row_sum", "out = sum(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF32});
  ASSERT_EQ(plans.size(), 1u);
  ASSERT_GT(plans[0].passes, 0);
  for (KNode& n : plans[0].nodes)
    if (n.kind == KNode::Kind::kReduce) n.pass = plans[0].passes;  // a pass that never runs
  auto r = EmitCuda(plans, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInternal) << r.status().message();
}

}  // namespace
}  // namespace anvil::compiler
