// save_kernel: keep a correct kernel. Marks it saved in the store
// (Store::SaveKernel) and writes its source, as the store holds it, to a file
// whose first line says which evaluation proved it:
//   // anvil: evaluation 12 of task softmax (cpu): verdict correct
// (`#` for Triton's Python). Default file:
// <workspace>/kernels/<task>/<backend>-e<evaluation_id>.<ext>. The evaluation
// id is in the name because every saved_kernels row points at its file: with
// one name per task and backend a second save would silently replace the file
// an earlier row points at. (Saving the same evaluation again rewrites the same
// text.) An explicit `path` is written as given.
#include <filesystem>

#include <fmt/format.h>

#include "cli/evaluate_candidate.h"
#include "mcp/tool_handlers.h"
#include "util/subprocess.h"

namespace anvil::mcp {

ToolResult SaveKernelTool(McpSession& session, const nlohmann::json& arguments) {
  int64_t evaluation_id = arguments["evaluation_id"].get<int64_t>();
  auto store = session.store();
  if (!store.ok()) return ToolError(store.status().message());
  auto evaluation = (*store)->GetEvaluation(evaluation_id);
  if (!evaluation.ok()) return ToolError(evaluation.status().message());
  // Checked before anything is written: a file must never hold a kernel the store would refuse to keep.
  if (evaluation->verdict != "correct")
    return ToolError(fmt::format("evaluation {} has verdict '{}', not correct: only correct kernels are saved; "
                                 "fix the kernel, verify it again and save that evaluation_id",
                                 evaluation_id, evaluation->verdict.empty() ? "(unfinished)" : evaluation->verdict));
  auto candidate = (*store)->GetCandidate(evaluation->candidate_id);
  if (!candidate.ok()) return ToolError(candidate.status().message());

  std::string path = arguments.value("path", "");
  if (path.empty())
    path = fmt::format("{}/kernels/{}/{}-e{}{}", session.config().workspace, evaluation->task_name,
                       candidate->backend, evaluation_id, cli::CandidateExtension(candidate->backend));
  path = std::filesystem::absolute(path).lexically_normal().string();
  std::string comment = candidate->backend == "triton" ? "#" : "//";
  std::string text = fmt::format("{} anvil: evaluation {} of task {} ({}): verdict {}\n{}", comment, evaluation_id,
                                 evaluation->task_name, candidate->backend, evaluation->verdict, candidate->source);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (Status s = WriteFileAtomic(path, text); !s.ok()) return ToolError(s.message());

  auto saved = (*store)->SaveKernel(evaluation_id, path, arguments.value("note", ""));
  if (!saved.ok()) return ToolError(saved.status().message());
  ToolResult result;
  result.structured = {{"saved_id", *saved},       {"evaluation_id", evaluation_id},
                       {"path", path},             {"task", evaluation->task_name},
                       {"backend", candidate->backend}, {"verdict", evaluation->verdict}};
  return result;
}

}  // namespace anvil::mcp
