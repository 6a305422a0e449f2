// anvil verify / anvil bench: judge candidate files against a task (the work
// itself is in evaluate_candidate.h, shared with the MCP server).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/evaluate_candidate.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/report_format.h"
#include "orchestrator/evaluator.h"

namespace anvil::cli {
namespace {

struct EvaluateArgs {
  std::vector<std::string> candidates;
  std::string task_path;
  std::string target = "cpu";
};

int RunEvaluate(const CliConfig& config, const EvaluateArgs& args, EvalMode mode) {
  EvaluationJob job;
  job.task_path = args.task_path;
  job.candidates = args.candidates;
  job.target = args.target;
  job.mode = mode;
  auto prepared = PrepareEvaluation(config, job);
  if (!prepared.ok()) return ReportError(prepared.status());
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  (void)(*store)->MarkAbandonedRuns();

  ProgressBar bar(config.progress);
  std::string label;
  Evaluator evaluator(**store, EvaluatorOptionsFrom(config, args.target, mode),
                      [&](const std::string& phase, int done, int total) { bar.Update(label, phase, done, total); });
  bool color = !config.json && isatty(1);
  auto outcome = RunEvaluation(
      **store, evaluator, config, *prepared,
      [&](const std::string& candidate) { label = std::filesystem::path(candidate).filename().string(); },
      [&](const CandidateReport& report) {
        bar.Clear();
        if (!config.json) std::cout << FormatReport(report, color) << std::endl;
      });
  bar.Clear();
  if (!outcome.ok()) return ReportError(outcome.status());
  if (config.json) {
    nlohmann::json reports = nlohmann::json::array();
    for (const CandidateReport& report : outcome->reports) reports.push_back(ReportToJson(report));
    std::cout << nlohmann::json{{"run_id", outcome->run_id}, {"results", reports}}.dump(2) << std::endl;
  }
  return outcome->all_correct ? kExitOk : kExitNotCorrect;
}

}  // namespace

void AddEvaluateCommands(CLI::App& app, CliConfig& config, int* exit_code) {
  for (EvalMode mode : {EvalMode::kVerify, EvalMode::kBench}) {
    bool bench = mode == EvalMode::kBench;
    auto args = std::make_shared<EvaluateArgs>();
    CLI::App* cmd = app.add_subcommand(
        bench ? "bench" : "verify",
        bench ? "Verify candidates, then time them against LibTorch eager on the task's performance cases"
              : "Prove candidate kernels against the task's reference on every correctness case");
    cmd->add_option("candidates", args->candidates,
                    "candidate files: .cpp (cpu) or .cu (cuda) implementing include/anvil/kernel.h, or .py (triton)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--task,-t", args->task_path, "task file (TOML, see docs/task-format.md)")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--target", args->target,
                    "cpu (C++ on this machine's cores), cuda (CUDA C++ on the first GPU) or triton (Python, GPU)")
        ->check(CLI::IsMember({"cpu", "cuda", "triton"}))
        ->capture_default_str();
    // A flag with an optional value: `--sanitize` is memcheck, `--sanitize=racecheck` another tool
    // (`--sanitize racecheck` would read racecheck as a candidate file).
    cmd->add_flag("--sanitize{memcheck}", config.sanitize,
                  "on a GPU failure (crash, runtime_error, wrong), re-run the failing case under compute-sanitizer "
                  "and attach its report: --sanitize (memcheck) or --sanitize=racecheck|initcheck|synccheck")
        ->envname("ANVIL_SANITIZE");
    cmd->footer(bench ? "Example:\n  anvil bench examples/softmax/kernel.cpp --task examples/softmax/task.toml\n"
                        "  anvil bench examples/softmax/softmax.cu --task examples/softmax/task.toml --target cuda\n"
                        "Speedup = PyTorch eager (and, on GPUs, torch.compile) median / candidate median, same\n"
                        "inputs, same process; CPU: same thread count; GPU: CUDA events, L2 flushed per trial."
                      : "Example:\n  anvil verify examples/softmax/kernel.cpp --task examples/softmax/task.toml\n"
                        "  anvil verify examples/softmax/softmax_triton.py --task examples/softmax/task.toml "
                        "--target triton\n"
                        "Exit code 0: all correct; 1: some candidate not correct; 2: bad input; 3: environment.");
    cmd->callback([&config, args, mode, exit_code] {
      ResolveDefaults(config);
      *exit_code = RunEvaluate(config, *args, mode);
    });
  }
}

}  // namespace anvil::cli
