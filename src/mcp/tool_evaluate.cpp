// verify and bench: one candidate (a file, or source text written under
// <workspace>/mcp/) through the same code as `anvil verify|bench`
// (cli/evaluate_candidate.h), with the session's kept Evaluator, provenance
// "agent". The result is the CLI's --json document ({"run_id", "results"})
// plus the one candidate's verdict, evaluation_id and speedup at the top, so
// an agent need not dig. isError when the verdict is not correct.
#include <filesystem>

#include <fmt/format.h>

#include "cli/evaluate_candidate.h"
#include "cli/report_format.h"
#include "mcp/tool_handlers.h"
#include "util/hash.h"
#include "util/subprocess.h"

namespace anvil::mcp {
namespace {

using json = nlohmann::json;

// The report without what only a person digging deep needs: passed cases and
// raw timing samples (an 84-case report is tens of kilobytes of an agent's
// context).
void Trim(json& report) {
  json failing = json::array();
  for (json& c : report["cases"])
    if (c.value("verdict", "") != "correct") failing.push_back(std::move(c));
  report["cases"] = std::move(failing);
  report["cases_shown"] = "not passed only (full_report: true for all)";
  for (json& t : report["timings"]) t.erase("samples_ns");
}

// Where the candidate is: its file, or the source text written to a file
// named by its hash (the same text is the same file, and the build cache hits).
Result<std::string> CandidatePath(McpSession& session, const json& arguments, const std::string& target) {
  if (arguments.contains("candidate")) {
    std::string path = arguments["candidate"].get<std::string>();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      return NotFound(fmt::format("candidate {}: no such file (relative paths are from {})", path,
                                  std::filesystem::current_path().string()));
    return std::filesystem::absolute(path).lexically_normal().string();
  }
  const std::string source = arguments["source"].get<std::string>();
  std::string path = fmt::format("{}/mcp/{}{}", session.config().workspace, HashOf(source),
                                 cli::CandidateExtension(target));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  ANVIL_RETURN_IF_ERROR(WriteFileAtomic(path, source));
  return path;
}

ToolResult Evaluate(McpSession& session, const json& arguments, EvalMode mode) {
  std::string target = arguments["target"].get<std::string>();
  auto candidate = CandidatePath(session, arguments, target);
  if (!candidate.ok()) return ToolError(candidate.status().message());
  cli::EvaluationJob job;
  job.task_path = arguments["task"].get<std::string>();
  job.candidates = {*candidate};
  job.target = target;
  job.mode = mode;
  job.provenance = "agent";
  job.via = "mcp";
  auto prepared = cli::PrepareEvaluation(session.config(), job);
  if (!prepared.ok()) return ToolError(prepared.status().message());
  auto store = session.store();
  if (!store.ok()) return ToolError(store.status().message());
  auto evaluator = session.evaluator(target, mode);
  if (!evaluator.ok()) return ToolError(evaluator.status().message());
  auto outcome = cli::RunEvaluation(**store, **evaluator, session.config(), *prepared);
  if (!outcome.ok()) return ToolError(outcome.status().message());

  const CandidateReport& report = outcome->reports.front();
  json report_json = cli::ReportToJson(report);
  if (!arguments.value("full_report", false)) Trim(report_json);
  ToolResult result;
  result.structured = {{"verdict", VerdictName(report.verdict)},
                       {"evaluation_id", report.evaluation_id},
                       {"candidate", *candidate},
                       {"run_id", outcome->run_id},
                       {"results", json::array({report_json})}};
  if (report.verdict != Verdict::kCorrect) result.structured["reason"] = report.reason;
  if (report.speedup) result.structured["speedup"] = *report.speedup;
  result.is_error = report.verdict != Verdict::kCorrect;
  return result;
}

}  // namespace

ToolResult VerifyTool(McpSession& session, const json& arguments) {
  return Evaluate(session, arguments, EvalMode::kVerify);
}

ToolResult BenchTool(McpSession& session, const json& arguments) {
  return Evaluate(session, arguments, EvalMode::kBench);
}

}  // namespace anvil::mcp
