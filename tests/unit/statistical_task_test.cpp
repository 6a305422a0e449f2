// Task files of random operators (mode = "statistical"): what loads, and the
// message each mistake gets.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "task/task_file.h"

namespace anvil {
namespace {

class StatisticalTask : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("anvil-stat-task-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "ref.py") << "import torch\nclass Model(torch.nn.Module):\n"
                                      "    def forward(self, x, lower, upper, seed):\n        return x\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The task with `out_extra` appended to the output table and `compare` as
  // the [compare] table.
  Result<Task> Load(const std::string& out_extra, const std::string& compare,
                    const std::string& seed_dtype = "i64") {
    std::string text = R"(name = "t"
[reference]
module = "ref.py"
[types]
T = ["f32", "bf16"]
[[inputs]]
name = "x"
dtype = "T"
shape = ["N"]
[[attrs]]
name = "lower"
dtype = "f64"
value = 0.125
[[attrs]]
name = "upper"
dtype = "f64"
value = 0.25
[[attrs]]
name = "seed"
dtype = ")" + seed_dtype + R"("
value = 0
[[outputs]]
name = "out"
dtype = "T"
shape = ["N"]
)" + out_extra + R"(
[correctness]
shapes = [{N = 5}]
)" + compare;
    std::ofstream(dir_ / "t.toml") << text;
    return LoadTaskFile((dir_ / "t.toml").string());
  }

  std::filesystem::path dir_;
};

constexpr const char* kStatistical = "[compare]\nmode = \"statistical\"\nseed = \"seed\"\n";

TEST_F(StatisticalTask, LoadsDistributionsWithNumberInputAndFormulaParameters) {
  auto t = Load(R"t(distribution = "uniform(where(x <= 0, lower, 1), where(x <= 0, upper, 1))")t", kStatistical);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->compare.mode, CompareMode::kStatistical);
  EXPECT_EQ(t->compare.seed_attr, "seed");
  ASSERT_TRUE(t->outputs[0].distribution);
  EXPECT_EQ(t->outputs[0].distribution->kind, DistributionKind::kUniform);
  EXPECT_EQ(t->outputs[0].distribution->params[1], "where(x <= 0, upper, 1)");
  for (const char* d : {"bernoulli(0.5)", "exponential(upper)", "normal(x, 2)", "poisson(lower)"})
    EXPECT_TRUE(Load(std::string("distribution = \"") + d + "\"", kStatistical).ok()) << d;
}

TEST_F(StatisticalTask, RejectsMistakesWithAMessageThatSaysWhatToWrite) {
  auto expect_error = [&](const Result<Task>& t, const std::string& words) {
    ASSERT_FALSE(t.ok()) << "should not load (" << words << ")";
    EXPECT_NE(t.status().message().find(words), std::string::npos) << t.status().message();
  };
  expect_error(Load(R"t(distribution = "gamma(x)")t", kStatistical), "unknown distribution 'gamma'");
  expect_error(Load(R"t(distribution = "uniform(x)")t", kStatistical), "uniform takes 2 parameters (low, high), not 1");
  expect_error(Load(R"t(distribution = "bernoulli(p)")t", kStatistical), "is not a number, an input or attribute name");
  expect_error(Load("", kStatistical), "needs distribution = ");
  expect_error(Load(R"t(distribution = "bernoulli(x)")t", "[compare]\nmode = \"statistical\"\n"),
               "names its seed attribute");
  expect_error(Load(R"t(distribution = "bernoulli(x)")t", "[compare]\nmode = \"statistical\"\nseed = \"s\"\n"),
               "names no attribute");
  expect_error(Load(R"t(distribution = "bernoulli(x)")t", kStatistical, "f32"), "must be an integer");
  expect_error(Load(R"t(distribution = "bernoulli(x)")t", "[compare]\nmode = \"allclose\"\n"),
               "only a task with [compare] mode = \"statistical\" uses");
  expect_error(Load(R"t(distribution = "bernoulli(x)")t", "[compare]\nmode = \"exact\"\nseed = \"seed\"\n"),
               "seed names the random seed attribute of a statistical task");
}

}  // namespace
}  // namespace anvil
