// anvil suite list | run: whole operator suites through generate -> verify
// -> bench (suite/suite_runner.h does the work), with a progress line, a
// summary table and optional HTML report. Generators: builtin (the built-in
// compiler), none (existing kernels), llm (the agent loop, agent/suite_generator.h;
// only in builds with libcurl). Ctrl-C or SIGTERM stops the run within about
// a second and prints what it has, with the command that resumes it; exit 130.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "agent/llm/cancel_token.h"
#include "cli/commands.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "suite/builtin_generator.h"
#include "suite/existing_kernel_generator.h"
#include "suite/html_report.h"
#include "suite/metrics.h"
#include "suite/suite_catalog.h"
#include "suite/suite_runner.h"
#include "suite/terminal_report.h"

#if ANVIL_WITH_LLM
#include "agent/llm/llm_config.h"
#include "agent/suite_generator.h"
#endif

namespace anvil::cli {
namespace {

// Where suites are looked up: ./tasks, then the source tree's tasks/.
std::vector<std::string> SuiteRoots() {
  std::vector<std::string> roots = {"tasks"};
  std::filesystem::path source_tasks = std::filesystem::path(ANVIL_SOURCE_INCLUDE_DIR).parent_path() / "tasks";
  std::error_code ec;
  if (!std::filesystem::equivalent(source_tasks, "tasks", ec)) roots.push_back(source_tasks.string());
  return roots;
}

int RunList(const CliConfig& config) {
  std::vector<suite::SuiteInfo> suites = suite::ListSuites(SuiteRoots());
  if (config.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const suite::SuiteInfo& s : suites)
      out.push_back({{"name", s.name}, {"dir", s.dir}, {"tasks", s.task_files.size()}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const suite::SuiteInfo& s : suites) std::cout << fmt::format("{:<20} {:>4} tasks  {}\n", s.name, s.task_files.size(), s.dir);
  if (suites.empty()) std::cout << "(no suites: a suite is a folder of task files under ./tasks)\n";
  return kExitOk;
}

struct SuiteRunArgs {
  std::string suite;
  std::string target = "cpu";
  std::string generator = "builtin";
  int jobs = 1;
  int64_t resume = 0;
  std::string kernels;
  bool no_tune = false;
  bool verify_only = false;
  int64_t perf_scale = 1;
  std::string html;
  // --generator llm: the model, and the agent loop's budgets per task.
  std::string llm_spec;            // PROVIDER:MODEL; "" = ANVIL_LLM / the LLM config file
  int rounds = 4;
  long long max_tokens_task = 0;   // input + output tokens per task's session; 0 = no limit
  double time_budget_task = 0;     // seconds per task's session; 0 = no limit
  bool no_seed = false;
};

// The exit status of a run stopped by SIGINT or SIGTERM, as a shell reports
// a command that Ctrl-C ended.
constexpr int kExitInterrupted = 130;

// `s` as one shell word.
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=+-,@%") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The command that continues suite run `id`: the same suite, target and
// generator (--resume refuses others) and the options that shape the results.
// The global options (--workspace, --timeout, ...) are the user's to repeat.
std::string ResumeCommand(const SuiteRunArgs& args, int64_t id) {
  std::string cmd = "anvil suite run " + ShellWord(args.suite);
  if (args.target != "cpu") cmd += " --target " + args.target;
  if (args.generator != "builtin") cmd += " --generator " + args.generator;
  if (!args.kernels.empty()) cmd += " --kernels " + ShellWord(args.kernels);
  if (args.jobs != 1) cmd += fmt::format(" --jobs {}", args.jobs);
  if (args.no_tune) cmd += " --no-tune";
  if (args.verify_only) cmd += " --verify-only";
  if (args.perf_scale != 1) cmd += fmt::format(" --perf-scale {}", args.perf_scale);
  if (!args.llm_spec.empty()) cmd += " --llm " + ShellWord(args.llm_spec);
  if (args.generator == "llm") {
    if (args.rounds != SuiteRunArgs{}.rounds) cmd += fmt::format(" --rounds {}", args.rounds);
    if (args.max_tokens_task > 0) cmd += fmt::format(" --max-tokens-task {}", args.max_tokens_task);
    if (args.time_budget_task > 0) cmd += fmt::format(" --time-budget-task {}", args.time_budget_task);
    if (args.no_seed) cmd += " --no-seed";
  }
  return cmd + fmt::format(" --resume {}", id);
}

Status WriteHtml(const std::string& path, const suite::SuiteRun& run) {
  std::ofstream out(path);
  out << suite::RenderHtmlReport(run);
  if (!out) return IoError(path + ": cannot write the HTML report");
  return Status::Ok();
}

int RunSuiteCommand(const CliConfig& config, const SuiteRunArgs& args) {
  if (args.target != "cpu" && args.target != "cuda" && args.target != "triton")
    return ReportError(InvalidInput("--target " + args.target + ": unknown (cpu, cuda or triton)"));
  if (args.generator != "builtin" && args.generator != "none" && args.generator != "llm")
    return ReportError(InvalidInput("--generator " + args.generator + ": unknown (builtin, none, llm)"));
  const bool use_llm = args.generator == "llm";
#if ANVIL_WITH_LLM
  llm::LlmConfig llm_config;
  if (use_llm) {
    // The agent's stopping rule and `anvil session replay` follow the task's
    // performance shapes: an untimed session of a timed task would spend
    // every round "optimising" kernels it cannot time.
    if (args.verify_only)
      return ReportError(InvalidInput(
          "--verify-only cannot be combined with --generator llm: the agent optimises against timings; bound its "
          "work with --rounds, --max-tokens-task or --time-budget-task, or time less with --perf-scale"));
    auto loaded = llm::LoadLlmConfig(llm::ProcessEnvironment(), args.llm_spec);
    if (!loaded.ok()) return ReportError(loaded.status().Context("--generator llm"));
    llm_config = std::move(*loaded);
  }
#else
  if (use_llm)
    return ReportError(Unavailable(
        "--generator llm: anvil was built without libcurl, so it cannot call a language model; run "
        "scripts/setup.sh (it installs libcurl's development files) and rebuild"));
#endif
  auto found = suite::FindSuite(args.suite, SuiteRoots());
  if (!found.ok()) return ReportError(found.status());

  suite::SuiteRunOptions options;
  options.suite = found->name;
  options.task_files = found->task_files;
  options.target = args.target;
  options.generator = args.generator;
  options.jobs = args.jobs;
  options.resume_id = args.resume;
  options.verify_only = args.verify_only;
  if (args.perf_scale < 1) return ReportError(InvalidInput("--perf-scale must be at least 1"));
  options.perf_divisor = args.perf_scale;
  options.store_path = config.StorePath();
  options.evaluator = EvaluatorOptionsFrom(config, args.target, EvalMode::kBench);
  options.evaluator.sanitize_tool.clear();
  nlohmann::json command_args = {{"suite", found->dir}, {"target", args.target}, {"generator", args.generator},
                                  {"jobs", args.jobs}, {"resume", args.resume}, {"perf_scale", args.perf_scale}};
#if ANVIL_WITH_LLM
  if (use_llm) {
    command_args["llm"] = llm::ProviderKindName(llm_config.provider) + std::string(":") + llm_config.model;
    command_args["rounds"] = args.rounds;
    command_args["max_tokens_task"] = args.max_tokens_task;
    command_args["time_budget_task"] = args.time_budget_task;
    command_args["seed"] = !args.no_seed;
  }
#endif
  options.command_args_json = command_args.dump();

  ProgressBar bar(config.progress);
  std::mutex bar_mu;  // the runner's progress and the sessions' lines come from several job threads
  llm::CancelToken cancel;  // raised on Ctrl-C: LLM sessions in flight end 'cancelled'

  const std::string work_dir = config.workspace + "/suite-kernels";
  suite::GeneratorFactory factory = [&](int job) -> std::unique_ptr<suite::TaskGenerator> {
#if ANVIL_WITH_LLM
    if (use_llm) {
      agent::LlmSuiteGeneratorOptions gen;
      gen.llm = llm_config;
      gen.conductor.rounds = args.rounds;
      gen.conductor.max_total_tokens = args.max_tokens_task;
      gen.conductor.time_budget_s = args.time_budget_task;
      gen.conductor.seed = !args.no_seed;
      gen.backend = args.target;
      gen.store_path = options.store_path;
      gen.workspace = config.workspace;
      gen.include_dir = config.include_dir;
      // As the runner splits the CPU between jobs (suite_runner.h).
      gen.threads = args.target == "cpu" && args.jobs > 1 ? std::max(1, options.evaluator.threads / args.jobs)
                                                          : options.evaluator.threads;
      gen.cancel = &cancel;
      gen.progress = [&](const std::string& task, const std::string& line) {
        std::lock_guard<std::mutex> lock(bar_mu);
        bar.Clear();
        std::cerr << "  " << task << ": " << line << std::endl;
      };
      return std::make_unique<agent::LlmSuiteGenerator>(std::move(gen));
    }
#endif
    if (args.generator == "none")
      return std::make_unique<suite::ExistingKernelGenerator>(args.target, args.kernels,
                                                               work_dir + fmt::format("/job{}", job));
    compiler::GenerateOptions gen;
    gen.target = args.target;
    gen.work_dir = config.workspace + fmt::format("/gen/job{}", job);
    gen.tune = !args.no_tune && !args.verify_only;  // tuning compares timings
    gen.threads = args.target == "cpu" ? std::max(1, config.threads / std::max(1, args.jobs)) : 1;
    gen.include_dir = config.include_dir;
    return std::make_unique<suite::BuiltinGenerator>(gen);
  };

  const bool human = !config.json;
  bool stopping = false;            // guarded by bar_mu
  bool ended = false;               // likewise: the runner returned, the bar is gone
  suite::SuiteProgress last;        // likewise: what the bar showed last
  auto draw = [&](const suite::SuiteProgress& p) {
    bar.Update(fmt::format("{} ✓{} ✗{} {}", found->name, p.correct, p.failed, stopping ? "" : p.task),
               stopping ? "stopping..." : "tasks", p.done, p.total);
  };
  auto progress = [&](const suite::SuiteProgress& p) {
    std::lock_guard<std::mutex> lock(bar_mu);
    last = p;
    draw(p);
    if (p.finished && human && !config.progress) {
      // Without a bar (not a terminal) one line per finished task, so logs show progress.
      std::cerr << fmt::format("[{}/{}] {} {}\n", p.done, p.total, p.result.task, suite::TaskStatusName(p.result.status));
    }
  };
  // The first Ctrl-C (or SIGTERM) stops the run: the runner and the
  // evaluators read the flag, LLM sessions the token. It stays installed
  // while the summary prints, so a second one quits at once.
  StopSignal stop([&] {
    cancel.Cancel();
    std::lock_guard<std::mutex> lock(bar_mu);
    stopping = true;
    if (ended) return;
    if (config.progress) {
      draw(last);
    } else {
      std::cerr << "interrupted: stopping the tasks in flight (again to quit at once)" << std::endl;
    }
  });
  Result<suite::SuiteRun> run = suite::RunSuite(options, factory, progress, stop.flag());
  {
    std::lock_guard<std::mutex> lock(bar_mu);
    bar.Clear();
    ended = true;
  }
  if (!run.ok()) return ReportError(run.status());
  if (!args.html.empty())
    if (Status s = WriteHtml(args.html, *run); !s.ok()) return ReportError(s);
  int pending = 0;
  for (const suite::TaskResult& t : run->tasks) pending += t.status == suite::TaskStatus::kPending;
  // A signal after the last task finished changed nothing: the run ends as usual.
  const bool interrupted = stop.stopped() && pending > 0;
  const std::string resume_line =
      interrupted ? fmt::format("interrupted: {} of {} tasks not finished; resume with: {}\n", pending,
                                run->tasks.size(), ResumeCommand(args, run->id))
                  : "";
  if (config.json) {
    // On stderr and before the document, so stdout is one JSON document and
    // so is the tail of stdout and stderr read together.
    std::cerr << resume_line << std::flush;
    std::cout << nlohmann::json{{"run", suite::ToJson(*run)}, {"metrics", suite::ToJson(suite::ComputeMetrics(run->tasks))}}.dump(2)
              << "\n";
  } else {
    std::cout << suite::FormatSuiteSummary(*run);
    if (!args.html.empty()) std::cout << "HTML report: " << args.html << "\n";
    std::cout << resume_line;
  }
  if (interrupted) return kExitInterrupted;
  for (const suite::TaskResult& t : run->tasks)
    if (t.status == suite::TaskStatus::kError) return kExitEnvironment;
  for (const suite::TaskResult& t : run->tasks)
    if (t.status != suite::TaskStatus::kCorrect) return kExitNotCorrect;
  return kExitOk;
}

}  // namespace

void AddSuiteCommands(CLI::App& app, CliConfig& config, int* exit_code) {
  CLI::App* suite = app.add_subcommand("suite", "Operator suites: list them, run one through generate, verify and bench");
  suite->require_subcommand(1);
  CLI::App* list = suite->add_subcommand("list", "List the suites (folders of task files under ./tasks and Anvil's tasks/)");
  list->callback([&config, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunList(config);
  });
  auto args = std::make_shared<SuiteRunArgs>();
  CLI::App* run = suite->add_subcommand("run", "Run every task of a suite: generate, verify on every case, time");
  run->add_option("suite", args->suite, "suite name (anvil suite list) or a folder of task files")->required();
  run->add_option("--target", args->target, "cpu, cuda or triton")->capture_default_str();
  run->add_option("--generator", args->generator,
                  "builtin (the built-in compiler), none (existing kernels) or llm (the LLM agent, docs/suites.md)")
      ->capture_default_str();
  run->add_option("--jobs", args->jobs, "tasks in parallel: one worker each (GPU: one per GPU)")->capture_default_str();
  run->add_option("--resume", args->resume, "continue suite run ID: only its unfinished tasks");
  run->add_option("--kernels", args->kernels,
                  "with --generator none: folder of kernels named after the tasks (default: the store's correct ones)");
  run->add_flag("--no-tune", args->no_tune, "builtin: evaluate only the default configuration");
  run->add_flag("--verify-only", args->verify_only, "correctness only: verify every case, time nothing");
  run->add_option("--perf-scale", args->perf_scale,
                  "divide every performance size by this (4: 4096x4096 -> 1024x1024), e.g. to time GPU-sized suites on a CPU");
  run->add_option("--html", args->html, "also write the HTML report to this file");
  run->add_option("--llm", args->llm_spec, "with --generator llm: PROVIDER:MODEL (default: $ANVIL_LLM or the LLM config file)");
  run->add_option("--rounds", args->rounds, "with --generator llm: LLM rounds per task at most")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  run->add_option("--max-tokens-task", args->max_tokens_task,
                  "with --generator llm: stop a task's session after this many tokens (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  run->add_option("--time-budget-task", args->time_budget_task,
                  "with --generator llm: stop starting rounds of a task's session after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--no-seed", args->no_seed, "with --generator llm: do not start from the built-in compiler's kernel");
  run->callback([&config, args, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunSuiteCommand(config, *args);
  });
}

}  // namespace anvil::cli
