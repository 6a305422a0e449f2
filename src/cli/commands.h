// The CLI's commands. Each registers its subcommand on the app and runs it.
// Exit codes scripts can rely on:
//   0  every candidate correct / the query succeeded
//   1  at least one candidate was judged not correct
//   2  the user's input is wrong (bad flags, task file, missing file)
//   3  the environment failed (worker, compiler, store)
#pragma once

#include <CLI/CLI.hpp>

#include "cli/config.h"
#include "util/status.h"

namespace anvil::cli {

enum ExitCode { kExitOk = 0, kExitNotCorrect = 1, kExitUsage = 2, kExitEnvironment = 3 };

// Each Add* registers a subcommand; the callback stores the exit code in *exit_code.
void AddEvaluateCommands(CLI::App& app, CliConfig& config, int* exit_code);  // verify, bench
void AddTaskCommands(CLI::App& app, CliConfig& config, int* exit_code);      // task list, task show
void AddResultsCommand(CLI::App& app, CliConfig& config, int* exit_code);    // results
void AddGenCommand(CLI::App& app, CliConfig& config, int* exit_code);        // gen (the built-in compiler)
void AddImportCommand(CLI::App& app, CliConfig& config, int* exit_code);     // import kernelbench
void AddMcpCommand(CLI::App& app, CliConfig& config, int* exit_code);        // mcp (MCP server over stdio)
void AddSearchCommand(CLI::App& app, CliConfig& config, int* exit_code);     // search (proven kernels)
void AddSessionCommand(CLI::App& app, CliConfig& config, int* exit_code);    // session list, session show
void AddSessionReplayCommand(CLI::App& session, CliConfig& config, int* exit_code);  // session replay (on `session`)
void AddSuiteCommands(CLI::App& app, CliConfig& config, int* exit_code);     // suite list, suite run
void AddReportCommands(CLI::App& app, CliConfig& config, int* exit_code);    // report list, run, compare

// Maps a Status to an exit code and prints its message on stderr.
int ReportError(const Status& status);

}  // namespace anvil::cli
