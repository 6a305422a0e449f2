// A task as JSON: what `anvil task list --json` and `anvil task show --json`
// print, and what the MCP tools list_tasks and show_task return. One
// function per shape so the CLI and the MCP server cannot drift apart.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "task/task.h"

namespace anvil::cli {

// Name, description, path, inputs, attributes, outputs, dtype variants, case
// counts, and the formula or the reference module.
nlohmann::json TaskSummaryJson(const Task& task);

// TaskSummaryJson plus, for a formula task, the typed graph of every dtype
// variant ("graphs": {variant: dump}).
nlohmann::json TaskDetailJson(const Task& task);

// Every task file under `dirs` (recursively, as FindTaskFiles finds them): one
// TaskSummaryJson per task, or {"path", "error"} for a file that does not
// load. `any_error` is set when some file did not load.
nlohmann::json TaskListJson(const std::vector<std::string>& dirs, bool* any_error);

// The directories `task list` searches when given none: those of ./examples
// and ./tasks that exist.
std::vector<std::string> DefaultTaskDirs();

}  // namespace anvil::cli
