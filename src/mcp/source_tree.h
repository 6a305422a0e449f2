// Where the MCP server finds the files it hands to agents: the candidate ABI
// headers (include/anvil/), the knowledge docs (knowledge/<backend>/) and the
// skill document (docs/agent-skill.md). They live in the source tree anvil
// was built from, whose include/ the build names (ANVIL_SOURCE_INCLUDE_DIR).
#pragma once

#include <filesystem>
#include <string>

namespace anvil::mcp {

inline std::string SourceTreePath(const std::string& relative) {
  return (std::filesystem::path(ANVIL_SOURCE_INCLUDE_DIR).parent_path() / relative).lexically_normal().string();
}

}  // namespace anvil::mcp
