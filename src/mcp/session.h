// The state one `anvil mcp` connection keeps between tool calls: the CLI
// settings it was started with, the store (opened on first use), and one
// Evaluator per (target, mode) so the worker started by the first verify
// serves the next ones (a worker start costs seconds: LibTorch, and on GPUs
// CUDA and Python). Also the progress sink of the call in progress, which the
// Evaluators report to.
//
// Owned by the server; single-threaded (tool calls run one at a time).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cli/config.h"
#include "orchestrator/evaluator.h"
#include "store/store.h"
#include "util/status.h"

namespace anvil::mcp {

// Receives progress of the call in progress: progress so far (increasing),
// the total when known, a line for people.
using ProgressSink = std::function<void(double progress, std::optional<double> total, const std::string& message)>;

class McpSession {
 public:
  explicit McpSession(cli::CliConfig config) : config_(std::move(config)) {}
  ~McpSession();  // evaluators (and their workers) go before the store they write to

  const cli::CliConfig& config() const { return config_; }

  // The store under the workspace, opened (and abandoned runs marked) on
  // first use. Errors when it cannot be opened; a later call tries again.
  Result<Store*> store();

  // The Evaluator for a target and mode, made on first use and kept.
  Result<Evaluator*> evaluator(const std::string& target, EvalMode mode);

  // Sets the sink for the call in progress; nullptr when the client asked for
  // no progress. Progress the Evaluators report goes there, kept strictly
  // increasing as MCP requires.
  void set_progress(ProgressSink sink);

 private:
  void OnEvaluatorProgress(const std::string& phase, int done, int total);

  cli::CliConfig config_;
  std::unique_ptr<Store> store_;
  std::map<std::pair<std::string, EvalMode>, std::unique_ptr<Evaluator>> evaluators_;
  ProgressSink progress_;
  double last_progress_ = -1;
};

}  // namespace anvil::mcp
