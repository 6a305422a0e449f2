// The agent loop as a suite generator (see suite_generator.h).
#include "agent/suite_generator.h"

#include <fmt/format.h>

#include "agent/knowledge.h"
#include "agent/llm/make_provider.h"
#include "agent/session_start.h"

namespace anvil::agent {

LlmSuiteGenerator::LlmSuiteGenerator(LlmSuiteGeneratorOptions options)
    : options_(std::move(options)), provider_(llm::MakeProvider(options_.llm)) {}

Result<suite::GeneratedKernel> LlmSuiteGenerator::Generate(const Task& task, Store& store, Evaluator& evaluator,
                                                           int64_t run_id) {
  if (!recorder_) {
    ANVIL_ASSIGN_OR_RETURN(recorder_, ExchangeRecorder::Open(options_.store_path));
    channel_ = std::make_unique<LiveChannel>(*provider_, recorder_.get(), cancel());
  }
  // The runner stops taking tasks once interrupted, but one may have been
  // taken just before: no session for it; kCancelled leaves it pending for --resume.
  if (cancel().cancelled())
    return Cancelled(fmt::format("{}: interrupted before its session started; --resume runs it", task.name));

  SessionStart start;
  start.run_id = run_id;
  start.backend = options_.backend;
  start.input_form = "task";
  start.provider = provider_->Name();
  start.model = provider_->DefaultModel();
  start.threads = options_.threads;
  // The runner evaluates in bench mode exactly when the task has performance
  // shapes (the suite command refuses --verify-only with this generator).
  start.timed = !task.performance.shapes.empty();
  ANVIL_ASSIGN_OR_RETURN(int64_t session_id, BeginAgentSession(store, *recorder_, task, options_.conductor, start));

  ConductorContext context;
  context.backend = options_.backend;
  context.workspace = options_.workspace;
  context.knowledge_root = DefaultKnowledgeRoot();
  context.include_dir = options_.include_dir;
  context.threads = options_.threads;
  context.cancel = &cancel();
  if (options_.progress)
    context.progress = [this, &task](const std::string& line) { options_.progress(task.name, line); };

  Result<SessionResult> session =
      RunSession(task, store, evaluator, *channel_, run_id, session_id, options_.conductor, context);
  if (!session.ok()) return session.status().Context(fmt::format("{}: session {}", task.name, session_id));

  suite::GeneratedKernel kernel;
  kernel.tokens = session->usage.usage.input_tokens + session->usage.usage.output_tokens;
  if (session->best_report) {
    kernel.report = std::move(session->best_report);
    return kernel;
  }
  // See the header for why these two are errors and not 'no_kernel'.
  if (session->status == "cancelled")
    return Cancelled(fmt::format("{}: session {} was cancelled before a correct kernel; --resume runs the task again",
                                 task.name, session_id));
  if (session->status == "failed")
    return Unavailable(fmt::format("{}: session {} failed: {} (--resume runs the task again)", task.name, session_id,
                                   session->stop_reason));
  kernel.no_kernel_reason =
      fmt::format("{}: {} (anvil session show {})", session->status, session->stop_reason, session_id);
  return kernel;
}

}  // namespace anvil::agent
