// Suite metrics: the numbers that make a run comparable with the field.
//
// Definitions (the same as the public kernel-generation benchmarks use, so
// that numbers mean what readers expect):
//   build rate        tasks whose kernel compiled / all tasks
//   correctness rate  tasks with a correct kernel / all tasks
//   fast_p            tasks with a correct kernel whose speedup over the
//                     baseline is > p / all tasks. fast_0 is the correctness
//                     rate; a task that is wrong, missing or pending counts as
//                     not fast. A task's speedup is the geometric mean over
//                     its timed cases.
//   geomean speedup   over correct, timed kernels only: the geometric mean over
//                     a task's cases, then over tasks ("over cases, then over
//                     ops"), so an op with many cases does not weigh more.
//   speed of light    per case, speed-of-light time / candidate time (1.0 =
//                     at the device's measured limit); the median over cases.
// Each speedup is computed separately against eager and against
// torch.compile (where the compiled baseline was timed).
//
// Pure functions over SuiteRun; no I/O.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "suite/suite_result.h"

namespace anvil::suite {

// The p of fast_p, in the order reports show them.
const std::vector<double>& FastThresholds();  // {0, 0.8, 1.0, 1.5, 2.0}
std::string FastName(double p);               // "fast_0", "fast_0.8", "fast_1", "fast_1.5", "fast_2"

// Geometric mean of the values; nullopt for none (or any value <= 0).
std::optional<double> GeometricMean(const std::vector<double>& values);
std::optional<double> Median(std::vector<double> values);

struct BaselineMetrics {
  std::map<double, double> fast_p;         // p -> fraction of all tasks
  std::optional<double> geomean_speedup;   // over correct timed tasks
  int timed_tasks = 0;                     // correct tasks with at least one timing against this baseline
};

struct SuiteMetrics {
  int tasks = 0;
  std::map<std::string, int> by_status;    // status name -> count
  double build_rate = 0;                   // fraction of all tasks
  double correctness_rate = 0;
  BaselineMetrics eager, compiled;
  std::optional<double> median_sol_fraction;  // over every timed case with a speed of light
  double seconds = 0;                      // sum over tasks
  long long tokens = 0;
};

// A task's speedup: the geometric mean over its cases against one baseline.
std::optional<double> TaskSpeedupEager(const TaskResult& t);
std::optional<double> TaskSpeedupCompiled(const TaskResult& t);

SuiteMetrics ComputeMetrics(const std::vector<TaskResult>& tasks);

// Per dtype variant: the metrics over the tasks that have that variant, each
// correct task contributing only its cases of that variant (a task that is
// not correct counts as not correct in each of its variants).
std::map<std::string, SuiteMetrics> MetricsByDtype(const std::vector<TaskResult>& tasks);

nlohmann::json ToJson(const SuiteMetrics& m);

}  // namespace anvil::suite
