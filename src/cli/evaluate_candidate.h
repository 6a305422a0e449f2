// Evaluating candidate files against a task, as `anvil verify|bench` and the
// MCP tools verify|bench (src/mcp/) both do it: the checks on target and file
// kinds, loading the task, one store run per request, one Evaluator call per
// candidate, the run finished as ok or failed.
//
// Split in two so each caller keeps what it owns: PrepareEvaluation touches
// nothing on disk (a bad request leaves no workspace behind), and
// RunEvaluation takes the Store and the Evaluator from the caller, so the CLI
// makes them for one command while the MCP server keeps them (and the
// Evaluator's live worker) across calls.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/config.h"
#include "orchestrator/evaluator.h"
#include "store/store.h"
#include "task/task.h"
#include "util/status.h"

namespace anvil::cli {

struct EvaluationJob {
  std::string task_path;
  std::vector<std::string> candidates;  // source files, each of the kind the target takes
  std::string target = "cpu";           // cpu | cuda | triton
  EvalMode mode = EvalMode::kVerify;
  std::string provenance = "file";      // stored with each candidate: file, agent (MCP), ...
  std::string via = "cli";              // who asked ("cli", "mcp"): recorded in the run's arguments
};

// A checked job and its loaded task.
struct PreparedEvaluation {
  EvaluationJob job;
  Task task;
};

// The file extension a target's candidates use first (".cpp", ".cu", ".py");
// "" for an unknown target.
std::string CandidateExtension(const std::string& target);

// Checks the target, each candidate's file kind and the sanitizer setting of
// `config`, loads the task, and for bench requires performance shapes.
// Errors are kInvalidInput / kNotFound with a message naming the fix.
Result<PreparedEvaluation> PrepareEvaluation(const CliConfig& config, const EvaluationJob& job);

struct EvaluationOutcome {
  int64_t run_id = 0;
  std::vector<CandidateReport> reports;  // one per candidate, in order
  bool all_correct = true;
};

// Records a run (command "verify" or "bench"), evaluates every candidate with
// `evaluator` (whose options must match the job's target and mode), and
// finishes the run. `before_each(candidate)` and `after_each(report)` may be
// null; the CLI uses them for its progress label and to print each report as
// it finishes. An error (not the candidate's fault: store, worker, compiler
// missing) finishes the run as failed and names the candidate.
Result<EvaluationOutcome> RunEvaluation(Store& store, Evaluator& evaluator, const CliConfig& config,
                                        const PreparedEvaluation& prepared,
                                        const std::function<void(const std::string&)>& before_each = nullptr,
                                        const std::function<void(const CandidateReport&)>& after_each = nullptr);

}  // namespace anvil::cli
