// anvil gen on the GPU: the built-in compiler's CUDA and Triton kernels for a
// row reduction with two outputs and an elementwise gate, and its Triton
// matmul with a fused epilogue, verify on every case and are timed, through
// the real CLI; a second gen of the same formula reuses the stored evaluation. Skips without an NVIDIA GPU (and,
// for Triton, without `import triton`). The suite-wide GPU numbers come from
// bench/run_gen.sh, not from here.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

// Generates `formula_args` for `target` and expects a correct, timed kernel;
// with `again`, a second gen in the same workspace must reuse that evaluation.
void ExpectGenCorrect(const std::string& target, const std::vector<std::string>& formula_args,
                      const std::string& perf = "R=512, C=1024", bool again = false) {
  CliWorkspace ws;
  std::vector<std::string> args = {"--json", "--no-progress", "gen"};
  args.insert(args.end(), formula_args.begin(), formula_args.end());
  for (const std::string& a : {std::string("--target"), target, std::string("--no-tune"), std::string("--perf"), perf,
                               std::string("--out"), ws.dir() + "/kernel"})
    args.push_back(a);
  CliRun run = ws.Run(args, 900);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.json["result"]["verdict"], "correct") << run.json["result"].value("reason", "");
  EXPECT_GT(run.json["result"].value("speedup_compile", 0.0), 0) << "torch.compile was timed in the same run";
  if (!again) return;
  CliRun second = ws.Run(args, 900);
  ASSERT_TRUE(second.json.is_object()) << second.output;
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(second.json["reused_evaluation"], run.json["result"]["evaluation_id"]) << second.output;
  EXPECT_EQ(second.json["result"]["verdict"], "correct");
}

const std::vector<std::string> kLayerNorm = {
    "mu = mean(x, -1, keepdim=True)\nrstd = rsqrt(var(x, -1, keepdim=True, correction=0) + eps)\nout = (x - mu) * rstd * w",
    "-i", "x: f16[R, C]", "-i", "w: f16[C]", "-a", "eps: f32 = 1e-5", "--output", "out", "--output", "rstd"};
const std::vector<std::string> kGate = {"out = x * sigmoid(1.702 * x) * y", "-i", "x: bf16[R, C]", "-i", "y: bf16[C]"};
const std::vector<std::string> kLinearGelu = {"out = gelu(x @ w + b, approximate='tanh')", "-i", "x: f16[M, K]", "-i",
                                              "w: f16[K, N]", "-i", "b: f16[N]"};

TEST(GpuGen, CudaKernelsOfTheBuiltInCompilerVerify) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  ExpectGenCorrect("cuda", kLayerNorm);
  ExpectGenCorrect("cuda", kGate);
}

TEST(GpuGen, TritonKernelsOfTheBuiltInCompilerVerify) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  if (!TritonAvailable()) GTEST_SKIP() << "python3 -c 'import triton' failed: Triton test skipped";
  ExpectGenCorrect("triton", kLayerNorm);
  ExpectGenCorrect("triton", kGate, "R=512, C=1024", /*again=*/true);
  ExpectGenCorrect("triton", kLinearGelu, "M=512, K=256, N=384");
}

}  // namespace
}  // namespace anvil::testing
