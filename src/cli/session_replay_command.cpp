// anvil session replay N: re-runs a recorded agent session offline and
// checks that it reaches the same candidates and verdicts.
//
// The loop runs again with the session's task, backend and options, a fresh
// evaluator in the same mode and thread count, and a ReplayChannel that
// serves the recorded replies by (round, slot, role) instead of calling the
// model: no network, no key. The replay is itself recorded as a new session
// (replay_of = N). Then the two sequences of (round, slot, action, source
// hash, outcome, verdict) are compared: exit 0 when identical, 1 with the
// first difference otherwise. Timings are not compared (they differ between
// runs).
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/agent_gen.h"
#include "cli/commands.h"

#if ANVIL_WITH_LLM
#include "agent/conductor.h"
#include "agent/knowledge.h"
#include "agent/llm_channel.h"
#include "agent/session_compare.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "task/task_file.h"
#include "util/hash.h"
#endif

namespace anvil::cli {

#if ANVIL_WITH_LLM
namespace {

int RunReplay(const CliConfig& config, int64_t original_id) {
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  (void)(*store)->MarkAbandonedRuns();
  auto original = (*store)->GetSession(original_id);
  if (!original.ok()) return ReportError(original.status());
  if (original->status == "running")
    return ReportError(InvalidInput(fmt::format("session {} is still running; replay it once it has finished",
                                                original_id)));
  auto task_row = (*store)->GetTask(original->task_id);
  if (!task_row.ok()) return ReportError(task_row.status());
  auto task = ParseTask(task_row->text, task_row->source_path);
  if (!task.ok()) return ReportError(task.status().Context(fmt::format("the task of session {}", original_id)));
  auto options = agent::ConductorOptions::FromJson(original->options_json);
  if (!options.ok()) return ReportError(options.status());
  nlohmann::json extra = nlohmann::json::parse(original->options_json.empty() ? "{}" : original->options_json,
                                               nullptr, false);
  CliConfig eval_config = config;
  if (extra.is_object() && extra.contains("threads") && extra["threads"].is_number_integer())
    eval_config.threads = extra["threads"].get<int>();
  const bool timed = extra.is_object() ? extra.value("mode", std::string(task->performance.shapes.empty() ? "verify"
                                                                                                         : "bench")) == "bench"
                                       : !task->performance.shapes.empty();
  auto exchanges = (*store)->QueryExchanges(original_id);
  if (!exchanges.ok()) return ReportError(exchanges.status());
  auto before = (*store)->QuerySessionCandidates(original_id);
  if (!before.ok()) return ReportError(before.status());

  nlohmann::json run_args = {{"session", original_id}};
  auto run = (*store)->BeginRun("session replay", run_args.dump());
  if (!run.ok()) return ReportError(run.status());
  auto recorder = agent::ExchangeRecorder::Open(config.StorePath());
  if (!recorder.ok()) return ReportError(recorder.status());
  agent::ReplayChannel channel(*exchanges, original->provider, original->model, recorder->get());

  SessionRow row = *original;
  row.id = 0;
  row.run_id = *run;
  row.replay_of = original_id;
  auto session_id = (*store)->BeginSession(row);
  if (!session_id.ok()) return ReportError(session_id.status());
  if (Status s = (*recorder)->BindSession(*session_id); !s.ok()) return ReportError(s);

  EvaluatorOptions eval_options =
      EvaluatorOptionsFrom(eval_config, original->backend, timed ? EvalMode::kBench : EvalMode::kVerify);
  eval_options.sanitize_tool.clear();
  ProgressBar bar(config.progress && !config.json);
  Evaluator evaluator(**store, eval_options,
                      [&](const std::string& phase, int done, int total) { bar.Update(task->name, phase, done, total); });
  llm::CancelToken cancel;
  StopSignal stop([&cancel] { cancel.Cancel(); });
  agent::ConductorContext context;
  context.backend = original->backend;
  context.workspace = config.workspace;
  context.knowledge_root = agent::DefaultKnowledgeRoot();
  context.include_dir = config.include_dir;
  context.threads = eval_config.threads;
  context.cancel = &cancel;
  context.progress = [&](const std::string& line) {
    bar.Clear();
    std::cerr << "  " << line << std::endl;
  };
  std::cerr << fmt::format("anvil session replay {}: {} for {}, {}:{} (recorded replies), as session {}\n", original_id,
                           task->name, original->backend, original->provider, original->model, *session_id);
  auto result = agent::RunSession(*task, **store, evaluator, channel, *run, *session_id, *options, context);
  bar.Clear();
  (void)(*store)->FinishRun(*run, result.ok() ? "ok" : "failed");
  if (!result.ok()) return ReportError(result.status().Context(fmt::format("replaying session {}", original_id)));
  auto after = (*store)->QuerySessionCandidates(*session_id);
  if (!after.ok()) return ReportError(after.status());
  const agent::SessionComparison cmp = agent::CompareSessions(*original, *before, *after);

  if (config.json) {
    nlohmann::json j = {{"session_id", original_id},
                        {"replay_session_id", *session_id},
                        {"identical", cmp.identical},
                        {"compared", cmp.compared},
                        {"original_candidates", before->size()},
                        {"replay_candidates", after->size()},
                        {"original_status", original->status},
                        {"replay_status", result->status},
                        {"replay_stop_reason", result->stop_reason},
                        {"calls", channel.calls()},
                        {"differing_prompts", channel.differing_prompts()},
                        {"lines", cmp.lines}};
    j["first_difference"] = cmp.identical ? nlohmann::json() : nlohmann::json(cmp.first_difference);
    j["note"] = cmp.note.empty() ? nlohmann::json() : nlohmann::json(cmp.note);
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << fmt::format("session {} replayed as session {}: {} candidates then, {} now\n", original_id,
                             *session_id, before->size(), after->size());
    for (const std::string& line : cmp.lines) std::cout << "  " << line << "\n";
    std::cout << fmt::format("original: {} ({}); replay: {} ({})\n", original->status, original->stop_reason,
                             result->status, result->stop_reason);
    if (channel.differing_prompts() > 0)
      std::cout << fmt::format("{} of {} prompts differed from the recorded ones (first: {}); timings in feedback and "
                               "retrieved examples change between runs, so this alone is expected\n",
                               channel.differing_prompts(), channel.calls(), channel.first_differing());
    if (cmp.identical)
      std::cout << "identical: the same candidates with the same verdicts\n";
    else
      std::cout << "DIFFERENT: " << cmp.first_difference << "\n";
    if (!cmp.note.empty()) std::cout << "note: " << cmp.note << "\n";
  }
  return cmp.identical ? kExitOk : kExitNotCorrect;
}

}  // namespace
#endif

void AddSessionReplayCommand(CLI::App& session, CliConfig& config, int* exit_code) {
  auto id = std::make_shared<int64_t>(0);
  CLI::App* cmd = session.add_subcommand(
      "replay", "Re-run a recorded agent session offline with its recorded replies; exit 0 when it reaches the "
                "same candidates and verdicts, 1 with the first difference");
  cmd->add_option("id", *id, "the session (anvil session list)")->required();
  cmd->callback([&config, id, exit_code] {
    ResolveDefaults(config);
#if ANVIL_WITH_LLM
    *exit_code = RunReplay(config, *id);
#else
    *exit_code = ReportError(Unavailable("anvil was built without libcurl, so the agent loop is not built; run "
                                         "scripts/setup.sh and rebuild"));
#endif
  });
}

}  // namespace anvil::cli
