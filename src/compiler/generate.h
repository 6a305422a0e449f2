// `anvil gen`'s engine: a task in, a verified and tuned kernel out.
//
//   lower   every dtype variant's formula graph to a KernelPlan (kernel_plan.h)
//   look up the tuning cache (store: kernel key, device, dtypes, shape bucket)
//   reuse   on a hit, the evaluation the cache names, when it is a finished,
//           correct (and, with performance shapes, timed) evaluation of
//           exactly the source printed now (content hash), of the same task
//           text, on the same device and thread count: the kernel is written
//           with a header built from it and nothing is built or run. On the
//           CPU no worker is started at all; a GPU's identity comes from the
//           worker's hello, so one is started (and nothing evaluated).
//   tune    print the kernel with each configuration of the backend's space
//           (emit.h; the default first) and evaluate each in the worker:
//           verified on every correctness case, then timed against the
//           baselines; the fastest correct one wins. A configuration that is
//           not correct is a compiler bug: generation stops and reports it.
//           With a cached configuration that could not be reused only that
//           one is evaluated, and the cache entry then names that evaluation.
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
  bool use_cache = true;    // look up and record the tuning cache; reuse its evaluation
  int threads = 1;          // the thread count evaluations run with; a stored timing with another is not reused
  // The candidate ABI headers' folder (holds anvil/fused_math.h): their text is
  // part of the kernel key of C++ targets, so a changed header is tuned and
  // verified again rather than reusing a verdict on the old one. Empty: not hashed.
  std::string include_dir;
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
  // The stored evaluation the kernel was reused from (0: evaluated in this
  // run; tried[0].report is then rebuilt from the store), and when it finished
  // (ISO-8601 UTC).
  int64_t reused_evaluation = 0;
  std::string reused_verified_at;
  std::string kernel_key;
  std::string source;             // the best kernel's source with its header (empty when none)
};

// "cached: verified in evaluation N on <date>; --no-cache to re-verify" for a
// reused result, "" otherwise: what gen tells its user.
std::string ReuseNote(const GenerateResult& g);

// Errors: the task cannot be lowered or printed (kUnsupported with the
// reason), or the environment failed. A kernel that is not correct is not
// an error: result.best stays -1 and tried[] holds the verdicts.
Result<GenerateResult> Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id,
                                const GenerateOptions& options);

}  // namespace anvil::compiler
