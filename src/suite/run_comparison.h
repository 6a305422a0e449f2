// `anvil report compare A B`: what improved and what regressed between two
// suite runs, task by task and in the headline metrics.
//
// Tasks are matched by name. A task's change is one word:
//   fixed    not correct in A, correct in B
//   broke    correct in A, not correct in B
//   faster   correct in both, speedup over eager up by more than the threshold
//   slower   correct in both, down by more than the threshold
//   same     everything else present in both (incl. wrong in both)
//   added / removed   only in B / only in A
// The threshold (default 10%) keeps run-to-run timing noise from being
// reported as a change; it is stated in every report.
//
// Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "suite/metrics.h"
#include "suite/suite_result.h"

namespace anvil::suite {

struct TaskChange {
  std::string task, op, change;
  std::optional<TaskStatus> before, after;
  std::optional<double> speedup_before, speedup_after;  // over eager
};

struct RunComparison {
  int64_t before_id = 0, after_id = 0;
  double threshold = 0.10;
  SuiteMetrics before, after;
  std::vector<TaskChange> changes;  // every task of either run, regressions first
};

RunComparison CompareRuns(const SuiteRun& before, const SuiteRun& after, double threshold = 0.10);

// A terminal summary: headline metrics side by side, then the tasks that changed.
std::string FormatComparison(const RunComparison& c);
nlohmann::json ToJson(const RunComparison& c);

}  // namespace anvil::suite
