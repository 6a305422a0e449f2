// `anvil suite run`: every task of a suite through generate -> verify ->
// bench, over several workers, surviving crashes and resumable.
//
// Scheduling: `jobs` threads take the next unfinished task in suite order.
// Each job has its own Store connection and its own Evaluator, i.e. its own
// anvil-worker process; on the GPU job i sees only GPU i
// (CUDA_VISIBLE_DEVICES), so jobs never share a device. On the CPU the
// machine's threads are split between jobs (timings then run concurrently:
// use one job for numbers you publish).
//
// Durability: the suite run and each finished task are rows in the store,
// written the moment the task finishes (store table suite_tasks). A killed
// runner loses at most the tasks in flight; `--resume ID` runs only the
// tasks without a final row ('error' rows are retried). A candidate that
// crashes or hangs is the evaluator's business (a fresh worker, a verdict);
// an exception or environment error while handling one task marks that task
// 'error' and the job goes on with the next.
//
// Cancellation (`cancel`, raised on Ctrl-C): no task is started any more, and
// the tasks in flight stop within about a second (their evaluators kill
// their workers; a compiler already running finishes first). A task stopped
// that way gets no row: it stays 'pending', like the tasks not reached, and
// `--resume ID` runs it again. The run is recorded 'interrupted'.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "orchestrator/evaluator.h"
#include "suite/suite_result.h"
#include "suite/task_generator.h"

namespace anvil::suite {

struct SuiteRunOptions {
  std::string suite;                     // its name, for the record
  std::vector<std::string> task_files;   // in run order
  std::string target = "cpu";
  std::string generator;                 // its name, for the record: builtin | none | llm
  int jobs = 1;
  int64_t resume_id = 0;                 // 0: a new suite run
  std::string store_path;
  EvaluatorOptions evaluator;            // mode is chosen per task (bench when it has performance shapes)
  bool verify_only = false;              // correctness only: no task is timed
  int64_t perf_divisor = 1;              // every performance size divided by this (task/performance_shapes.h)
  std::string command_args_json = "{}";  // the CLI arguments, for the runs table
};

struct SuiteProgress {
  int done = 0, total = 0;
  int correct = 0, failed = 0;  // failed: every finished task that is not correct
  std::string task;             // the task that just started or finished
  bool finished = false;        // false: `task` started
  TaskResult result;            // when finished
};

// Returns the suite run as recorded (tasks in suite order; those not reached
// or stopped in flight stay 'pending' when cancelled). `cancel` may be null;
// it is read from every job thread and must outlive the call. Errors: the
// store cannot be opened or written, or --resume names a run that does not
// exist or was another suite or target.
Result<SuiteRun> RunSuite(const SuiteRunOptions& options, const GeneratorFactory& generators,
                          const std::function<void(const SuiteProgress&)>& progress,
                          const std::atomic<bool>* cancel = nullptr);

// The suite run `id` as recorded: tasks in the order they were recorded, with
// every task of the run that has no row yet as 'pending'.
Result<SuiteRun> LoadSuiteRun(Store& store, int64_t id);

}  // namespace anvil::suite
