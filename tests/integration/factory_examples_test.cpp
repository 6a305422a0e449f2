// Operators with no tensor input (tasks/aten110 arange, full: "factories")
// end to end through the real CLI: the module reference learns the case's
// sizes, dtype and device from keyword arguments (module_reference.h), the
// candidate gets only its output and the attributes. The CPU kernels in
// examples/factories/ verify on every case; a kernel whose range starts one
// step late is wrong, with the mismatch printed whole.
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

TEST(FactoryExamples, EveryCpuFactoryKernelVerifiesOnEveryCase) {
  CliWorkspace ws;
  for (const char* op : {"arange", "full"}) {
    CliRun run = ws.Run({"--json", "--no-progress", "verify", std::string("examples/factories/") + op + ".cpp",
                         "--task", std::string("tasks/aten110/") + op + ".toml"});
    ASSERT_TRUE(run.json.is_object()) << op << ": no JSON (exit " << run.exit_code << ")\n" << run.output;
    EXPECT_EQ(run.exit_code, 0) << op << "\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << op << ": " << r.value("reason", "");
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << op;
    EXPECT_GE(r["cases_total"].get<int>(), 24) << op;  // every dtype x every size
  }
}

TEST(FactoryExamples, ARangeOneStepLateIsWrong) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--no-progress", "verify", "examples/factories/arange_off_by_one.cpp", "--task",
                       "tasks/aten110/arange.toml"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("WRONG"), std::string::npos) << run.output;
  // f32 N=1: ATen's -16777215, the kernel's -16777213 (start + 1 * step).
  EXPECT_NE(run.output.find("expected -16777215 got -16777213"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("exact (mode = \"exact\""), std::string::npos) << run.output;
}

}  // namespace
}  // namespace anvil::testing
