// anvil task list / anvil task show: what tasks exist and what they say.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/task_json.h"
#include "task/cases.h"
#include "task/task_file.h"
#include "task/task_graph.h"

namespace anvil::cli {
namespace {

std::string InputsSummary(const Task& t) {
  std::string out;
  for (const auto& in : t.inputs) out += fmt::format("{}{}: {}{}", out.empty() ? "" : ", ", in.name, in.dtype,
                                                     ShapeToString(in.shape));
  return out.empty() ? "none (the reference gets the sizes, dtype and device as keywords)" : out;
}

int List(const CliConfig& config, std::vector<std::string> dirs) {
  if (dirs.empty()) dirs = DefaultTaskDirs();
  if (dirs.empty()) return ReportError(NotFound("no task directories given and neither ./examples nor ./tasks exists"));
  if (config.json) {
    bool any_error = false;
    std::cout << TaskListJson(dirs, &any_error).dump(2) << std::endl;
    return any_error ? kExitUsage : kExitOk;
  }
  bool any_error = false;
  std::cout << fmt::format("{:<22} {:<14} {:>6} {:>5}  {}\n", "TASK", "DTYPES", "CASES", "PERF", "PATH");
  for (const auto& dir : dirs)
    for (auto& entry : FindTaskFiles(dir)) {
      if (!entry.task.ok()) {
        any_error = true;
        std::cout << fmt::format("{:<22} error: {}\n", "(invalid)", entry.task.status().message());
        continue;
      }
      const Task& t = *entry.task;
      std::string dtypes;
      for (const auto& v : t.Variants()) dtypes += (dtypes.empty() ? "" : " ") + v.Label();
      std::cout << fmt::format("{:<22} {:<14} {:>6} {:>5}  {}\n", t.name, dtypes, CorrectnessCases(t).size(),
                               PerformanceCases(t).size(), entry.path);
    }
  return any_error ? kExitUsage : kExitOk;
}

int Show(const CliConfig& config, const std::string& path) {
  auto task = LoadTaskFile(path);
  if (!task.ok()) return ReportError(task.status());
  const Task& t = *task;
  if (config.json) {
    std::cout << TaskDetailJson(t).dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << fmt::format("task      {}\n", t.name);
  if (!t.description.empty()) std::cout << fmt::format("about     {}\n", t.description);
  std::cout << fmt::format("file      {}\n", t.source_path);
  if (!t.reference_author.empty())
    std::cout << fmt::format("reference written by {}, not by people — check it before trusting a verdict\n",
                             t.reference_author);
  if (t.module)
    std::cout << fmt::format("reference {} (class {}, a PyTorch module)\n", t.module->path, t.module->class_name);
  else
    std::cout << fmt::format("formula   {}\n", t.formula);
  std::cout << fmt::format("inputs    {}\n", InputsSummary(t));
  for (const auto& a : t.attrs)
    std::cout << fmt::format("attr      {}: {} = {}\n", a.name, DTypeName(a.value.dtype), a.value.ToString());
  auto variants = t.Variants();
  for (const auto& v : variants) {
    if (!t.module) std::cout << fmt::format("\ngraph ({}):\n{}", v.Label(), CompileTaskGraph(t, v)->Dump());
    else std::cout << fmt::format("\n({})\n", v.Label());
    const std::vector<formula::OutputInfo> outputs = TaskOutputs(t, v).value();  // CheckTask resolved them
    for (const auto& o : outputs)
      std::cout << fmt::format("output    {}: {}{}\n", o.name, DTypeName(o.dtype), ShapeToString(o.shape));
  }
  if (t.compare.mode == CompareMode::kStatistical) {
    std::cout << fmt::format("\njudged statistically; the harness sets attribute '{}' (the random seed) per case\n",
                             t.compare.seed_attr);
    for (const TaskOutput& o : t.outputs) std::cout << fmt::format("output    {} ~ {}\n", o.name, o.distribution->text);
  }
  auto cases = CorrectnessCases(t);
  std::cout << fmt::format("\ncorrectness cases: {} ({} shapes x {} dtype variants; layouts {}; distributions {}; "
                           "seeds {})\n",
                           cases.size(), t.correctness.shapes.size(), variants.size(),
                           fmt::join(t.correctness.layouts, ","), fmt::join(t.correctness.distributions, ","),
                           fmt::join(t.correctness.seeds, ","));
  for (const auto& c : PerformanceCases(t)) std::cout << fmt::format("performance case: {}\n", c.Label());
  return kExitOk;
}

}  // namespace

void AddTaskCommands(CLI::App& app, CliConfig& config, int* exit_code) {
  CLI::App* task = app.add_subcommand("task", "List and inspect task files");
  task->require_subcommand(1);
  auto dirs = std::make_shared<std::vector<std::string>>();
  CLI::App* list = task->add_subcommand("list", "List the tasks under directories (default: ./examples ./tasks)");
  list->add_option("dirs", *dirs, "directories to search for *.toml task files");
  list->callback([&config, dirs, exit_code] {
    ResolveDefaults(config);
    *exit_code = List(config, *dirs);
  });
  auto path = std::make_shared<std::string>();
  CLI::App* show = task->add_subcommand("show", "Show a task: formula, inputs, typed graph per dtype, cases");
  show->add_option("task", *path, "task file")->required()->check(CLI::ExistingFile);
  show->callback([&config, path, exit_code] {
    ResolveDefaults(config);
    *exit_code = Show(config, *path);
  });
}

}  // namespace anvil::cli
