// The random operators of tasks/aten110 (mode = "statistical") end to end:
// the CPU kernels in examples/random/ verify as correct on every case through
// the real CLI, which also judges PyTorch's own sampler against each task's
// distribution first (a wrong task would fail them all). The wrong random
// kernels are in the exploit suite (tests/exploits/*_bernoulli.cpp).
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

TEST(RandomExamples, EveryCpuKernelVerifiesStatistically) {
  CliWorkspace ws;
  for (const char* op : {"bernoulli", "exponential_", "poisson", "rrelu_with_noise_training"}) {
    const std::string task = std::string("tasks/aten110/") + op + ".toml";
    CliRun run = ws.Run({"--json", "--no-progress", "verify", std::string("examples/random/") + op + ".cpp", "--task",
                         task});
    ASSERT_TRUE(run.json.is_object()) << op << ": no JSON (exit " << run.exit_code << ")\n" << run.output;
    EXPECT_EQ(run.exit_code, 0) << op << "\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << op << ": " << r.value("reason", "");
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << op;
    EXPECT_GE(r["cases_total"].get<int>(), 63) << op;
  }
}

}  // namespace
}  // namespace anvil::testing
