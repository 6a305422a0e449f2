// Where a suite run's kernels come from. The runner is the same for every
// generator: it hands each task to a TaskGenerator, which produces a kernel
// and has it evaluated (verified on every correctness case, then timed) by
// the Evaluator it is given, and reports what came of it.
//
// Generators: the built-in compiler (suite/builtin_generator.h), kernels
// already on disk or in the store (suite/existing_kernel_generator.h), and
// the LLM agent (agent/, linked only into builds with libcurl).
//
// One generator object per job thread (GeneratorFactory); a generator needs
// not be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "orchestrator/evaluator.h"
#include "store/store.h"
#include "task/task.h"
#include "util/status.h"

namespace anvil::suite {

struct GeneratedKernel {
  // The evaluation of the kernel the generator settled on (bench mode when
  // the task has performance shapes). Empty when there is no kernel.
  std::optional<CandidateReport> report;
  std::string no_kernel_reason;  // why there is none (the generator refused the task, no file, ...)
  long long tokens = 0;          // LLM tokens spent
};

class TaskGenerator {
 public:
  virtual ~TaskGenerator() = default;
  // Errors are for the environment (worker, store, compiler missing): the
  // runner records the task as 'error' and a resumed run tries it again. A
  // kernel that is wrong, or no kernel at all, is a GeneratedKernel.
  virtual Result<GeneratedKernel> Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id) = 0;
};

// Makes the generator of job `job` (0-based).
using GeneratorFactory = std::function<std::unique_ptr<TaskGenerator>(int job)>;

}  // namespace anvil::suite
