#include "cli/task_json.h"

#include <filesystem>

#include "task/cases.h"
#include "task/task_file.h"
#include "task/task_graph.h"

namespace anvil::cli {

nlohmann::json TaskSummaryJson(const Task& t) {
  nlohmann::json inputs = nlohmann::json::array(), attrs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& in : t.inputs) {
    nlohmann::json j = {{"name", in.name}, {"dtype", in.dtype}, {"shape", ShapeToString(in.shape)},
                        {"domain", in.domain.ToString()}};
    // Declared traffic, where it differs from the default (task.h, InputRead).
    if (in.read != InputRead::kAll) j["read"] = in.read == InputRead::kNone ? "none" : "output";
    inputs.push_back(j);
  }
  for (const auto& a : t.attrs)
    attrs.push_back({{"name", a.name}, {"dtype", DTypeName(a.value.dtype)}, {"value", a.value.ToString()}});
  for (const auto& o : t.outputs) {
    nlohmann::json j = {{"name", o.name}};
    if (o.inplace) j["inplace"] = *o.inplace;
    if (o.write == OutputWrite::kPartial) j["write"] = "partial";
    if (o.distribution) j["distribution"] = o.distribution->text;
    outputs.push_back(j);
  }
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : t.Variants()) variants.push_back(v.Label());
  nlohmann::json j = {{"name", t.name},           {"description", t.description},
                      {"path", t.source_path},    {"inputs", inputs},
                      {"attrs", attrs},           {"outputs", outputs},
                      {"variants", variants},     {"correctness_cases", CorrectnessCases(t).size()},
                      {"performance_cases", PerformanceCases(t).size()}};
  if (t.compare.mode == CompareMode::kStatistical) j["statistical"] = {{"seed_attr", t.compare.seed_attr}};
  if (t.module)
    j["reference_module"] = {{"path", t.module->path}, {"class", t.module->class_name}};
  else
    j["formula"] = t.formula;
  // A model-written reference may itself be wrong; tools reading this JSON must see it.
  if (!t.reference_author.empty()) j["reference_author"] = t.reference_author;
  return j;
}

nlohmann::json TaskDetailJson(const Task& t) {
  nlohmann::json j = TaskSummaryJson(t);
  if (!t.module) {
    nlohmann::json graphs = nlohmann::json::object();
    for (const auto& v : t.Variants()) graphs[v.Label()] = CompileTaskGraph(t, v)->Dump();
    j["graphs"] = graphs;
  }
  return j;
}

nlohmann::json TaskListJson(const std::vector<std::string>& dirs, bool* any_error) {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& dir : dirs)
    for (auto& entry : FindTaskFiles(dir)) {
      if (entry.task.ok()) {
        all.push_back(TaskSummaryJson(*entry.task));
      } else {
        if (any_error != nullptr) *any_error = true;
        all.push_back({{"path", entry.path}, {"error", entry.task.status().message()}});
      }
    }
  return all;
}

std::vector<std::string> DefaultTaskDirs() {
  std::vector<std::string> dirs;
  for (const char* d : {"examples", "tasks"})
    if (std::filesystem::is_directory(d)) dirs.push_back(d);
  return dirs;
}

}  // namespace anvil::cli
