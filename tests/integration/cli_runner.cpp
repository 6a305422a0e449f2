#include "cli_runner.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/subprocess.h"

namespace anvil::testing {

CliWorkspace::CliWorkspace() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-it-XXXXXX").string();
  dir_ = mkdtemp(tmpl.data());
}

CliWorkspace::~CliWorkspace() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

CliRun CliWorkspace::Run(const std::vector<std::string>& args, double timeout_s) const {
  std::vector<std::string> argv = {ANVIL_CLI_PATH, "--workspace", dir_, "--no-progress"};
  argv.insert(argv.end(), args.begin(), args.end());
  CliRun run;
  auto r = RunProcess(argv, timeout_s, ANVIL_SOURCE_DIR);
  if (!r.ok()) {
    run.output = r.status().message();
    return run;
  }
  run.exit_code = r->timed_out ? -2 : r->exit_code;
  run.output = r->output;
  // With --json the JSON document is the stdout; stderr lines (if any) precede it.
  size_t start = run.output.find_first_of("[{");
  if (start != std::string::npos)
    run.json = nlohmann::json::parse(run.output.substr(start), nullptr, false);
  return run;
}

std::string SourcePath(const std::string& relative) {
  return (std::filesystem::path(ANVIL_SOURCE_DIR) / relative).string();
}

std::string ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace anvil::testing
