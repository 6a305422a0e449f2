// list_tasks: the tasks under directories, as `anvil task list --json` lists
// them (cli/task_json.h), wrapped in an object because an MCP tool's
// structured result is one: {"dirs": [...], "tasks": [...]}.
#include <filesystem>

#include <fmt/format.h>

#include "cli/task_json.h"
#include "mcp/tool_handlers.h"

namespace anvil::mcp {

ToolResult ListTasksTool(McpSession&, const nlohmann::json& arguments) {
  std::vector<std::string> dirs = arguments.value("dirs", std::vector<std::string>{});
  if (dirs.empty()) dirs = cli::DefaultTaskDirs();
  if (dirs.empty())
    return ToolError(fmt::format("no task directories given and neither ./examples nor ./tasks exists in {}; pass "
                                 "dirs",
                                 std::filesystem::current_path().string()));
  for (const std::string& d : dirs)
    if (!std::filesystem::is_directory(d)) return ToolError(fmt::format("{}: no such directory", d));
  bool any_error = false;
  ToolResult result;
  result.structured = {{"dirs", dirs}, {"tasks", cli::TaskListJson(dirs, &any_error)}};
  // Files that do not load are listed with their error; the listing itself worked.
  return result;
}

}  // namespace anvil::mcp
