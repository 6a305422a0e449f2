#include "mcp/session.h"

#include <fmt/format.h>

#include "cli/evaluator_options.h"

namespace anvil::mcp {

McpSession::~McpSession() { evaluators_.clear(); }

Result<Store*> McpSession::store() {
  if (!store_) {
    ANVIL_ASSIGN_OR_RETURN(store_, Store::Open(config_.StorePath()));
    (void)store_->MarkAbandonedRuns();
  }
  return store_.get();
}

Result<Evaluator*> McpSession::evaluator(const std::string& target, EvalMode mode) {
  auto key = std::make_pair(target, mode);
  auto it = evaluators_.find(key);
  if (it != evaluators_.end()) return it->second.get();
  ANVIL_ASSIGN_OR_RETURN(Store * s, store());
  auto made = std::make_unique<Evaluator>(
      *s, cli::EvaluatorOptionsFrom(config_, target, mode),
      [this](const std::string& phase, int done, int total) { OnEvaluatorProgress(phase, done, total); });
  Evaluator* raw = made.get();
  evaluators_.emplace(key, std::move(made));
  return raw;
}

void McpSession::set_progress(ProgressSink sink) {
  progress_ = std::move(sink);
  last_progress_ = -1;
}

void McpSession::OnEvaluatorProgress(const std::string& phase, int done, int total) {
  // The Evaluator says (build, 0, 1) before it compiles, then counts cases
  // (correctness, then performance) up to their total. Only increases are
  // passed on: MCP requires progress to grow with every notification.
  if (!progress_ || done <= last_progress_) return;
  last_progress_ = done;
  std::string message = phase == "build" ? "building the candidate"
                                         : fmt::format("{}: {} of {} cases done", phase, done, total);
  bool counting = phase != "build" && total > 0;  // the build's (0, 1) is no case count
  progress_(done, counting ? std::optional<double>(total) : std::nullopt, message);
}

}  // namespace anvil::mcp
