#include "suite/run_comparison.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "suite/number_format.h"

namespace anvil::suite {
namespace {

// Regressions first, then fixes and speed changes, then the rest.
int Order(const std::string& change) {
  static const std::map<std::string, int> kOrder = {{"broke", 0}, {"slower", 1}, {"removed", 2}, {"fixed", 3},
                                                    {"faster", 4}, {"added", 5},  {"same", 6}};
  auto it = kOrder.find(change);
  return it == kOrder.end() ? 7 : it->second;
}

}  // namespace

RunComparison CompareRuns(const SuiteRun& before, const SuiteRun& after, double threshold) {
  RunComparison c;
  c.before_id = before.id;
  c.after_id = after.id;
  c.threshold = threshold;
  c.before = ComputeMetrics(before.tasks);
  c.after = ComputeMetrics(after.tasks);
  std::map<std::string, const TaskResult*> in_after;
  for (const TaskResult& t : after.tasks) in_after[t.task] = &t;
  std::map<std::string, bool> seen;
  for (const TaskResult& a : before.tasks) {
    TaskChange ch{a.task, a.op, "", a.status, std::nullopt, TaskSpeedupEager(a), std::nullopt};
    auto it = in_after.find(a.task);
    if (it == in_after.end()) {
      ch.change = "removed";
    } else {
      const TaskResult& b = *it->second;
      seen[a.task] = true;
      ch.after = b.status;
      ch.speedup_after = TaskSpeedupEager(b);
      const bool was = a.status == TaskStatus::kCorrect, is = b.status == TaskStatus::kCorrect;
      if (!was && is) ch.change = "fixed";
      else if (was && !is) ch.change = "broke";
      else if (was && is && ch.speedup_before && ch.speedup_after && *ch.speedup_after > *ch.speedup_before * (1 + threshold))
        ch.change = "faster";
      else if (was && is && ch.speedup_before && ch.speedup_after && *ch.speedup_after < *ch.speedup_before / (1 + threshold))
        ch.change = "slower";
      else ch.change = "same";
    }
    c.changes.push_back(std::move(ch));
  }
  for (const TaskResult& b : after.tasks)
    if (!seen.count(b.task))
      c.changes.push_back({b.task, b.op, "added", std::nullopt, b.status, std::nullopt, TaskSpeedupEager(b)});
  std::stable_sort(c.changes.begin(), c.changes.end(),
                   [](const TaskChange& x, const TaskChange& y) { return Order(x.change) < Order(y.change); });
  return c;
}

std::string FormatComparison(const RunComparison& c) {
  std::ostringstream o;
  o << fmt::format("{:<28} {:>12} {:>12}\n", "", fmt::format("run {}", c.before_id), fmt::format("run {}", c.after_id));
  auto row = [&](const std::string& name, const std::string& a, const std::string& b) {
    o << fmt::format("{:<28} {:>12} {:>12}\n", name, a, b);
  };
  row("tasks", std::to_string(c.before.tasks), std::to_string(c.after.tasks));
  row("correct (fast_0)", FormatPercent(c.before.correctness_rate), FormatPercent(c.after.correctness_rate));
  row("built", FormatPercent(c.before.build_rate), FormatPercent(c.after.build_rate));
  for (double p : FastThresholds())
    if (p > 0) row(FastName(p) + " (eager)", FormatPercent(c.before.eager.fast_p.at(p)), FormatPercent(c.after.eager.fast_p.at(p)));
  row("geomean vs eager", FormatSpeedup(c.before.eager.geomean_speedup), FormatSpeedup(c.after.eager.geomean_speedup));
  row("geomean vs torch.compile", FormatSpeedup(c.before.compiled.geomean_speedup), FormatSpeedup(c.after.compiled.geomean_speedup));
  std::map<std::string, int> counts;
  for (const TaskChange& ch : c.changes) counts[ch.change]++;
  o << fmt::format("\nchanges (speed changes beyond ±{:.0f}%): ", 100 * c.threshold);
  bool first = true;
  for (const auto& [k, n] : counts) {
    o << (first ? "" : ", ") << k << " " << n;
    first = false;
  }
  o << "\n";
  for (const TaskChange& ch : c.changes) {
    if (ch.change == "same") continue;
    o << fmt::format("  {:<8} {:<32} {:>12} -> {:<12} {} -> {}\n", ch.change, ch.op,
                     ch.before ? TaskStatusName(*ch.before) : "-", ch.after ? TaskStatusName(*ch.after) : "-",
                     FormatSpeedup(ch.speedup_before), FormatSpeedup(ch.speedup_after));
  }
  return o.str();
}

nlohmann::json ToJson(const RunComparison& c) {
  nlohmann::json changes = nlohmann::json::array();
  for (const TaskChange& ch : c.changes) {
    nlohmann::json j = {{"task", ch.task}, {"op", ch.op}, {"change", ch.change}};
    j["before"] = ch.before ? nlohmann::json(TaskStatusName(*ch.before)) : nlohmann::json();
    j["after"] = ch.after ? nlohmann::json(TaskStatusName(*ch.after)) : nlohmann::json();
    j["speedup_before"] = ch.speedup_before ? nlohmann::json(*ch.speedup_before) : nlohmann::json();
    j["speedup_after"] = ch.speedup_after ? nlohmann::json(*ch.speedup_after) : nlohmann::json();
    changes.push_back(std::move(j));
  }
  return {{"before", c.before_id},
          {"after", c.after_id},
          {"threshold", c.threshold},
          {"metrics_before", ToJson(c.before)},
          {"metrics_after", ToJson(c.after)},
          {"changes", std::move(changes)}};
}

}  // namespace anvil::suite
