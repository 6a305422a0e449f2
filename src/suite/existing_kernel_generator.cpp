#include "suite/existing_kernel_generator.h"

#include <filesystem>

#include <fmt/format.h>

#include "compiler/emit.h"
#include "util/subprocess.h"

namespace anvil::suite {

Result<GeneratedKernel> ExistingKernelGenerator::Generate(const Task& task, Store& store, Evaluator& evaluator,
                                                          int64_t run_id) {
  namespace fs = std::filesystem;
  GeneratedKernel out;
  const compiler::Backend* backend = compiler::FindBackend(target_);
  if (backend == nullptr) return InvalidInput("unknown target " + target_ + " (cpu, cuda or triton)");
  const std::string& ext = backend->extension;
  std::string path;
  if (!kernels_dir_.empty()) {
    std::vector<std::string> names;
    if (!task.source_path.empty()) names.push_back(fs::path(task.source_path).stem().string() + ext);
    names.push_back(task.name + ext);
    for (const std::string& n : names)
      if (fs::exists(fs::path(kernels_dir_) / n)) {
        path = (fs::path(kernels_dir_) / n).string();
        break;
      }
    if (path.empty()) {
      out.no_kernel_reason = fmt::format("no {} in {}", fmt::join(names, " or "), kernels_dir_);
      return out;
    }
  } else {
    EvaluationFilter filter;
    filter.task_name = task.name;
    filter.verdict = "correct";
    filter.backend = target_;
    filter.limit = 1;
    ANVIL_ASSIGN_OR_RETURN(std::vector<EvaluationRow> rows, store.QueryEvaluations(filter));
    if (rows.empty()) {
      out.no_kernel_reason = fmt::format("the store has no {} kernel verified correct for task {}", target_, task.name);
      return out;
    }
    ANVIL_ASSIGN_OR_RETURN(CandidateRow candidate, store.GetCandidate(rows[0].candidate_id));
    std::error_code ec;
    fs::create_directories(work_dir_, ec);
    path = (fs::path(work_dir_) / (task.name + ext)).string();
    ANVIL_RETURN_IF_ERROR(WriteFileAtomic(path, candidate.source));
  }
  ANVIL_ASSIGN_OR_RETURN(CandidateReport report, evaluator.Evaluate(task, path, run_id));
  out.report = std::move(report);
  return out;
}

}  // namespace anvil::suite
