#include "cli/evaluate_candidate.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "orchestrator/sanitizer_run.h"
#include "task/task_file.h"

namespace anvil::cli {
namespace {

// Each target takes one kind of source file; the first extension is the one
// written for a source given as text.
const std::map<std::string, std::vector<std::string>>& Extensions() {
  static const std::map<std::string, std::vector<std::string>> kExtensions = {
      {"cpu", {".cpp", ".cc", ".cxx"}}, {"cuda", {".cu"}}, {"triton", {".py"}}};
  return kExtensions;
}

const std::string& WhatTargetTakes(const std::string& target) {
  static const std::map<std::string, std::string> kWhat = {
      {"cpu", "C++ sources (.cpp, .cc, .cxx) implementing include/anvil/kernel.h"},
      {"cuda", "CUDA C++ sources (.cu) implementing include/anvil/kernel.h"},
      {"triton", "Python files (.py) with @triton.jit kernels and an anvil_kernel(**tensors) entry"}};
  return kWhat.at(target);
}

}  // namespace

std::string CandidateExtension(const std::string& target) {
  auto it = Extensions().find(target);
  return it == Extensions().end() ? "" : it->second.front();
}

Result<PreparedEvaluation> PrepareEvaluation(const CliConfig& config, const EvaluationJob& job) {
  auto allowed = Extensions().find(job.target);
  if (allowed == Extensions().end())
    return InvalidInput(fmt::format("--target {}: unknown target (cpu, cuda or triton)", job.target));
  for (const std::string& c : job.candidates) {
    std::string ext = std::filesystem::path(c).extension().string();
    if (std::find(allowed->second.begin(), allowed->second.end(), ext) == allowed->second.end())
      return InvalidInput(fmt::format("{}: --target {} takes {}", c, job.target, WhatTargetTakes(job.target)));
  }
  if (!config.sanitize.empty()) {
    if (Status s = CheckSanitizerTool(config.sanitize); !s.ok())
      return InvalidInput("--sanitize (or ANVIL_SANITIZE): " + s.message());
    if (job.target == "cpu")
      return InvalidInput(fmt::format(
          "--sanitize={} (or ANVIL_SANITIZE) runs compute-sanitizer, which checks GPU kernels: use it with --target "
          "cuda or triton (for C++ on the CPU, build the kernel with -fsanitize=address yourself)",
          config.sanitize));
  }
  ANVIL_ASSIGN_OR_RETURN(Task task, LoadTaskFile(job.task_path));
  if (job.mode == EvalMode::kBench && task.performance.shapes.empty())
    return InvalidInput(fmt::format(
        "{}: bench needs a [performance] table with shapes = [...]; use verify for correctness only", job.task_path));
  return PreparedEvaluation{job, std::move(task)};
}

Result<EvaluationOutcome> RunEvaluation(Store& store, Evaluator& evaluator, const CliConfig& config,
                                        const PreparedEvaluation& prepared,
                                        const std::function<void(const std::string&)>& before_each,
                                        const std::function<void(const CandidateReport&)>& after_each) {
  const EvaluationJob& job = prepared.job;
  nlohmann::json run_args = {{"task", job.task_path}, {"candidates", job.candidates}, {"threads", config.threads},
                             {"target", job.target}};
  if (!config.sanitize.empty()) run_args["sanitize"] = config.sanitize;
  if (job.via != "cli") run_args["via"] = job.via;
  ANVIL_ASSIGN_OR_RETURN(int64_t run, store.BeginRun(job.mode == EvalMode::kBench ? "bench" : "verify",
                                                     run_args.dump()));
  EvaluationOutcome outcome;
  outcome.run_id = run;
  for (const std::string& candidate : job.candidates) {
    if (before_each) before_each(candidate);
    auto report = evaluator.Evaluate(prepared.task, candidate, run, job.provenance);
    if (!report.ok()) {
      (void)store.FinishRun(run, "failed");
      return report.status().Context(candidate);
    }
    outcome.all_correct = outcome.all_correct && report->verdict == Verdict::kCorrect;
    if (after_each) after_each(*report);
    outcome.reports.push_back(std::move(*report));
  }
  (void)store.FinishRun(run, "ok");
  return outcome;
}

}  // namespace anvil::cli
