// `anvil import kernelbench` through the real CLI on the KernelBench-style
// problems in tests/data/kernelbench/ (KernelBench itself is not available
// offline), then `anvil verify` of a hand-written ReLU kernel against the
// imported ReLU task: the import gives tasks that work end to end. Also the
// label a model-written reference (reference_author) gets in show and reports.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

class ImportKernelBench : public ::testing::Test {
 protected:
  void SetUp() override {
    out_ = std::filesystem::temp_directory_path() / ("anvil-import-" + std::to_string(getpid()));
    std::filesystem::remove_all(out_);
  }
  void TearDown() override { std::filesystem::remove_all(out_); }
  CliRun Import(const CliWorkspace& ws, bool json) const {
    std::vector<std::string> args = {"--no-progress", "import", "kernelbench", "tests/data/kernelbench", "--as",
                                     "kbt", "--out", out_.string()};
    if (json) args.insert(args.begin(), "--json");
    return ws.Run(args);
  }
  nlohmann::json Problem(const nlohmann::json& report, const std::string& file_name) const {
    for (const auto& p : report["problems"])
      if (std::filesystem::path(p["file"].get<std::string>()).filename() == file_name) return p;
    return nullptr;
  }
  std::filesystem::path out_;
};

TEST_F(ImportKernelBench, ImportsTheProblemsRefusesWeightsAndTheReluTaskVerifies) {
  CliWorkspace ws;
  CliRun run = Import(ws, /*json=*/true);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.json["imported"], 4) << run.output;
  EXPECT_EQ(run.json["refused"], 1) << run.output;
  EXPECT_EQ(run.json["failed"], 0) << run.output;

  const nlohmann::json gemm = Problem(run.json, "99_Gemm_with_Linear.py");
  ASSERT_FALSE(gemm.is_null()) << run.output;
  EXPECT_EQ(gemm["status"], "refused");
  EXPECT_NE(gemm["reason"].get<std::string>().find("parameter linear.weight"), std::string::npos) << gemm;
  EXPECT_FALSE(std::filesystem::exists(out_ / "99_Gemm_with_Linear.toml"));

  const nlohmann::json relu = Problem(run.json, "19_ReLU.py");
  ASSERT_FALSE(relu.is_null()) << run.output;
  EXPECT_EQ(relu["status"], "imported");
  EXPECT_EQ(relu["task"], "kbt.19_relu");
  // The task names its module relative to itself, beside a copy of it.
  EXPECT_TRUE(std::filesystem::exists(out_ / "19_ReLU.py"));
  const std::string task_text = ReadTextFile((out_ / "19_ReLU.toml").string());
  EXPECT_NE(task_text.find("module = \"19_ReLU.py\""), std::string::npos) << task_text;
  EXPECT_NE(task_text.find("{batch_size = 16, dim = 16384}"), std::string::npos) << task_text;

  // Every imported task loads.
  CliRun list = ws.Run({"--json", "task", "list", out_.string()});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_EQ(list.json.size(), 4u) << list.output;

  CliRun verify = ws.Run({"--json", "--no-progress", "verify", "tests/data/kernelbench/kernels/relu.cpp", "--task",
                          (out_ / "19_ReLU.toml").string()});
  ASSERT_EQ(verify.exit_code, 0) << verify.output;
  const auto& r = verify.json["results"][0];
  EXPECT_EQ(r["verdict"], "correct") << r["reason"];
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);
  EXPECT_GE(r["cases_total"].get<int>(), 3 * 4);  // >= 3 shapes x 4 layouts
  EXPECT_FALSE(r.contains("reference_author"));   // people wrote this reference
}

TEST_F(ImportKernelBench, TheTerminalSaysWhatBecameOfEachFile) {
  CliWorkspace ws;
  CliRun run = Import(ws, /*json=*/false);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("imported  19_ReLU.py ->"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("refused   99_Gemm_with_Linear.py: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("4 of 5 problems imported"), std::string::npos) << run.output;
  // KernelBench order: by the problem's number.
  EXPECT_LT(run.output.find("2_Standard_matrix"), run.output.find("19_ReLU")) << run.output;
}

TEST_F(ImportKernelBench, AFolderWithoutProblemsIsAUsageError) {
  CliWorkspace ws;
  CliRun run = ws.Run({"import", "kernelbench", "tests/data/kernelbench/kernels", "--as", "kbt", "--out",
                       out_.string()});
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("holds no *.py problem files"), std::string::npos) << run.output;
}

// reference_author (set on tasks a model wrote from plain words) is said by
// `task show` and by every verify report, terminal and JSON.
TEST(ReferenceAuthor, AModelWrittenReferenceIsLabelledInShowAndReports) {
  const std::filesystem::path task =
      std::filesystem::temp_directory_path() / ("anvil-author-" + std::to_string(getpid()) + ".toml");
  std::ofstream(task) << "reference_author = \"model:deepseek-chat\"\n"
                      << ReadTextFile(SourcePath("examples/softmax/task.toml"));
  CliWorkspace ws;
  CliRun show = ws.Run({"task", "show", task.string()});
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_NE(show.output.find("reference written by model:deepseek-chat"), std::string::npos) << show.output;
  CliRun text = ws.Run({"--no-progress", "verify", "examples/softmax/kernel.cpp", "--task", task.string()});
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("written by model:deepseek-chat"), std::string::npos) << text.output;
  CliRun json = ws.Run({"--json", "--no-progress", "verify", "examples/softmax/kernel.cpp", "--task", task.string()});
  ASSERT_TRUE(json.json.is_object()) << json.output;
  EXPECT_EQ(json.json["results"][0]["reference_author"], "model:deepseek-chat") << json.output;
  std::filesystem::remove(task);
}

}  // namespace
}  // namespace anvil::testing
