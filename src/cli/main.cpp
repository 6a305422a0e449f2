// anvil: the command-line front end. One option table; commands live in
// their own files (evaluate_command.cpp, task_command.cpp, results_command.cpp).
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

namespace anvil::cli {

namespace {
// The parsed configuration, so that an error under --json is also a JSON
// document on stdout (scripts and agents read stdout only).
const CliConfig* g_config = nullptr;
}  // namespace

int ReportError(const Status& status) {
  std::cerr << "anvil: error: " << status.message() << std::endl;
  int exit_code = kExitEnvironment;
  switch (status.code()) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kNotFound:
    case ErrorCode::kUnsupported:
      exit_code = kExitUsage;
      break;
    default:
      break;
  }
  if (g_config != nullptr && g_config->json)
    std::cout << nlohmann::json{{"error", {{"message", status.message()}, {"exit_code", exit_code}}}}.dump(2) << std::endl;
  return exit_code;
}

}  // namespace anvil::cli

int main(int argc, char** argv) {
  using namespace anvil::cli;
  CLI::App app{fmt::format(
      "anvil {} — turns operator descriptions into verified, measured kernels.\n"
      "Candidates are proven against LibTorch on many shapes, dtypes, layouts and seeds in a sandboxed\n"
      "worker, timed against LibTorch eager, and recorded in a SQLite store.",
      ANVIL_VERSION)};
  app.require_subcommand(1);
  app.footer("Start here:\n  anvil task list\n  anvil verify examples/softmax/kernel.cpp --task examples/softmax/task.toml\n"
             "  anvil bench  examples/softmax/kernel.cpp --task examples/softmax/task.toml\n  anvil results\n"
             "Docs: README.md, docs/task-format.md, docs/formula.md, docs/verification-policy.md");
  CliConfig config;
  g_config = &config;
  app.add_option("--workspace,-w", config.workspace, "store, build cache and scratch directory")
      ->envname("ANVIL_WORKSPACE")
      ->capture_default_str();
  app.add_option("--worker", config.worker_path, "anvil-worker executable (default: beside anvil)")
      ->envname("ANVIL_WORKER");
  app.add_option("--include-dir", config.include_dir, "directory with anvil/kernel.h for candidate builds")
      ->envname("ANVIL_INCLUDE_DIR");
  app.add_option("--threads,-j", config.threads, "CPU threads for candidate and baseline (0: all cores)")
      ->envname("ANVIL_THREADS")
      ->capture_default_str();
  app.add_option("--timeout", config.case_timeout_s, "seconds a case may run before it is a timeout")
      ->envname("ANVIL_CASE_TIMEOUT")
      ->capture_default_str();
  app.add_option("--nvcc", config.nvcc, "CUDA compiler for --target cuda (default: $CUDACXX, nvcc on PATH, "
                                        "/usr/local/cuda/bin/nvcc)")
      ->envname("ANVIL_NVCC");
  app.add_option("--memory-limit-mb", config.memory_limit_mb, "address space a candidate may allocate in the worker, MiB (0: no limit)")
      ->envname("ANVIL_MEMORY_LIMIT_MB")
      ->capture_default_str();
  app.add_option("--python", config.python, "Python with torch for reading reference modules (default: the worker's)")
      ->envname("ANVIL_PYTHON");
  app.add_flag("--json", config.json, "machine-readable JSON on stdout");
  app.add_flag("!--no-progress", config.progress, "no progress bar");

  int exit_code = kExitOk;
  AddEvaluateCommands(app, config, &exit_code);
  AddTaskCommands(app, config, &exit_code);
  AddResultsCommand(app, config, &exit_code);
  AddGenCommand(app, config, &exit_code);
  AddImportCommand(app, config, &exit_code);
  AddMcpCommand(app, config, &exit_code);
  AddSearchCommand(app, config, &exit_code);
  AddSessionCommand(app, config, &exit_code);
  AddSuiteCommands(app, config, &exit_code);
  AddReportCommands(app, config, &exit_code);
#if ANVIL_WITH_LLM
  for (CLI::App* s : app.get_subcommands([](CLI::App* a) { return a->get_name() == "session"; }))
    AddSessionReplayCommand(*s, config, &exit_code);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  return exit_code;
}
