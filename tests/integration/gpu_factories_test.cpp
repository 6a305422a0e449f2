// Operators with no tensor input on the GPU: the module reference creates its
// output on the worker's CUDA device (the `device` keyword), so the CUDA and
// Triton arange kernels of examples/factories/ are judged against ATen's
// arange on the GPU on every case and timed against eager and torch.compile
// of the same module. Skips without an NVIDIA GPU.
#include <gtest/gtest.h>

#include <set>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

TEST(GpuFactories, CudaArangeVerifiesAndIsTimedAgainstEagerAndCompile) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "bench", "examples/factories/arange.cu", "--task",
                       "tasks/aten110/arange.toml", "--target", "cuda"},
                      900);
  ASSERT_TRUE(run.json.is_object()) << "no JSON (exit " << run.exit_code << ")\n" << run.output;
  const auto& r = run.json["results"][0];
  ASSERT_EQ(r["verdict"], "correct") << r.value("reason", "");
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);
  std::set<std::string> subjects;
  for (const auto& t : r["timings"]) {
    subjects.insert(t["subject"].get<std::string>());
    EXPECT_GT(t["median_ns"].get<double>(), 0) << t.dump();
  }
  EXPECT_TRUE(subjects.count("candidate") && subjects.count("eager")) << r["timings"].dump();
  EXPECT_TRUE(subjects.count("compile")) << "no torch.compile timing: " << r["timings"].dump();
}

TEST(GpuFactories, TritonArangeVerifiesOnEveryCase) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  if (!TritonAvailable()) GTEST_SKIP() << "python3 -c 'import triton' failed: Triton test skipped";
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "verify", "examples/factories/arange_triton.py", "--task",
                       "tasks/aten110/arange.toml", "--target", "triton"},
                      900);
  ASSERT_TRUE(run.json.is_object()) << "no JSON (exit " << run.exit_code << ")\n" << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "correct") << r.value("reason", "");
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);
}

}  // namespace
}  // namespace anvil::testing
