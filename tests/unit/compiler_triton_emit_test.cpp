// Tests of the built-in compiler's Triton printer (compiler/emit_triton.cpp):
// formulas are compiled, lowered to one plan per dtype variant and printed;
// the printed file must parse as Python and pass the Triton candidate gate
// (python/anvil_worker/triton_gate.py, run with the system python3), and has
// the structure the printer promises. No GPU: running the printed kernels
// against the reference is the GPU suite's job. The Python checks skip with a
// line when no python3 is found.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "compiler/emit.h"
#include "compiler_test_formulas.h"
#include "compiler/kernel_plan.h"
#include "formula/formula.h"
#include "util/subprocess.h"

namespace anvil::compiler {
namespace {

using formula::AttrDecl;
using formula::InputDecl;

using testing::F;
using testing::Formula;
using testing::Has;
using testing::Lower;
using testing::S;

int Count(const std::string& text, const std::string& piece) {
  int n = 0;
  for (size_t pos = text.find(piece); pos != std::string::npos; pos = text.find(piece, pos + 1)) ++n;
  return n;
}

// Parses `path` with ast and runs the candidate gate over it; prints what fails.
constexpr const char* kCheckScript = R"(import ast, sys
sys.path.insert(0, sys.argv[1])
from anvil_worker import triton_gate
path = sys.argv[2]
src = open(path).read()
ast.parse(src, filename=path)
violations = triton_gate.check_source(src, filename=path)
if violations:
    print(triton_gate.format_violations(path, violations))
    sys.exit(1)
tree = ast.parse(src)
names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
if 'anvil_kernel' not in names:
    print('no top-level anvil_kernel')
    sys.exit(1)
print('gate ok')
)";

class TritonEmitTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Prints `f` for `dtypes` with `params`, checks the frame every file has and
  // runs the Python checks. Returns the source.
  std::string Print(const Formula& f, const std::vector<DType>& dtypes, const KernelParams& params = {}) {
    std::vector<KernelPlan> plans = Lower(f, dtypes);
    if (plans.size() != dtypes.size()) return "";
    auto source = EmitTriton(plans, params);
    EXPECT_TRUE(source.ok()) << f.name << ": " << source.status().message();
    if (!source.ok()) return "";
    const std::string& text = *source;
    EXPECT_EQ(text.rfind("# " + f.name + ":", 0), 0u) << text.substr(0, 200);
    EXPECT_TRUE(Has(text, "built-in compiler"));
    EXPECT_TRUE(Has(text, "\ndef anvil_kernel("));
    EXPECT_TRUE(Has(text, "raise TypeError("));
    EXPECT_EQ(Count(text, "@triton.jit\ndef _" + f.name + "_v"), static_cast<int>(dtypes.size()));
    EXPECT_TRUE(Has(text, "tl.program_id(0).to(tl.int64)"));
    for (size_t v = 0; v < dtypes.size(); ++v) EXPECT_TRUE(Has(text, "return _launch_v" + std::to_string(v) + "("));
    CheckPython(f.name, text);
    return text;
  }

  void CheckPython(const std::string& name, const std::string& text) {
    std::string python = IsExecutableFile("/usr/bin/python3") ? "/usr/bin/python3" : FindExecutable("python3");
    if (python.empty()) {
      std::printf("[  SKIPPED ] python3 not found: %s printed but not parsed\n", name.c_str());
      return;
    }
    if (dir_.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-triton-emit-XXXXXX").string();
      dir_ = mkdtemp(tmpl.data());
    }
    const std::string path = dir_ + "/" + name + ".py";
    std::ofstream(path) << text;
    const std::string python_dir = std::string(ANVIL_SOURCE_INCLUDE_DIR) + "/../python";
    auto r = RunProcess({python, "-c", kCheckScript, python_dir, path}, 60);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->exit_code, 0) << name << ":\n" << r->output << "\n----- source -----\n" << text;
    EXPECT_TRUE(Has(r->output, "gate ok")) << r->output;
  }

  std::string dir_;
};

const std::vector<DType> kFloats = {DType::kF32, DType::kF16, DType::kBF16};

TEST_F(TritonEmitTest, ElementwiseWithBroadcasting) {
  Formula f{"quick_gelu_gate", "out = x * sigmoid(1.702 * x) * y",
            {{"x", DType::kF32, {S("B"), S("N")}}, {"y", DType::kF32, {S("N")}}}, {}};
  const std::string text = Print(f, kFloats, {{"block", 2048}, {"warps", 8}});
  // A flat grid of BLOCK-wide chunks; no reduction loop.
  EXPECT_TRUE(Has(text, "_grid = (_rows * _nblk,)"));
  EXPECT_TRUE(Has(text, "_block = min(2048, "));
  EXPECT_TRUE(Has(text, "_warps = min(8, "));
  EXPECT_FALSE(Has(text, "for jc in range(0, L, BLOCK):"));
  // y lacks the domain's dim 0: no stride argument for it there; x has both.
  EXPECT_TRUE(Has(text, "x.stride(0), x.stride(1), y.stride(0)"));
  EXPECT_TRUE(Has(text, "base1 = r * 0"));
  // Loads convert to f32; stores round to the output dtype of each variant.
  EXPECT_TRUE(Has(text, ".to(tl.float16), mask=mask)"));
  EXPECT_TRUE(Has(text, ".to(tl.bfloat16), mask=mask)"));
  EXPECT_TRUE(Has(text, "tl.extra.cuda.libdevice.exp("));
  EXPECT_TRUE(Has(text, "x.dtype == torch.float16 and y.dtype == torch.float16"));
  // Unused or 0 and 1 sizes launch nothing.
  EXPECT_TRUE(Has(text, "if _rows == 0 or _L == 0:"));
}

TEST_F(TritonEmitTest, SoftmaxWithTemperature) {
  Formula f{"softmax_t", "out = softmax(x / t, -1)", {{"x", DType::kF32, {S("R"), S("C")}}},
            {{"t", DType::kF32}}};
  const std::string text = Print(f, kFloats);
  // Two reduction passes (max, then sum of exponentials) and a write loop.
  EXPECT_EQ(Count(text, "for jc in range(0, L, BLOCK):"), 3 * 3);
  EXPECT_TRUE(Has(text, "tl.max("));
  EXPECT_TRUE(Has(text, "tl.sum("));
  // NaN-propagating max: a NaN lane sticks, and the row value checks for one.
  EXPECT_TRUE(Has(text, "!= x"));
  EXPECT_TRUE(Has(text, "float('nan')"));
  // The temperature travels as the bits of a double.
  EXPECT_TRUE(Has(text, "_a0 = _f64_bits(float(t))"));
  EXPECT_TRUE(Has(text, ".to(tl.float64, bitcast=True)"));
  EXPECT_TRUE(Has(text, "def anvil_kernel(x, out, t):"));
  EXPECT_TRUE(Has(text, "_grid = (_rows,)"));
}

// A row plan recomputes its element values in every pass, so every pass must
// get the same bits: softmax(x / t) compares x / t with the row max in pass 0
// and subtracts the max from it in pass 1. With FMA contraction (Triton's
// default) or an approximate division the two could differ by an ulp, which
// for |x| near 2^63 is 2^40: exp(+-2^39) made whole rows 0/0 = NaN on the GPU
// (special inputs). The launch must disable contraction, and f32 division be
// the IEEE one.
TEST_F(TritonEmitTest, RowPassesRecomputeTheSameBits) {
  Formula f{"softmax_div", "out = softmax(x / t, -1)", {{"x", DType::kF32, {S("R"), S("C")}}},
            {{"t", DType::kF32}}};
  const std::string text = Print(f, {DType::kF32, DType::kBF16, DType::kF64});
  EXPECT_EQ(Count(text, "BLOCK=_block, num_warps=_warps, enable_fp_fusion=False)"), 3);
  EXPECT_EQ(Count(text, "]("), Count(text, "enable_fp_fusion=False)")) << "every launch";
  EXPECT_TRUE(Has(text, "def _anvil_div_rn(a, b):"));
  EXPECT_TRUE(Has(text, "tl.math.div_rn(a, b)"));
  // f32 and bf16: 3 passes x 2 divisions (x / t three times, exp / sum once) each; f64 divides with '/'.
  EXPECT_EQ(Count(text, "= _anvil_div_rn("), 2 * 4);
  EXPECT_TRUE(Has(text, "v2 = ((v0) / (v1))")) << "f64 keeps div.rn.f64";

  Formula scaled{"softmax_mul", "out = softmax(x * s, -1)", {{"x", DType::kF32, {S("R"), S("C")}}},
                 {{"s", DType::kF32}}};
  const std::string m = Print(scaled, {DType::kF32});
  EXPECT_TRUE(Has(m, "enable_fp_fusion=False)")) << "x * s - max must not become one fma";
  EXPECT_EQ(Count(m, "= _anvil_div_rn("), 1) << "one division: the final exp / sum (x * s is a product)";
}

TEST_F(TritonEmitTest, RmsNormWithWeight) {
  Formula f{"rmsnorm",
            "out = x * rsqrt(mean(x * x, -1, keepdim=True) + eps) * w",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"w", DType::kF32, {S("C")}}},
            {{"eps", DType::kF32}}};
  const std::string text = Print(f, kFloats, {{"block", 4096}, {"warps", 16}});
  EXPECT_EQ(Count(text, "for jc in range(0, L, BLOCK):"), 2 * 3);  // sum of squares, then the write
  EXPECT_TRUE(Has(text, "tl.extra.cuda.libdevice.rsqrt("));
  EXPECT_TRUE(Has(text, "w.stride(0)"));
  // The row length enters as a scalar (the mean's divisor).
  EXPECT_TRUE(Has(text, "(tl.full([], 0, tl.int64) + L)"));
}

TEST_F(TritonEmitTest, LayerNormWithTwoOutputs) {
  Formula f{"layer_norm_stats",
            "mu = mean(x, -1, keepdim=True)\n"
            "out = (x - mu) * rsqrt(var(x, -1, correction=0, keepdim=True) + eps)\n"
            "mean_out = mean(x, -1)",
            {{"x", DType::kF32, {S("R"), S("C")}}},
            {{"eps", DType::kF32}},
            {"out", "mean_out"}};
  const std::string text = Print(f, kFloats);
  EXPECT_TRUE(Has(text, "def anvil_kernel(x, out, mean_out, eps):"));
  // The element output is written at r * L + j, the row output once at r.
  EXPECT_TRUE(Has(text, "tl.store(out0_ptr + r * L + j, "));
  EXPECT_TRUE(Has(text, "tl.store(out1_ptr + r, "));
}

TEST_F(TritonEmitTest, LogsumexpAndVarRowOutputs) {
  Formula lse{"lse", "out = logsumexp(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  const std::string a = Print(lse, {DType::kF32, DType::kF64});
  EXPECT_TRUE(Has(a, "tl.extra.cuda.libdevice.log("));
  EXPECT_TRUE(Has(a, "x.dtype == torch.float64"));
  EXPECT_TRUE(Has(a, "tl.full([BLOCK], 0, tl.float64)")) << "f64 accumulates in f64";
  EXPECT_FALSE(Has(a, "r * L + j")) << "no element output";

  Formula var{"row_var", "out = var(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  const std::string b = Print(var, kFloats);
  EXPECT_TRUE(Has(b, "tl.store(out0_ptr + r, "));
}

TEST_F(TritonEmitTest, ReductionOverSeveralDimsUnravelsPositions) {
  Formula f{"sum_last2", "out = sum(x, [1, 2])", {{"x", DType::kF32, {S("A"), S("B"), S("C")}}}, {}};
  const std::string text = Print(f, {DType::kF32});
  EXPECT_TRUE(Has(text, "c2 = rem % D2"));
  EXPECT_TRUE(Has(text, "joff0 = c1 * s0_1 + c2 * s0_2"));
}

TEST_F(TritonEmitTest, ManyElementwiseOpsPassTheGate) {
  Formula f{"many_ops",
            "a = where(x > 0, gelu(x, approximate='tanh'), elu(x, 0.5)) + hardswish(x) + mish(y)\n"
            "b = clamp_min(x, 0.5) - maximum(x, y) * softplus(y, 2.0, 10.0) + remainder(x, y) + floor_divide(x, y)\n"
            "c = round(x) + sign(y) + pow(abs(x), 1.5) + erf(y) + leaky_relu(x) + hardtanh(y) + log1p(abs(y))\n"
            "out = a + b + c + to(isnan(x) | isinf(y), f32) + to(to(x, i32), f32) + to(x, f16)",
            {{"x", DType::kF32, {S("B"), S("N")}}, {"y", DType::kF32, {F(1), S("N")}}}, {}};
  const std::string text = Print(f, {DType::kF32, DType::kF16, DType::kF64});
  EXPECT_TRUE(Has(text, "propagate_nan=tl.PropagateNan.ALL"));
  EXPECT_TRUE(Has(text, "tl.extra.cuda.libdevice.rint("));
  EXPECT_TRUE(Has(text, "tl.extra.cuda.libdevice.fmod("));
  EXPECT_TRUE(Has(text, "tl.extra.cuda.libdevice.pow("));
  EXPECT_TRUE(Has(text, "tl.full([], 0.5, tl.float64)")) << "f64 constants keep every bit";
}

// A matmul with a fused epilogue: tiled tl.dot over K, the epilogue on the
// finished tile. f32 operands use IEEE products (PyTorch's f32 matmul does
// not use TF32) and half the K step (twice the shared memory per element).
TEST_F(TritonEmitTest, MatmulWithBiasAndGelu) {
  Formula f{"linear_gelu", "out = gelu(x @ w + b)",
            {{"x", DType::kF32, {S("M"), S("K")}}, {"w", DType::kF32, {S("K"), S("N")}}, {"b", DType::kF32, {S("N")}}},
            {}};
  const std::string text = Print(f, kFloats);
  EXPECT_EQ(Count(text, "acc = tl.dot(a, b, acc, input_precision=\"ieee\")"), 1) << text;
  EXPECT_EQ(Count(text, "acc = tl.dot(a, b, acc)"), 2) << text;
  EXPECT_EQ(Count(text, "BLOCK_K=32,"), 1) << text;
  EXPECT_EQ(Count(text, "BLOCK_K=64,"), 2) << text;
  // A and B through their own strides, masked at the edges of M, N and K.
  EXPECT_TRUE(Has(text, "a = tl.load(in0_ptr + rm[:, None] * s0_0 + kk[None, :] * s0_1, mask=(rm[:, None] < D0) & (kk[None, :] < KD), other=0)"));
  EXPECT_TRUE(Has(text, "b = tl.load(in1_ptr + kk[:, None] * s1_0 + rn[None, :] * s1_1, mask=(kk[:, None] < KD) & (rn[None, :] < D1), other=0)"));
  // The bias varies along N only; the epilogue reads the accumulator.
  EXPECT_TRUE(Has(text, "base2 = rm[:, None] * 0"));
  EXPECT_TRUE(Has(text, "joff2 = rn[None, :] * s2_1"));
  EXPECT_TRUE(Has(text, " = acc  # "));
  EXPECT_TRUE(Has(text, "tl.store(out0_ptr + rm[:, None] * L + rn[None, :], "));
  EXPECT_TRUE(Has(text, "if _d0 == 0 or _d1 == 0:"));
  EXPECT_TRUE(Has(text, "_k = x.shape[1]  # K"));
}

TEST_F(TritonEmitTest, MatmulSpaceAndRefusals) {
  Formula f{"scaled_mm", "out = r + alpha * (x @ w)",
            {{"x", DType::kF16, {S("M"), S("K")}}, {"w", DType::kF16, {S("K"), S("N")}}, {"r", DType::kF16, {S("M"), S("N")}}},
            {{"alpha", DType::kF32}}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF16});
  ASSERT_EQ(plans.size(), 1u);
  const std::vector<KernelParams> space = TritonSpace(plans);
  ASSERT_GE(space.size(), 3u);
  EXPECT_EQ(space[0].at("bm"), 128);
  for (const KernelParams& p : space) ASSERT_TRUE(EmitTriton(plans, p).ok()) << ParamsToString(p);
  auto bad = EmitTriton(plans, {{"block", 1024}});
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Has(bad.status().message(), "known: bm, bn, bk, warps, stages, group")) << bad.status().message();
  std::vector<KernelPlan> f64 = Lower(f, {DType::kF64});
  ASSERT_EQ(f64.size(), 1u);
  auto refused = EmitTriton(f64, {});
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Has(refused.status().message(), "f64 matmul")) << refused.status().message();
}

TEST_F(TritonEmitTest, SpaceDefaultFirstAndPruned) {
  Formula ew{"ew", "out = x + y", {{"x", DType::kF32, {S("N")}}, {"y", DType::kF32, {S("N")}}}, {}};
  std::vector<KernelParams> e = TritonSpace(Lower(ew, {DType::kF32}));
  ASSERT_FALSE(e.empty());
  EXPECT_EQ(e.front(), (KernelParams{{"block", 1024}, {"warps", 4}}));
  Formula sm{"sm", "out = softmax(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  std::vector<KernelParams> r = TritonSpace(Lower(sm, {DType::kF32}));
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r.front(), (KernelParams{{"block", 1024}, {"warps", 8}}));
  for (const KernelParams& p : r) {
    if (p.at("warps") == 16) {
      EXPECT_GE(p.at("block"), 2048);
    }
  }
  // Every configuration prints.
  for (const KernelParams& p : r) EXPECT_TRUE(EmitTriton(Lower(sm, {DType::kF32}), p).ok());
}

TEST_F(TritonEmitTest, UnsupportedOpIsUnsupported) {
  // Integer pow has no Triton rule: the printer refuses rather than print a float pow.
  Formula f{"ipow", "out = pow(x, y)", {{"x", DType::kI32, {S("N")}}, {"y", DType::kI32, {S("N")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kI32});
  ASSERT_EQ(plans.size(), 1u);
  auto source = EmitTriton(plans, {});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), ErrorCode::kUnsupported);
  EXPECT_TRUE(Has(source.status().message(), "pow")) << source.status().message();
}

// In-place outputs: their strides are kernel arguments taken from the output
// tensor (the input itself), in elementwise, row and matmul kernels.
TEST_F(TritonEmitTest, InPlaceOutputsAreStoredThroughTheirStrides) {
  Formula add{"masked_fill_inplace", "out = where(mask, value, x)",
              {{"x", DType::kF32, {S("R"), S("C")}}, {"mask", DType::kBool, {S("R"), S("C")}}},
              {{"value", DType::kF32}}};
  add.inplace = {{"out", "x"}};
  std::vector<KernelPlan> plans;
  for (DType t : kFloats) {
    auto graph = formula::Compile(add.source, {{"x", t, add.inputs[0].shape}, add.inputs[1]}, add.attrs, add.outputs);
    ASSERT_TRUE(graph.ok()) << graph.status().message();
    auto plan = LowerToPlan(*graph, add.name, nullptr, add.inplace);
    ASSERT_TRUE(plan.ok()) << plan.status().message();
    plans.push_back(*plan);
  }
  auto source = EmitTriton(plans, {});
  ASSERT_TRUE(source.ok()) << source.status().message();
  std::string text = *source;
  CheckPython(add.name, text);
  EXPECT_TRUE(Has(text, "os0_0, os0_1, a0, BLOCK: tl.constexpr")) << text;
  EXPECT_TRUE(Has(text, "obase0 = r0 * os0_0"));
  EXPECT_TRUE(Has(text, "joffo0 = j * os0_1"));
  EXPECT_TRUE(Has(text, "tl.store(out0_ptr + obase0 + joffo0, "));
  EXPECT_TRUE(Has(text, "out.stride(0), out.stride(1), _a0"));
  EXPECT_FALSE(Has(text, "out0_ptr + r * L + j"));

  Formula rows{"softmax_inplace", "out = softmax(x, -1)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  rows.inplace = {{"out", "x"}};
  text = Print(rows, {DType::kF32});
  EXPECT_TRUE(Has(text, "tl.store(out0_ptr + obase0 + joffo0, "));

  Formula mm{"addmm_inplace", "out = r + x @ w",
             {{"x", DType::kF16, {S("M"), S("K")}}, {"w", DType::kF16, {S("K"), S("N")}}, {"r", DType::kF16, {S("M"), S("N")}}},
             {}};
  mm.inplace = {{"out", "r"}};
  text = Print(mm, {DType::kF16});
  EXPECT_TRUE(Has(text, "tl.store(out0_ptr + rm[:, None] * os0_0 + rn[None, :] * os0_1, "));
  EXPECT_TRUE(Has(text, "out.stride(0), out.stride(1), BLOCK_M=")) << text;
}

TEST_F(TritonEmitTest, SoftMarginLossPrintsTheStableForm) {
  Formula f{"soft_margin_loss", "out = mean(log1p(exp(-x * y)))",
            {{"x", DType::kF32, {S("R"), S("C")}}, {"y", DType::kF32, {S("R"), S("C")}}}, {}};
  const std::string text = Print(f, kFloats);
  EXPECT_TRUE(Has(text, "tl.maximum(")) << text;
  EXPECT_TRUE(Has(text, "(stable)")) << text;
}

TEST_F(TritonEmitTest, BadParametersAreInvalidInput) {
  Formula f{"ew2", "out = x * 2", {{"x", DType::kF32, {S("N")}}}, {}};
  std::vector<KernelPlan> plans = Lower(f, {DType::kF32});
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(EmitTriton(plans, {{"block", 1000}}).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(EmitTriton(plans, {{"threads", 256}}).status().code(), ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace anvil::compiler
