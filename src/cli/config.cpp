#include "cli/config.h"

#include <unistd.h>

#include <filesystem>

#include "util/cpu_set.h"

namespace anvil::cli {

void ResolveDefaults(CliConfig& config) {
  if (config.worker_path.empty()) {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    config.worker_path = ec ? "anvil-worker" : (self.parent_path() / "anvil-worker").string();
  }
  if (config.include_dir.empty()) config.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
  if (config.python.empty()) config.python = ANVIL_DEFAULT_PYTHON;
  if (config.threads <= 0) config.threads = AllowedCpuCount();
  config.workspace = std::filesystem::absolute(config.workspace).lexically_normal().string();
  if (config.json || !isatty(2)) config.progress = false;
}

}  // namespace anvil::cli
