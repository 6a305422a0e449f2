// The MCP tools anvil serves: name, description, input JSON Schema, and the
// handler, in one table (tool_table.cpp). tools/list prints the table;
// tools/call checks the arguments against the tool's schema here before the
// handler runs, so a handler sees only arguments of the declared types.
//
// The schemas use a small subset of JSON Schema, which ValidateArguments
// implements in full: an object with typed properties (string, integer,
// boolean, array of strings), enum, minimum/maximum for integers, required,
// additionalProperties false; plus one rule JSON Schema states awkwardly and
// clients render badly (oneOf), "exactly one of these properties".
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace anvil::mcp {

class McpSession;

// What a tool returns. `structured` is the JSON object a tool call answers
// with (as text content and as structuredContent). `is_error`: the tool ran
// but failed (a missing task file, a compile error, a kernel that is not
// correct); the JSON says why, for the agent to act on.
struct ToolResult {
  nlohmann::json structured = nlohmann::json::object();
  bool is_error = false;
};

// A failed tool run as a ToolResult: {"error": message}.
ToolResult ToolError(const std::string& message);

using ToolHandler = std::function<ToolResult(McpSession& session, const nlohmann::json& arguments)>;

struct ToolSpec {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;
  std::vector<std::string> exactly_one_of;  // besides the schema: exactly one of these must be given
  ToolHandler handler;
};

// Every tool, in the order tools/list shows them.
const std::vector<ToolSpec>& Tools();

// The tool called `name`, or nullptr.
const ToolSpec* FindTool(const std::string& name);

// The tools/list entry of a tool: name, title, description, inputSchema.
nlohmann::json ToolListing(const ToolSpec& tool);

// Checks `arguments` against the tool's schema. The error (kInvalidInput)
// names the argument and what was expected: "argument 'target': expected one
// of \"cpu\", \"cuda\", \"triton\", got \"gpu\"".
Status ValidateArguments(const ToolSpec& tool, const nlohmann::json& arguments);

}  // namespace anvil::mcp
