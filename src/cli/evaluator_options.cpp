#include "cli/evaluator_options.h"

namespace anvil::cli {

EvaluatorOptions EvaluatorOptionsFrom(const CliConfig& config, const std::string& target, EvalMode mode) {
  EvaluatorOptions options;
  options.mode = mode;
  options.target = target;
  options.threads = config.threads;
  options.case_timeout_s = config.case_timeout_s;
  options.worker.device = target == "cpu" ? "cpu" : "cuda";
  options.worker.worker_path = config.worker_path;
  options.worker.scratch_dir = config.ScratchDir();
  options.worker.memory_limit_mb = config.memory_limit_mb;
  options.build.include_dir = config.include_dir;
  options.build.cache_dir = config.BuildCacheDir();
  options.cuda_build.include_dir = config.include_dir;
  options.cuda_build.cache_dir = config.BuildCacheDir();
  options.cuda_build.nvcc = config.nvcc;
  options.sanitize_tool = config.sanitize;
  options.sanitize_dir = config.SanitizerDir();
  return options;
}

}  // namespace anvil::cli
