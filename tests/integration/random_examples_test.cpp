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

// The terminal report of a statistically judged kernel names the tests it
// passed, not element errors that do not exist for it.
TEST(RandomExamples, TheTerminalReportSaysHowItWasJudged) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--no-progress", "verify", "examples/random/bernoulli.cpp", "--task", "tasks/aten110/bernoulli.toml"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("judged"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("statistical: each output tested against its distribution"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("worst err"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace anvil::testing
