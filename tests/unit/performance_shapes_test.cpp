// A task's [performance] shapes replaced (anvil gen --perf) or scaled down
// (anvil suite run --perf-scale): the new text parses as the same task with
// only those shapes changed.
#include <gtest/gtest.h>

#include <fstream>

#include "store_test_util.h"
#include "task/performance_shapes.h"
#include "task/task_file.h"

namespace anvil {
namespace {

constexpr const char* kTask = R"(name = "scale_me"
formula = "out = x * 2"
[[inputs]]
name = "x"
dtype = "f32"
shape = ["R", "C"]
[[outputs]]
name = "out"
[correctness]
shapes = [{R = 3, C = 5}]
[performance]
shapes = [{R = 4096, C = 4097}, {R = 1, C = 8}]
warmup = 2
)";

TEST(PerformanceShapes, ScalingDividesEverySizeRoundingUp) {
  anvil::testing::ScratchDir dir;
  const std::string path = dir.File("task.toml");
  std::ofstream(path) << kTask;
  auto text = WithScaledPerformanceShapes(path, 4);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto task = ParseTask(*text, path);
  ASSERT_TRUE(task.ok()) << task.status().message() << "\n" << *text;
  ASSERT_EQ(task->performance.shapes.size(), 2u);
  EXPECT_EQ(task->performance.shapes[0].at("R"), 1024);
  EXPECT_EQ(task->performance.shapes[0].at("C"), 1025);  // 4097 / 4 rounded up
  EXPECT_EQ(task->performance.shapes[1].at("R"), 1);      // never below 1
  EXPECT_EQ(task->performance.shapes[1].at("C"), 2);
  EXPECT_EQ(task->performance.warmup, 2);                  // the rest of the table stays
  EXPECT_EQ(task->correctness.shapes[0].at("C"), 5);       // correctness cases untouched
  EXPECT_FALSE(WithScaledPerformanceShapes(path, 0).ok());
}

TEST(PerformanceShapes, ReplacingSetsExactlyTheGivenShapes) {
  anvil::testing::ScratchDir dir;
  const std::string path = dir.File("task.toml");
  std::ofstream(path) << kTask;
  auto text = WithPerformanceShapes(path, {Bindings{{"R", 64}, {"C", 128}}});
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto task = ParseTask(*text, path);
  ASSERT_TRUE(task.ok()) << task.status().message();
  ASSERT_EQ(task->performance.shapes.size(), 1u);
  EXPECT_EQ(task->performance.shapes[0].at("C"), 128);
  std::ofstream(dir.File("bad.toml")) << "name = \n";
  auto bad = WithPerformanceShapes(dir.File("bad.toml"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad.toml:1"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace anvil
