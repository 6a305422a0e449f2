#include "mcp/server.h"

#include <exception>
#include <iostream>

#include <fmt/format.h>

#include "mcp/source_tree.h"
#include "mcp/tool_table.h"

namespace anvil::mcp {
namespace {

std::string Instructions() {
  return fmt::format(
      "Anvil proves compute kernels correct against PyTorch (many shapes, dtypes, layouts and value "
      "distributions, in a sandboxed worker) and times them against PyTorch eager. Read {} first. The loop: "
      "list_tasks to find a task (or write a task TOML, docs/task-format.md); show_task with your backend "
      "(cpu, cuda or triton) for the task, the candidate ABI and the knowledge docs; search_kernels for proven "
      "kernels of similar ops; write the kernel; verify it and fix what the verdict and the worst case say until "
      "it is correct; bench it for the speedup over PyTorch eager; save_kernel with the evaluation_id to keep it.",
      SourceTreePath("docs/agent-skill.md"));
}

RpcError InvalidParams(std::string message) { return {kInvalidParams, std::move(message), nullptr}; }

}  // namespace

const std::vector<std::string>& SupportedProtocolVersions() {
  // Not 2025-03-26: that revision requires servers to accept JSON-RPC batches,
  // which this server refuses (2024-11-05 did not have them, 2025-06-18
  // removed them). A client asking for it is answered with the newest version
  // here, as the spec asks of a server that lacks the requested one.
  static const std::vector<std::string> kVersions = {"2025-06-18", "2024-11-05"};
  return kVersions;
}

McpServer::McpServer(cli::CliConfig config, int in_fd, int out_fd)
    : session_(std::move(config)), reader_(in_fd), writer_(out_fd) {}

int McpServer::Run() {
  std::cerr << fmt::format("anvil mcp: serving MCP on stdin/stdout (workspace {})", session_.config().workspace)
            << std::endl;
  while (auto line = reader_.ReadLine()) {
    if (line->find_first_not_of(" \t") == std::string::npos) continue;  // blank lines carry no message
    IncomingMessage message = ParseMessage(*line);
    switch (message.kind) {
      case IncomingMessage::Kind::kInvalid:
        writer_failed_ = !writer_.Write(ErrorMessage(message.id, message.error)) || writer_failed_;
        break;
      case IncomingMessage::Kind::kResponse:
        break;  // the server sends no requests, so no response is awaited
      case IncomingMessage::Kind::kNotification:
        // notifications/initialized, notifications/cancelled (calls run to the
        // end: one at a time, and a worker mid-case is not interrupted), and any
        // other: JSON-RPC never answers a notification.
        break;
      case IncomingMessage::Kind::kRequest:
        writer_failed_ = !writer_.Write(HandleRequest(message)) || writer_failed_;
        break;
    }
    if (writer_failed_) {
      std::cerr << "anvil mcp: the client closed stdout; stopping" << std::endl;
      return 3;
    }
  }
  return 0;
}

nlohmann::json McpServer::HandleRequest(const IncomingMessage& request) {
  const std::string& method = request.method;
  if (method == "initialize") return Initialize(request);
  if (method == "ping") return ResultMessage(request.id, nlohmann::json::object());
  if (method == "tools/list") {
    nlohmann::json tools = nlohmann::json::array();
    for (const ToolSpec& tool : Tools()) tools.push_back(ToolListing(tool));
    return ResultMessage(request.id, {{"tools", tools}});
  }
  if (method == "tools/call") return CallTool(request);
  return ErrorMessage(request.id,
                      {kMethodNotFound,
                       fmt::format("method not found: '{}' (anvil serves initialize, ping, tools/list, tools/call)",
                                   method),
                       nullptr});
}

nlohmann::json McpServer::Initialize(const IncomingMessage& request) {
  const nlohmann::json& params = request.params;
  if (!params.is_object() || !params.contains("protocolVersion") || !params["protocolVersion"].is_string())
    return ErrorMessage(request.id, InvalidParams("initialize: params.protocolVersion (a string such as \"" +
                                                  SupportedProtocolVersions().front() + "\") is required"));
  std::string asked = params["protocolVersion"].get<std::string>();
  protocol_version_ = SupportedProtocolVersions().front();
  for (const std::string& v : SupportedProtocolVersions())
    if (v == asked) protocol_version_ = v;
  if (protocol_version_ != asked)
    std::cerr << fmt::format("anvil mcp: the client asked for protocol {}; answering {}", asked, protocol_version_)
              << std::endl;
  return ResultMessage(request.id, {{"protocolVersion", protocol_version_},
                                    {"capabilities", {{"tools", {{"listChanged", false}}}}},
                                    {"serverInfo", {{"name", "anvil"}, {"title", "Anvil"}, {"version", ANVIL_VERSION}}},
                                    {"instructions", Instructions()}});
}

nlohmann::json McpServer::CallTool(const IncomingMessage& request) {
  const nlohmann::json& params = request.params;
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
    return ErrorMessage(request.id, InvalidParams("tools/call: params.name (the tool's name, a string) is required"));
  std::string name = params["name"].get<std::string>();
  const ToolSpec* tool = FindTool(name);
  if (tool == nullptr) {
    std::string names;
    for (const ToolSpec& t : Tools()) names += (names.empty() ? "" : ", ") + t.name;
    return ErrorMessage(request.id, InvalidParams(fmt::format("unknown tool '{}'; the tools are: {}", name, names)));
  }
  nlohmann::json arguments = params.value("arguments", nlohmann::json::object());
  if (arguments.is_null()) arguments = nlohmann::json::object();
  if (Status s = ValidateArguments(*tool, arguments); !s.ok())
    return ErrorMessage(request.id, InvalidParams(fmt::format("{}: {}", name, s.message())));

  // Progress for this call, when the client gave a token to send it under.
  nlohmann::json token;
  if (params.contains("_meta") && params["_meta"].is_object() && params["_meta"].contains("progressToken")) {
    const nlohmann::json& t = params["_meta"]["progressToken"];
    if (t.is_string() || t.is_number_integer() || t.is_number_unsigned()) token = t;
  }
  if (!token.is_null())
    session_.set_progress([this, token](double progress, std::optional<double> total, const std::string& message) {
      nlohmann::json p = {{"progressToken", token}, {"progress", progress}, {"message", message}};
      if (total) p["total"] = *total;
      writer_failed_ = !writer_.Write(NotificationMessage("notifications/progress", p)) || writer_failed_;
    });
  ToolResult result;
  try {
    result = tool->handler(session_, arguments);
  } catch (const std::exception& e) {
    // Exceptions stop here: the connection outlives a tool's bug.
    result = ToolError(fmt::format("internal error in {}: {} (a bug in anvil; please report it)", name, e.what()));
  }
  session_.set_progress(nullptr);
  return ResultMessage(request.id,
                       {{"content", nlohmann::json::array({{{"type", "text"},
                                                            {"text", result.structured.dump(
                                                                         -1, ' ', false,
                                                                         nlohmann::json::error_handler_t::replace)}}})},
                        {"structuredContent", result.structured},
                        {"isError", result.is_error}});
}

}  // namespace anvil::mcp
