// search_kernels: proven (and saved) kernels from the store's full-text index
// (Store::SearchKernels), each with its source, for an agent to learn from
// before it writes its own.
#include "mcp/tool_handlers.h"

namespace anvil::mcp {

ToolResult SearchKernelsTool(McpSession& session, const nlohmann::json& arguments) {
  KernelSearchQuery query;
  query.text = arguments.value("query", "");
  if (arguments.contains("backend")) query.backend = arguments["backend"].get<std::string>();
  if (arguments.contains("dtype")) query.dtype = arguments["dtype"].get<std::string>();
  if (arguments.contains("op_kind")) query.op_kind = arguments["op_kind"].get<std::string>();
  query.saved_only = arguments.value("saved_only", false);
  query.limit = arguments.value("limit", 10);
  auto store = session.store();
  if (!store.ok()) return ToolError(store.status().message());
  auto hits = (*store)->SearchKernels(query);
  if (!hits.ok()) return ToolError(hits.status().message());
  nlohmann::json out = nlohmann::json::array();
  for (const KernelHit& h : *hits) {
    nlohmann::json j = {{"evaluation_id", h.evaluation_id}, {"candidate_id", h.candidate_id},
                        {"task", h.task_name},              {"backend", h.backend},
                        {"dtypes", h.dtypes},               {"op_kinds", h.op_kinds},
                        {"summary", h.summary},             {"provenance", h.provenance},
                        {"saved", h.saved},                 {"rank", h.rank},
                        {"source", h.source}};
    if (h.speedup) j["speedup"] = *h.speedup;
    out.push_back(j);
  }
  ToolResult result;
  result.structured = {{"count", out.size()}, {"hits", out}};
  if (out.empty())
    result.structured["note"] =
        "no proven kernel matches; fewer words or fewer filters find more (the store holds only kernels verified "
        "correct in this workspace)";
  return result;
}

}  // namespace anvil::mcp
