// Runs the real anvil CLI in a fresh workspace and captures what it prints.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace anvil::testing {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  nlohmann::json json; // parsed stdout when --json was given and it parsed
};

class CliWorkspace {
 public:
  CliWorkspace();   // a new temporary directory
  ~CliWorkspace();  // removed
  // Runs `anvil --workspace <dir> <args...>` from the source tree root.
  CliRun Run(const std::vector<std::string>& args, double timeout_s = 600) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

std::string SourcePath(const std::string& relative);  // absolute path in the source tree
std::string ReadTextFile(const std::string& path);    // the file's contents ("" when it cannot be read)

}  // namespace anvil::testing
