// Triton-specific behaviour of GPU workers, through the real CLI. Skips
// without an NVIDIA GPU or without Triton.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

// Triton compiles a kernel on its first launch per specialisation, for
// seconds (here: 8 autotuned configurations per shape). The worker sends
// heartbeats while Triton compiles, so a one-second case timeout still lets
// the candidate verify; without them the first case is a timeout.
TEST(GpuTriton, ACompileLongerThanTheCaseTimeoutIsNotAHang) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  if (!TritonAvailable()) GTEST_SKIP() << "python3 -c 'import triton' failed: Triton test skipped";
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "--timeout", "1", "verify", "tests/gpu_candidates/autotuned_scale_triton.py",
                       "--task", "tests/gpu_exploits/task_scale.toml", "--target", "triton"},
                      900);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "correct") << r.value("reason", "");
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);
}

// The other side of the same rule: a Triton kernel that never returns is
// still a timeout while compiles are covered by heartbeats.
TEST(GpuTriton, AHangingKernelIsStillATimeout) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  if (!TritonAvailable()) GTEST_SKIP() << "python3 -c 'import triton' failed: Triton test skipped";
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "--timeout", "5", "verify", "tests/gpu_exploits/hang_triton.py",
                       "--task", "tests/gpu_exploits/task_scale.toml", "--target", "triton"},
                      900);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.json["results"][0]["verdict"], "timeout") << run.json["results"][0].value("reason", "");
}

}  // namespace
}  // namespace anvil::testing
