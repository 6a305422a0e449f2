#include "suite/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <fmt/format.h>

namespace anvil::suite {
namespace {

using SpeedupOf = std::function<std::optional<double>(const CaseTiming&)>;

std::optional<double> TaskSpeedup(const TaskResult& t, const SpeedupOf& of) {
  std::vector<double> values;
  for (const CaseTiming& c : t.timings)
    if (auto s = of(c)) values.push_back(*s);
  return GeometricMean(values);
}

BaselineMetrics Baseline(const std::vector<TaskResult>& tasks, const SpeedupOf& of) {
  BaselineMetrics m;
  std::vector<double> per_task;
  for (const TaskResult& t : tasks) {
    if (t.status != TaskStatus::kCorrect) continue;
    if (auto s = TaskSpeedup(t, of)) per_task.push_back(*s);
  }
  m.timed_tasks = static_cast<int>(per_task.size());
  m.geomean_speedup = GeometricMean(per_task);
  const double n = static_cast<double>(tasks.size());
  for (double p : FastThresholds()) {
    int fast = 0;
    if (p == 0) {
      // fast_0: correct, whatever the speed (timed or not).
      for (const TaskResult& t : tasks) fast += t.status == TaskStatus::kCorrect;
    } else {
      for (double s : per_task) fast += s > p;
    }
    m.fast_p[p] = n > 0 ? fast / n : 0;
  }
  return m;
}

}  // namespace

const std::vector<double>& FastThresholds() {
  static const std::vector<double> kThresholds = {0, 0.8, 1.0, 1.5, 2.0};
  return kThresholds;
}

std::string FastName(double p) { return fmt::format("fast_{:g}", p); }

std::optional<double> GeometricMean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double log_sum = 0;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) return std::nullopt;
    log_sum += std::log(v);
  }
  return std::exp(log_sum / static_cast<double>(values.size()));
}

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::optional<double> TaskSpeedupEager(const TaskResult& t) {
  return TaskSpeedup(t, [](const CaseTiming& c) { return c.SpeedupEager(); });
}

std::optional<double> TaskSpeedupCompiled(const TaskResult& t) {
  return TaskSpeedup(t, [](const CaseTiming& c) { return c.SpeedupCompiled(); });
}

SuiteMetrics ComputeMetrics(const std::vector<TaskResult>& tasks) {
  SuiteMetrics m;
  m.tasks = static_cast<int>(tasks.size());
  int built = 0, correct = 0;
  std::vector<double> sol;
  for (const TaskResult& t : tasks) {
    m.by_status[TaskStatusName(t.status)]++;
    // A kernel that was judged (correct or not) compiled; a Triton kernel has no separate build step.
    built += t.status == TaskStatus::kCorrect || t.status == TaskStatus::kIncorrect;
    correct += t.status == TaskStatus::kCorrect;
    m.seconds += t.seconds;
    m.tokens += t.tokens;
    if (t.status != TaskStatus::kCorrect) continue;
    for (const CaseTiming& c : t.timings)
      if (auto f = c.SolFraction()) sol.push_back(*f);
  }
  if (m.tasks > 0) {
    m.build_rate = static_cast<double>(built) / m.tasks;
    m.correctness_rate = static_cast<double>(correct) / m.tasks;
  }
  m.eager = Baseline(tasks, [](const CaseTiming& c) { return c.SpeedupEager(); });
  m.compiled = Baseline(tasks, [](const CaseTiming& c) { return c.SpeedupCompiled(); });
  m.median_sol_fraction = Median(sol);
  return m;
}

std::map<std::string, SuiteMetrics> MetricsByDtype(const std::vector<TaskResult>& tasks) {
  std::set<std::string> dtypes;
  for (const TaskResult& t : tasks) dtypes.insert(t.dtypes.begin(), t.dtypes.end());
  std::map<std::string, SuiteMetrics> out;
  for (const std::string& d : dtypes) {
    std::vector<TaskResult> subset;
    for (const TaskResult& t : tasks) {
      if (std::find(t.dtypes.begin(), t.dtypes.end(), d) == t.dtypes.end()) continue;
      TaskResult only = t;
      only.timings.clear();
      for (const CaseTiming& c : t.timings)
        if (c.dtype == d) only.timings.push_back(c);
      subset.push_back(std::move(only));
    }
    out[d] = ComputeMetrics(subset);
  }
  return out;
}

nlohmann::json ToJson(const SuiteMetrics& m) {
  auto baseline = [](const BaselineMetrics& b) {
    nlohmann::json fast = nlohmann::json::object();
    for (const auto& [p, f] : b.fast_p) fast[FastName(p)] = f;
    nlohmann::json j = {{"fast_p", fast}, {"timed_tasks", b.timed_tasks}};
    j["geomean_speedup"] = b.geomean_speedup ? nlohmann::json(*b.geomean_speedup) : nlohmann::json();
    return j;
  };
  nlohmann::json j = {{"tasks", m.tasks},
                      {"by_status", m.by_status},
                      {"build_rate", m.build_rate},
                      {"correctness_rate", m.correctness_rate},
                      {"eager", baseline(m.eager)},
                      {"compiled", baseline(m.compiled)},
                      {"seconds", m.seconds},
                      {"tokens", m.tokens}};
  j["median_sol_fraction"] = m.median_sol_fraction ? nlohmann::json(*m.median_sol_fraction) : nlohmann::json();
  return j;
}

}  // namespace anvil::suite
