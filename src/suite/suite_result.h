// The outcome of one suite run, task by task: what the metrics, the reports
// and `report compare` read.
//
// A suite run takes every task of a suite through generate -> verify ->
// bench. Each task ends in one status; a correct task carries its timed
// performance cases. Values here are facts taken from the store's
// evaluations (speedups are eager median / candidate median of one case, as
// the evaluator timed them), never recomputed estimates.
//
// Plain values; JSON round trip for the report files (`anvil report --json`)
// and for comparing runs made by different anvil builds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace anvil::suite {

// How a task ended. Ordered from best to worst for reports.
enum class TaskStatus {
  kCorrect,      // a kernel was produced and verified correct
  kIncorrect,    // a kernel was produced, built, and judged not correct (wrong, crash, timeout, suspicious, ...)
  kBuildFailed,  // a kernel was produced and did not compile or link
  kNoKernel,     // the generator produced nothing (refused the task, budget spent, no file for --generator none)
  kError,        // the environment failed (worker could not start, store, ...): not the kernel's fault
  kPending,      // not finished (the run was interrupted before this task)
};

const char* TaskStatusName(TaskStatus status);  // "correct", "incorrect", "build_failed", "no_kernel", "error", "pending"
Result<TaskStatus> ParseTaskStatus(const std::string& name);

// One timed performance case of a correct kernel.
struct CaseTiming {
  std::string label;   // the case as the evaluator labels it ("f16 R=4096 C=4096")
  std::string dtype;   // the dtype variant's label ("f16")
  double candidate_ns = 0;
  std::optional<double> eager_ns, compiled_ns;
  // Speed-of-light time of the case on the device (roofline), when known.
  std::optional<double> speed_of_light_ns;
  // The least bytes moved and the matmul flops of the case (verify/roofline.h), when known.
  std::optional<double> min_bytes, flops;

  std::optional<double> SpeedupEager() const;     // eager_ns / candidate_ns
  std::optional<double> SpeedupCompiled() const;  // compiled_ns / candidate_ns
  std::optional<double> SolFraction() const;      // speed_of_light_ns / candidate_ns
};

struct TaskResult {
  std::string task;   // the task's name
  std::string op;     // the operator it measures (the name without a suite prefix such as "aten110.")
  std::vector<std::string> dtypes;  // the task's dtype variants ("f32", "f16", ...)
  TaskStatus status = TaskStatus::kPending;
  std::string verdict;  // the evaluation's verdict class when a kernel was evaluated
  std::string reason;   // why it is not correct / why there is no kernel / the error
  int64_t evaluation_id = 0;
  std::vector<CaseTiming> timings;  // empty when not timed
  double seconds = 0;               // wall time spent on the task (generation included)
  long long tokens = 0;             // LLM tokens spent on it (0 for the built-in compiler)
};

struct SuiteRun {
  int64_t id = 0;
  std::string suite, target, generator;
  std::string device;      // e.g. "NVIDIA H200 | torch 2.11.0" or the CPU's name
  std::string software;    // anvil and torch versions
  std::string started_at, finished_at;  // ISO-8601 UTC; finished_at "" while running
  std::vector<TaskResult> tasks;
};

nlohmann::json ToJson(const TaskResult& task);
// kProtocol for a document that is not a task result (missing field, wrong type).
Result<TaskResult> TaskResultFromJson(const nlohmann::json& j);
nlohmann::json ToJson(const SuiteRun& run);
// kProtocol for a document that is not a suite run (missing field, wrong type).
Result<SuiteRun> SuiteRunFromJson(const nlohmann::json& j);

}  // namespace anvil::suite
