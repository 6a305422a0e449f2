// Suite metrics (fast_p, geometric means over cases then tasks, per dtype),
// the suite run's JSON round trip, and `report compare`'s classification.
#include <gtest/gtest.h>

#include <cmath>

#include "suite/metrics.h"
#include "suite/run_comparison.h"
#include "suite/suite_result.h"

namespace anvil::suite {
namespace {

CaseTiming Timed(const std::string& dtype, double candidate_ns, double eager_ns, std::optional<double> compiled_ns = {}) {
  CaseTiming c;
  c.label = dtype + " N=1";
  c.dtype = dtype;
  c.candidate_ns = candidate_ns;
  c.eager_ns = eager_ns;
  c.compiled_ns = compiled_ns;
  return c;
}

TaskResult Task(const std::string& op, TaskStatus status, std::vector<CaseTiming> timings = {},
                std::vector<std::string> dtypes = {"f32"}) {
  TaskResult t;
  t.task = "s." + op;
  t.op = op;
  t.status = status;
  t.dtypes = std::move(dtypes);
  t.timings = std::move(timings);
  return t;
}

TEST(SuiteMetrics, FastPCountsEveryTaskAndNeedsCorrectness) {
  // Speedups: a = 2x, b = 0.9x, c = 1.2x; d wrong; e has no kernel.
  std::vector<TaskResult> tasks = {
      Task("a", TaskStatus::kCorrect, {Timed("f32", 100, 200)}),
      Task("b", TaskStatus::kCorrect, {Timed("f32", 100, 90)}),
      Task("c", TaskStatus::kCorrect, {Timed("f32", 100, 120)}),
      Task("d", TaskStatus::kIncorrect),
      Task("e", TaskStatus::kNoKernel),
  };
  SuiteMetrics m = ComputeMetrics(tasks);
  EXPECT_EQ(m.tasks, 5);
  EXPECT_DOUBLE_EQ(m.correctness_rate, 0.6);
  EXPECT_DOUBLE_EQ(m.build_rate, 0.8);  // a b c d were judged; e never built
  EXPECT_DOUBLE_EQ(m.eager.fast_p.at(0), 0.6);
  EXPECT_DOUBLE_EQ(m.eager.fast_p.at(0.8), 0.6);
  EXPECT_DOUBLE_EQ(m.eager.fast_p.at(1.0), 0.4);
  EXPECT_DOUBLE_EQ(m.eager.fast_p.at(1.5), 0.2);
  EXPECT_DOUBLE_EQ(m.eager.fast_p.at(2.0), 0.0);  // strictly greater than p
  ASSERT_TRUE(m.eager.geomean_speedup);
  EXPECT_NEAR(*m.eager.geomean_speedup, std::cbrt(2.0 * 0.9 * 1.2), 1e-12);
  EXPECT_EQ(m.by_status["correct"], 3);
  EXPECT_EQ(m.by_status["no_kernel"], 1);
  // No compiled timings at all: no geomean, fast_p above 0 is zero.
  EXPECT_FALSE(m.compiled.geomean_speedup);
  EXPECT_DOUBLE_EQ(m.compiled.fast_p.at(1.0), 0.0);
}

TEST(SuiteMetrics, GeomeanIsOverCasesThenOverTasks) {
  // Task a has three cases at 4x, task b one case at 1x: over cases then
  // tasks gives sqrt(4 * 1) = 2x; pooling all cases would give 4^(3/4).
  std::vector<TaskResult> tasks = {
      Task("a", TaskStatus::kCorrect, {Timed("f32", 1, 4), Timed("f32", 1, 4), Timed("f32", 1, 4)}),
      Task("b", TaskStatus::kCorrect, {Timed("f32", 1, 1)}),
  };
  SuiteMetrics m = ComputeMetrics(tasks);
  ASSERT_TRUE(m.eager.geomean_speedup);
  EXPECT_NEAR(*m.eager.geomean_speedup, 2.0, 1e-12);
}

TEST(SuiteMetrics, ByDtypeUsesOnlyThatDtypesCases) {
  std::vector<TaskResult> tasks = {
      Task("a", TaskStatus::kCorrect, {Timed("f32", 1, 2), Timed("f16", 1, 8)}, {"f32", "f16"}),
      Task("b", TaskStatus::kIncorrect, {}, {"f16"}),
  };
  auto by = MetricsByDtype(tasks);
  ASSERT_EQ(by.size(), 2u);
  EXPECT_EQ(by["f32"].tasks, 1);
  EXPECT_NEAR(*by["f32"].eager.geomean_speedup, 2.0, 1e-12);
  EXPECT_EQ(by["f16"].tasks, 2);
  EXPECT_DOUBLE_EQ(by["f16"].correctness_rate, 0.5);
  EXPECT_NEAR(*by["f16"].eager.geomean_speedup, 8.0, 1e-12);
}

TEST(SuiteMetrics, SpeedOfLightIsTheMedianOverCases) {
  TaskResult t = Task("a", TaskStatus::kCorrect, {Timed("f32", 100, 100), Timed("f32", 100, 100), Timed("f32", 100, 100)});
  t.timings[0].speed_of_light_ns = 50;  // 50%
  t.timings[1].speed_of_light_ns = 90;  // 90%
  t.timings[2].speed_of_light_ns = 20;  // 20%
  SuiteMetrics m = ComputeMetrics({t});
  ASSERT_TRUE(m.median_sol_fraction);
  EXPECT_NEAR(*m.median_sol_fraction, 0.5, 1e-12);
}

TEST(SuiteMetrics, GeometricMeanRefusesNonPositive) {
  EXPECT_FALSE(GeometricMean({}));
  EXPECT_FALSE(GeometricMean({1.0, 0.0}));
  EXPECT_NEAR(*GeometricMean({2.0, 8.0}), 4.0, 1e-12);
}

TEST(SuiteResult, JsonRoundTripKeepsEveryField) {
  SuiteRun run;
  run.id = 7;
  run.suite = "fused";
  run.target = "cpu";
  run.generator = "builtin";
  run.device = "cpu x2";
  run.software = "anvil 0.1";
  run.started_at = "2026-11-22T00:00:00.000Z";
  TaskResult t = Task("a", TaskStatus::kCorrect, {Timed("f16", 10, 20, 15)}, {"f16"});
  t.timings[0].speed_of_light_ns = 5;
  t.timings[0].min_bytes = 1e6;
  t.evaluation_id = 3;
  t.seconds = 1.5;
  t.tokens = 42;
  run.tasks = {t, Task("b", TaskStatus::kBuildFailed)};
  run.tasks[1].reason = "error: expected ';'";
  auto back = SuiteRunFromJson(nlohmann::json::parse(ToJson(run).dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ToJson(*back), ToJson(run));
  EXPECT_FALSE(back->tasks[0].timings[0].flops);
}

TEST(SuiteResult, MalformedJsonIsAProtocolError) {
  auto r = SuiteRunFromJson(nlohmann::json{{"id", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kProtocol);
  EXPECT_NE(r.status().message().find("suite"), std::string::npos);
  nlohmann::json bad = ToJson(SuiteRun{});
  bad["tasks"] = nlohmann::json::array({{{"task", "x"}, {"op", "x"}, {"dtypes", {"f32"}}, {"status", "great"},
                                         {"verdict", ""}, {"reason", ""}, {"evaluation_id", 0},
                                         {"timings", nlohmann::json::array()}, {"seconds", 0}, {"tokens", 0}}});
  r = SuiteRunFromJson(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("great"), std::string::npos);
}

TEST(RunComparison, ClassifiesEachTaskAndPutsRegressionsFirst) {
  SuiteRun a, b;
  a.id = 1;
  b.id = 2;
  a.tasks = {Task("fix", TaskStatus::kIncorrect), Task("break", TaskStatus::kCorrect, {Timed("f32", 1, 2)}),
             Task("fast", TaskStatus::kCorrect, {Timed("f32", 1, 2)}), Task("slow", TaskStatus::kCorrect, {Timed("f32", 1, 2)}),
             Task("noise", TaskStatus::kCorrect, {Timed("f32", 100, 200)}), Task("gone", TaskStatus::kCorrect)};
  b.tasks = {Task("fix", TaskStatus::kCorrect, {Timed("f32", 1, 1)}), Task("break", TaskStatus::kIncorrect),
             Task("fast", TaskStatus::kCorrect, {Timed("f32", 1, 3)}), Task("slow", TaskStatus::kCorrect, {Timed("f32", 1, 1)}),
             Task("noise", TaskStatus::kCorrect, {Timed("f32", 105, 200)}), Task("new", TaskStatus::kNoKernel)};
  RunComparison c = CompareRuns(a, b);
  std::map<std::string, std::string> change;
  for (const TaskChange& ch : c.changes) change[ch.op] = ch.change;
  EXPECT_EQ(change["fix"], "fixed");
  EXPECT_EQ(change["break"], "broke");
  EXPECT_EQ(change["fast"], "faster");
  EXPECT_EQ(change["slow"], "slower");
  EXPECT_EQ(change["noise"], "same");  // 5% is inside the 10% threshold
  EXPECT_EQ(change["gone"], "removed");
  EXPECT_EQ(change["new"], "added");
  EXPECT_EQ(c.changes.front().change, "broke");
  const std::string text = FormatComparison(c);
  EXPECT_NE(text.find("broke"), std::string::npos);
  EXPECT_EQ(text.find("noise"), std::string::npos);  // unchanged tasks are not listed
  EXPECT_EQ(ToJson(c)["changes"].size(), 7u);
}

}  // namespace
}  // namespace anvil::suite
