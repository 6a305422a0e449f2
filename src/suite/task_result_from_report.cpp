#include "suite/task_result_from_report.h"

#include <map>

namespace anvil::suite {

std::string OpName(const std::string& task_name) {
  const size_t dot = task_name.find('.');
  return dot == std::string::npos ? task_name : task_name.substr(dot + 1);
}

std::string DtypeLabel(const std::string& variant_label) {
  const size_t eq = variant_label.find('=');
  if (eq == std::string::npos || variant_label.find(',') != std::string::npos) return variant_label;
  return variant_label.substr(eq + 1);
}

std::vector<std::string> TaskDtypes(const Task& task) {
  std::vector<std::string> out;
  for (const DTypeVariant& v : task.Variants()) out.push_back(DtypeLabel(v.Label()));
  return out;
}

TaskResult TaskResultFromReport(const Task& task, const CandidateReport& report) {
  TaskResult t;
  t.task = task.name;
  t.op = OpName(task.name);
  t.dtypes = TaskDtypes(task);
  t.verdict = std::string(VerdictName(report.verdict));
  t.reason = report.reason;
  t.evaluation_id = report.evaluation_id;
  t.seconds = report.seconds;
  if (report.verdict == Verdict::kCorrect)
    t.status = TaskStatus::kCorrect;
  else if (report.verdict == Verdict::kBuildError)
    t.status = TaskStatus::kBuildFailed;
  else
    t.status = TaskStatus::kIncorrect;
  if (t.status != TaskStatus::kCorrect) return t;

  std::map<int, CaseTiming> by_case;
  for (const TimingOutcome& o : report.timings) {
    if (o.index < 0 || o.index >= static_cast<int>(report.perf_cases.size()) || o.median_ns <= 0) continue;
    CaseTiming& c = by_case[o.index];
    const CaseSpec& spec = report.perf_cases[o.index];
    c.label = spec.Label();
    c.dtype = DtypeLabel(spec.variant_label);
    if (o.subject == "candidate") c.candidate_ns = o.median_ns;
    else if (o.subject == "eager") c.eager_ns = o.median_ns;
    else if (o.subject == "compile") c.compiled_ns = o.median_ns;
  }
  for (const CandidateReport::Roofline& rf : report.roofline) {
    auto it = by_case.find(rf.index);
    if (it == by_case.end()) continue;
    if (rf.speed_of_light_ns > 0) it->second.speed_of_light_ns = rf.speed_of_light_ns;
    it->second.min_bytes = rf.work.min_bytes;
    if (rf.work.flops > 0) it->second.flops = rf.work.flops;
  }
  for (auto& [index, c] : by_case)
    if (c.candidate_ns > 0) t.timings.push_back(std::move(c));
  return t;
}

}  // namespace anvil::suite
