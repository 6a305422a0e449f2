// The MCP server behind `anvil mcp`: reads JSON-RPC messages from one file
// descriptor (stdin), answers on another (the real stdout), one call at a
// time, until the client closes its end.
//
// Methods: initialize (version negotiation, capabilities {tools}),
// notifications/initialized, ping, tools/list, tools/call; other
// notifications are ignored, other requests get -32601. Tool calls go through
// the tool table (tool_table.h): unknown tools and arguments that do not fit
// the schema are -32602 errors; a tool that runs and fails answers a result
// with isError. A call with params._meta.progressToken gets
// notifications/progress while it runs (verify and bench, per case).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/config.h"
#include "mcp/json_rpc.h"
#include "mcp/session.h"

namespace anvil::mcp {

// The protocol revisions served, newest first. A client asking for one of
// them gets it; any other gets the newest, and may disconnect.
const std::vector<std::string>& SupportedProtocolVersions();

class McpServer {
 public:
  McpServer(cli::CliConfig config, int in_fd, int out_fd);

  // Serves until end of input; returns the process exit code (0 at EOF, 3
  // when stdout was closed under us).
  int Run();

 private:
  // The answer to one request (a result or an error message).
  nlohmann::json HandleRequest(const IncomingMessage& request);
  nlohmann::json Initialize(const IncomingMessage& request);
  nlohmann::json CallTool(const IncomingMessage& request);

  McpSession session_;
  LineReader reader_;
  MessageWriter writer_;
  bool writer_failed_ = false;
  std::string protocol_version_;
};

}  // namespace anvil::mcp
