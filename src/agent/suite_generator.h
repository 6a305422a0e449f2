// `anvil suite run SUITE --generator llm`: the agent loop (agent/conductor.h)
// as a suite generator (suite/task_generator.h).
//
// Per task: one agent session, recorded like `anvil gen --llm --task FILE`
// (agent/session_start.h) but under the suite run's runs row, with the
// per-task budgets of LlmSuiteGeneratorOptions::conductor (rounds, tokens,
// wall time). The session evaluates through the Evaluator the runner hands
// over (bench mode when the task has performance shapes), so the task's
// result is the evaluation of the session's best kernel, and its tokens are
// the session's input + output tokens.
//
// Outcomes, and why:
//   a correct candidate             the best one's report (also when the
//                                   session was then cancelled or ran out)
//   none correct (exhausted)        no kernel, reason "<status>: <stop_reason>"
//   cancelled before a correct one  an error (kCancelled): the runner
//                                   records nothing, the task stays
//                                   'pending' and `--resume` runs it;
//                                   'no_kernel' is final and would make
//                                   Ctrl-C lose the task for good. An
//                                   evaluation cut short by Ctrl-C ends the
//                                   session with the same error.
//   failed (every LLM call of a     an error (kUnavailable): the provider is
//     round failed)                 the environment, like a worker that cannot
//                                   start: `anvil gen --llm` exits 3 for it,
//                                   and a provider outage in the middle of a
//                                   suite must not turn every remaining task
//                                   into a final 'no_kernel' that --resume
//                                   skips. The runner goes on with the next
//                                   task (it does not stop the run: the outage
//                                   may be brief).
//   RunSession's own errors         passed on (worker, store)
//
// Ownership and threading: one generator per job thread (the suite's
// GeneratorFactory); each has its own provider, exchange recorder (its own
// Store connection on options.store_path, opened at the first task) and
// LiveChannel. Not thread-safe, like every TaskGenerator. The cancel token is
// shared by every job and owned by the caller.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/conductor.h"
#include "agent/llm/cancel_token.h"
#include "agent/llm/chat.h"
#include "agent/llm/llm_config.h"
#include "agent/llm_channel.h"
#include "suite/task_generator.h"

namespace anvil::agent {

struct LlmSuiteGeneratorOptions {
  llm::LlmConfig llm;               // provider and model of every session (llm::LoadLlmConfig)
  ConductorOptions conductor;       // per task: rounds, max_total_tokens, time_budget_s, seed, ...
  std::string backend = "cpu";      // the suite's --target
  std::string store_path;           // the suite's store: exchanges are recorded through a second connection to it
  std::string workspace;            // candidates go under <workspace>/agent/session-<id>/
  std::string include_dir;          // candidate ABI headers (the seed's kernel key)
  int threads = 1;                  // this job's evaluation threads (recorded for replay; the seed's tuning cache)
  const llm::CancelToken* cancel = nullptr;  // raised on Ctrl-C: sessions end 'cancelled'; null = never
  // One line per session event (candidate evaluated, call failed), called on
  // the job's thread with the task's name; may be null.
  std::function<void(const std::string& task, const std::string& line)> progress;
};

class LlmSuiteGenerator : public suite::TaskGenerator {
 public:
  explicit LlmSuiteGenerator(LlmSuiteGeneratorOptions options);
  Result<suite::GeneratedKernel> Generate(const Task& task, Store& store, Evaluator& evaluator,
                                          int64_t run_id) override;

 private:
  const llm::CancelToken& cancel() const { return options_.cancel ? *options_.cancel : never_cancelled_; }

  LlmSuiteGeneratorOptions options_;
  llm::CancelToken never_cancelled_;  // stands in when options_.cancel is null
  std::unique_ptr<llm::Provider> provider_;
  std::unique_ptr<ExchangeRecorder> recorder_;  // null until the first task
  std::unique_ptr<LiveChannel> channel_;        // null until the first task
};

}  // namespace anvil::agent
