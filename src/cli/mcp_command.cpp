// anvil mcp: the Model Context Protocol server for coding agents, over stdio
// (src/mcp/server.h; docs/mcp.md says how to register it with a client).
//
// The protocol owns stdout: the server writes its messages to a private copy
// of the original stdout, and fd 1 is pointed at stderr for the rest of the
// process, so nothing else anvil or a library prints can corrupt the stream.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "mcp/server.h"

namespace anvil::cli {
namespace {

int RunMcp(const CliConfig& config) {
  std::fflush(stdout);
  int protocol_out = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (protocol_out < 0) return ReportError(IoError("anvil mcp: cannot duplicate stdout"));
  if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) return ReportError(IoError("anvil mcp: cannot redirect stdout"));
  // A client that goes away must end the server through a failed write, not SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  mcp::McpServer server(config, STDIN_FILENO, protocol_out);
  int code = server.Run();
  close(protocol_out);
  return code;
}

}  // namespace

void AddMcpCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "mcp", "Serve the Model Context Protocol on stdin/stdout for coding agents (tools: list_tasks, show_task, "
             "verify, bench, search_kernels, save_kernel)");
  cmd->footer(
      "Register with an MCP client as {\"command\": \"anvil\", \"args\": [\"mcp\"], \"env\": {\"ANVIL_WORKSPACE\": "
      "\"...\"}}.\nRelative paths in tool arguments are relative to the directory the server starts in.\n"
      "Docs: docs/mcp.md, docs/agent-skill.md");
  cmd->callback([&config, exit_code] {
    ResolveDefaults(config);
    config.progress = false;  // progress goes to the client as notifications, not to a terminal
    *exit_code = RunMcp(config);
  });
}

}  // namespace anvil::cli
