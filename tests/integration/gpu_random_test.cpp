// The random operators on the GPU: examples/random/bernoulli.cu (cuRAND's
// Philox) and bernoulli_triton.py (tl.rand) verify statistically against
// tasks/aten110/bernoulli.toml, whose PyTorch sampler (torch.bernoulli on the
// GPU, seeded per case) is judged by the same test first. Skips without an
// NVIDIA GPU; the Triton kernel also needs `import triton`.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

TEST(GpuRandom, BernoulliKernelsVerifyStatistically) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  std::vector<std::pair<std::string, std::string>> kernels = {{"examples/random/bernoulli.cu", "cuda"}};
  if (TritonAvailable()) kernels.push_back({"examples/random/bernoulli_triton.py", "triton"});
  else std::cout << "[  SKIPPED ] the Triton kernel: python3 -c 'import triton' failed\n";
  CliWorkspace ws;
  for (const auto& [kernel, target] : kernels) {
    CliRun run = ws.Run({"--json", "--no-progress", "verify", kernel, "--task", "tasks/aten110/bernoulli.toml",
                         "--target", target},
                        900);
    ASSERT_TRUE(run.json.is_object()) << kernel << ": no JSON (exit " << run.exit_code << ")\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << kernel << ": " << r.value("reason", "");
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << kernel;
  }
}

}  // namespace
}  // namespace anvil::testing
