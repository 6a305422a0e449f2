// anvil gen of a matmul with a fused epilogue, end to end on the CPU: the
// blocked kernel is verified on every case (edge sizes, K = 0, transposed
// and strided operands, special values) and the file it writes verifies
// again as an ordinary candidate. Backends that do not generate matmuls say
// where they are served instead.
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

TEST(GenMatmul, ALinearLayerWithBiasAndReluBecomesAVerifiedCpuKernel) {
  CliWorkspace ws;
  const std::string kernel = ws.dir() + "/linear_relu.cpp";
  const std::string task = ws.dir() + "/linear_relu.toml";
  CliRun run = ws.Run({"--json", "--no-progress", "gen", "out = relu(x @ w + b)", "-i", "x: f32[M, K]", "-i",
                       "w: f32[K, N]", "-i", "b: f32[N]", "--perf", "M=64, K=96, N=80", "--no-tune", "--out", kernel,
                       "--save-task", task});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.json["result"]["verdict"], "correct");
  EXPECT_EQ(run.json["result"]["cases_passed"], run.json["result"]["cases_total"]);
  EXPECT_NE(run.json["plan"].get<std::string>().find("matmul operand A [M, K]"), std::string::npos) << run.json["plan"];
  const std::string source = ReadTextFile(kernel);
  EXPECT_NE(source.find("[M, K] @ [K, N] with the epilogue fused"), std::string::npos);
  EXPECT_NE(source.find("Plan: a blocked matmul"), std::string::npos) << source.substr(0, 1500);
  CliRun again = ws.Run({"--json", "--no-progress", "verify", kernel, "--task", task});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.json["results"][0]["verdict"], "correct");
}

TEST(GenMatmul, HalfPrecisionOperandsWithAResidualAndAnAttribute) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "gen", "out = r + alpha * (x @ w)", "-i", "x: bf16[M, K]", "-i",
                       "w: bf16[K, N]", "-i", "r: bf16[M, N]", "-a", "alpha: f32 = 0.5", "--perf", "M=32, K=64, N=48",
                       "--no-tune", "--out", ws.dir() + "/res.cpp"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.json["result"]["verdict"], "correct");
  EXPECT_EQ(run.json["result"]["cases_passed"], run.json["result"]["cases_total"]);
}

TEST(GenMatmul, TheCudaPrinterPointsToTheTargetsThatServeMatmuls) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--no-progress", "gen", "out = relu(x @ w)", "-i", "x: f16[M, K]", "-i", "w: f16[K, N]",
                       "--target", "cuda"});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--target triton"), std::string::npos) << run.output;
  CliRun batched = ws.Run({"--no-progress", "gen", "out = x @ w", "-i", "x: f32[B, M, K]", "-i", "w: f32[K, N]"});
  EXPECT_EQ(batched.exit_code, 2) << batched.output;
  EXPECT_NE(batched.output.find("flatten batch dims into M"), std::string::npos) << batched.output;
}

}  // namespace
}  // namespace anvil::testing
