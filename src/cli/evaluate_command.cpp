// anvil verify / anvil bench: judge candidate files against a task.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/report_format.h"
#include "orchestrator/evaluator.h"
#include "task/task_file.h"

namespace anvil::cli {
namespace {

struct EvaluateArgs {
  std::vector<std::string> candidates;
  std::string task_path;
  std::string target = "cpu";
};

int RunEvaluate(const CliConfig& config, const EvaluateArgs& args, EvalMode mode) {
  // Each target takes one kind of source file.
  static const std::map<std::string, std::vector<std::string>> kExtensions = {
      {"cpu", {".cpp", ".cc", ".cxx"}}, {"cuda", {".cu"}}, {"triton", {".py"}}};
  static const std::map<std::string, std::string> kWhat = {
      {"cpu", "C++ sources (.cpp, .cc, .cxx) implementing include/anvil/kernel.h"},
      {"cuda", "CUDA C++ sources (.cu) implementing include/anvil/kernel.h"},
      {"triton", "Python files (.py) with @triton.jit kernels and an anvil_kernel(**tensors) entry"}};
  auto allowed = kExtensions.find(args.target);
  if (allowed == kExtensions.end())
    return ReportError(InvalidInput(fmt::format("--target {}: unknown target (cpu, cuda or triton)", args.target)));
  for (const std::string& c : args.candidates) {
    std::string ext = std::filesystem::path(c).extension().string();
    if (std::find(allowed->second.begin(), allowed->second.end(), ext) == allowed->second.end())
      return ReportError(InvalidInput(fmt::format("{}: --target {} takes {}", c, args.target, kWhat.at(args.target))));
  }
  if (!config.sanitize.empty()) {
    if (Status s = CheckSanitizerTool(config.sanitize); !s.ok())
      return ReportError(InvalidInput("--sanitize (or ANVIL_SANITIZE): " + s.message()));
    if (args.target == "cpu")
      return ReportError(InvalidInput(fmt::format(
          "--sanitize={} (or ANVIL_SANITIZE) runs compute-sanitizer, which checks GPU kernels: use it with --target "
          "cuda or triton (for C++ on the CPU, build the kernel with -fsanitize=address yourself)",
          config.sanitize)));
  }
  auto task = LoadTaskFile(args.task_path);
  if (!task.ok()) return ReportError(task.status());
  if (mode == EvalMode::kBench && task->performance.shapes.empty())
    return ReportError(InvalidInput(fmt::format(
        "{}: bench needs a [performance] table with shapes = [...]; use verify for correctness only",
        args.task_path)));
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  (void)(*store)->MarkAbandonedRuns();

  nlohmann::json run_args = {{"task", args.task_path}, {"candidates", args.candidates}, {"threads", config.threads},
                             {"target", args.target}};
  if (!config.sanitize.empty()) run_args["sanitize"] = config.sanitize;
  auto run = (*store)->BeginRun(mode == EvalMode::kBench ? "bench" : "verify", run_args.dump());
  if (!run.ok()) return ReportError(run.status());

  EvaluatorOptions options = EvaluatorOptionsFrom(config, args.target, mode);

  ProgressBar bar(config.progress);
  std::string label;
  Evaluator evaluator(**store, options,
                      [&](const std::string& phase, int done, int total) { bar.Update(label, phase, done, total); });

  nlohmann::json reports = nlohmann::json::array();
  bool all_correct = true;
  bool color = !config.json && isatty(1);
  for (const std::string& candidate : args.candidates) {
    label = std::filesystem::path(candidate).filename().string();
    auto report = evaluator.Evaluate(*task, candidate, *run);
    bar.Clear();
    if (!report.ok()) {
      (void)(*store)->FinishRun(*run, "failed");
      return ReportError(report.status().Context(candidate));
    }
    all_correct = all_correct && report->verdict == Verdict::kCorrect;
    if (config.json)
      reports.push_back(ReportToJson(*report));
    else
      std::cout << FormatReport(*report, color) << std::endl;
  }
  (void)(*store)->FinishRun(*run, "ok");
  if (config.json) std::cout << nlohmann::json{{"run_id", *run}, {"results", reports}}.dump(2) << std::endl;
  return all_correct ? kExitOk : kExitNotCorrect;
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
