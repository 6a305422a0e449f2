// The handler of each MCP tool, one file each (tool_<name>.cpp). The tool
// table (tool_table.cpp) has already checked the arguments against the tool's
// schema, so handlers read them without type checks. A handler reports what
// fails as a ToolResult with is_error, never by throwing.
#pragma once

#include <nlohmann/json.hpp>

#include "mcp/session.h"
#include "mcp/tool_table.h"

namespace anvil::mcp {

ToolResult ListTasksTool(McpSession& session, const nlohmann::json& arguments);     // tool_list_tasks.cpp
ToolResult ShowTaskTool(McpSession& session, const nlohmann::json& arguments);      // tool_show_task.cpp
ToolResult VerifyTool(McpSession& session, const nlohmann::json& arguments);        // tool_evaluate.cpp
ToolResult BenchTool(McpSession& session, const nlohmann::json& arguments);         // tool_evaluate.cpp
ToolResult SearchKernelsTool(McpSession& session, const nlohmann::json& arguments); // tool_search_kernels.cpp
ToolResult SaveKernelTool(McpSession& session, const nlohmann::json& arguments);    // tool_save_kernel.cpp

}  // namespace anvil::mcp
