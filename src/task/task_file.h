// Loading tasks from TOML files (schema: docs/task-format.md).
//
// Errors are InvalidInput Statuses that name the file, line and column and say
// what was expected. A task that loads has been type-checked: its formula
// compiles for every dtype variant and produces the declared outputs.
#pragma once

#include <string>
#include <vector>

#include "task/task.h"
#include "util/status.h"

namespace anvil {

Result<Task> LoadTaskFile(const std::string& path);
// `origin` names the text in messages (a path, or "<string>").
Result<Task> ParseTask(const std::string& text, const std::string& origin);

// Finds task files (*.toml holding a `formula` or a `[reference]` table)
// under `dir`, recursively, sorted by path. Files that fail to parse are returned as errors beside the
// good ones so `anvil task list` can show both.
struct TaskFileEntry {
  std::string path;
  Result<Task> task;
};
std::vector<TaskFileEntry> FindTaskFiles(const std::string& dir);

}  // namespace anvil
