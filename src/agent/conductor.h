// The conductor: the agent loop of one session.
//
//   round 1   optional seed: the built-in compiler's kernel (compiler::Generate,
//             tune=false) when the task lowers for the target, evaluated as
//             round 0's candidate "seed"; a lowering refusal means no seed.
//             Then per slot: designer (a plan) -> coder (the file).
//   round 2+  per slot, from how its last candidate did:
//               not correct / no code / rejected   repair (previous code + feedback)
//               the same failure class twice        redesign (designer with the
//                 in a row                           failures, then coder)
//               correct                             optimise (the best correct
//                                                    kernel so far + its timings)
//               no reply at all (call failed)       design again
// The slots' LLM calls of a round run on parallel threads; their candidates
// are then evaluated one at a time, in slot order, through the one Evaluator
// (it is not thread-safe, and one machine timing two kernels at once would
// time neither). Every coder reply becomes a session candidate, recorded
// with Store::RecordSessionCandidate: evaluated, no_code or rejected, with
// the feedback the model gets next. Candidate files go to
// <workspace>/agent/session-<id>/r<round>-s<slot>.<ext>.
//
// Best: the fastest correct candidate (geometric-mean speedup over eager);
// when nothing is timed, the first correct one, and the loop stops there
// (there is nothing to optimise against). Stops: rounds used, token budget,
// wall time, target speedup over the faster baseline reached, cancelled, or
// every LLM call of a round failing (the provider is down: the session
// fails with its message instead of burning the remaining rounds).
//
// The order of calls and of evaluations depends only on the replies and the
// verdicts, so replaying the replies reproduces the candidates and verdicts
// (timings differ; with a target speedup, where the loop stopped may too).
//
// Not thread-safe: one session per Evaluator.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/llm/cancel_token.h"
#include "agent/llm/cost.h"
#include "agent/llm_channel.h"
#include "orchestrator/evaluator.h"
#include "store/store.h"
#include "task/task.h"

namespace anvil::agent {

struct ConductorOptions {
  int rounds = 4;                    // rounds of LLM calls (the seed is not one)
  int parallel = 1;                  // candidates (slots) per round
  long long max_total_tokens = 0;    // input + output over the session; 0 = no limit
  double time_budget_s = 0;          // wall time; 0 = no limit
  double target_speedup = 0;         // stop once a correct candidate is this much faster than the faster baseline; 0 = never
  std::optional<double> temperature; // unset = the server's default
  bool seed = true;                  // start from the built-in compiler's kernel when the task lowers
  int max_tokens_per_call = 0;       // reply limit; 0 = the provider's configured default
  int examples = 3;                  // proven kernels retrieved from the store into the coder prompt

  nlohmann::json ToJson() const;
  // Missing keys keep their defaults (sessions recorded by older builds).
  static Result<ConductorOptions> FromJson(const std::string& json);
};

struct ConductorContext {
  std::string backend = "cpu";   // cpu | cuda | triton
  std::string workspace;         // candidates go under <workspace>/agent/
  std::string knowledge_root;    // knowledge/ (LoadKnowledge)
  std::string include_dir;       // candidate ABI headers, for the seed's kernel key
  int threads = 1;               // evaluation threads, for the seed's tuning cache
  const llm::CancelToken* cancel = nullptr;   // raised on SIGINT: the session ends 'cancelled'
  std::function<void(const std::string&)> progress;  // one line per event; may be null
};

struct SessionCandidate {
  int round = 0, slot = 0;
  std::string action;    // seed | design | repair | optimise | redesign
  std::string outcome;   // evaluated | no_code | rejected
  std::string path;      // the file written ("" when there was no code)
  std::string source, source_hash;
  std::string verdict, reason, feedback;
  std::optional<double> speedup;          // over eager
  std::optional<double> speedup_compile;  // over torch.compile
  int64_t candidate_id = 0, evaluation_id = 0;
};

struct SessionResult {
  int64_t session_id = 0;
  std::string status;        // converged | exhausted | failed | cancelled
  std::string stop_reason;
  std::vector<SessionCandidate> candidates;  // in the order they were recorded
  int best = -1;                             // index into candidates; -1: none correct
  std::optional<CandidateReport> best_report;
  llm::UsageTotals usage;
  int rounds_run = 0;
};

// Runs the loop for a session already begun (Store::BeginSession) and
// finishes it (Store::FinishSession) whatever happens. Errors only for what
// is not the model's doing and stops the loop (store unwritable, worker
// cannot start); the session is then recorded as 'failed'.
Result<SessionResult> RunSession(const Task& task, Store& store, Evaluator& evaluator, LlmChannel& channel,
                                 int64_t run_id, int64_t session_id, const ConductorOptions& options,
                                 const ConductorContext& context);

// The speedup over the faster of the baselines (eager, torch.compile) a
// candidate reached; nullopt when not timed.
std::optional<double> SpeedupOverBest(const std::optional<double>& eager, const std::optional<double>& compile);

}  // namespace anvil::agent
