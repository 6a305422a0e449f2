// `anvil gen`'s engine: a task in, a verified and tuned kernel out.
//
//   lower   every dtype variant's formula graph to a KernelPlan (kernel_plan.h)
//   look up the tuning cache (store: kernel key, device, dtypes, shape bucket)
//   tune    print the kernel with each configuration of the backend's space
//           (emit.h; the default first) and evaluate each in the worker:
//           verified on every correctness case, then timed against the
//           baselines; the fastest correct one wins. A configuration that is
//           not correct is a compiler bug: generation stops and reports it.
//           With a cached configuration only that one is evaluated.
//   keep    the winner's source, with a header saying what it computes, how
//           it was verified and timed, on which device, with which parameters.
//
// Not thread-safe (drives one Evaluator).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "compiler/emit.h"
#include "compiler/kernel_plan.h"
#include "orchestrator/evaluator.h"
#include "store/store.h"
#include "task/task.h"

namespace anvil::compiler {

struct GenerateOptions {
  std::string target = "cpu";
  std::string work_dir;     // where each configuration's source is written
  bool tune = true;         // false: only the default configuration
  bool use_cache = true;    // look up and record the tuning cache
  DumpFn dump;              // lowering dumps (debug), may be null
  // One line per event ("tuning 2/3: block=2048 ..."), may be null.
  std::function<void(const std::string&)> log;
};

struct TriedConfig {
  KernelParams params;
  std::string path;
  CandidateReport report;
  double score_ns = 0;  // geometric mean of the candidate's medians over performance cases (0: not timed)
};

struct GenerateResult {
  std::vector<KernelPlan> plans;  // per dtype variant
  std::vector<TriedConfig> tried;
  int best = -1;                  // index into tried; -1 when none was correct
  bool from_cache = false;        // the configuration came from the tuning cache
  std::string kernel_key;
  std::string source;             // the best kernel's source with its header (empty when none)
};

// Errors: the task cannot be lowered or printed (kUnsupported with the
// reason), or the environment failed. A kernel that is not correct is not
// an error: result.best stays -1 and tried[] holds the verdicts.
Result<GenerateResult> Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id,
                                const GenerateOptions& options);

}  // namespace anvil::compiler
