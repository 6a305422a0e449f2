// The view operators of tasks/aten110 (outputs declared `view_of`) end to
// end: the CPU kernels in examples/views/ return aliases of their input with
// ATen's strides and offset and verify as correct on every case through the
// real CLI; the harness refuses to time them. The cheating view kernels are
// in the exploit suite (tests/exploits/view_*.cpp).
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

TEST(ViewExamples, EveryCpuViewKernelVerifiesOnEveryCase) {
  CliWorkspace ws;
  for (const char* op : {"select", "t", "expand_as"}) {
    const std::string task = std::string("tasks/aten110/") + op + ".toml";
    CliRun run = ws.Run({"--json", "--no-progress", "verify", std::string("examples/views/") + op + ".cpp", "--task",
                         task});
    ASSERT_TRUE(run.json.is_object()) << op << ": no JSON (exit " << run.exit_code << ")\n" << run.output;
    EXPECT_EQ(run.exit_code, 0) << op << "\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << op << ": " << r.value("reason", "");
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << op;
    // Every dtype, shape and layout of the task: 6 dtypes x at least 6 shapes x 4 layouts.
    EXPECT_GE(r["cases_total"].get<int>(), 144) << op;
  }
}

// A view moves no data: bench refuses the task instead of timing a view.
TEST(ViewExamples, BenchSaysAViewIsNotTimed) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--no-progress", "bench", "examples/views/t.cpp", "--task", "tasks/aten110/t.toml"});
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("[performance]"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace anvil::testing
