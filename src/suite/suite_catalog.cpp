#include "suite/suite_catalog.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

namespace anvil::suite {
namespace fs = std::filesystem;
namespace {

SuiteInfo Describe(const fs::path& dir) {
  SuiteInfo s;
  s.dir = fs::absolute(dir).lexically_normal().string();
  s.name = fs::path(s.dir).filename().string();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(s.dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".toml") s.task_files.push_back(e.path().string());
  std::sort(s.task_files.begin(), s.task_files.end());
  return s;
}

}  // namespace

std::vector<SuiteInfo> ListSuites(const std::vector<std::string>& roots) {
  std::vector<SuiteInfo> out;
  std::set<std::string> names;
  for (const std::string& root : roots) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(root, ec))
      if (e.is_directory()) dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    for (const fs::path& d : dirs) {
      SuiteInfo s = Describe(d);
      if (s.task_files.empty() || names.count(s.name)) continue;
      names.insert(s.name);
      out.push_back(std::move(s));
    }
  }
  std::sort(out.begin(), out.end(), [](const SuiteInfo& a, const SuiteInfo& b) { return a.name < b.name; });
  return out;
}

Result<SuiteInfo> FindSuite(const std::string& name_or_dir, const std::vector<std::string>& roots) {
  std::error_code ec;
  if (name_or_dir.find('/') != std::string::npos || fs::is_directory(name_or_dir, ec)) {
    if (!fs::is_directory(name_or_dir, ec)) return NotFound(fmt::format("{}: no such folder", name_or_dir));
    SuiteInfo s = Describe(name_or_dir);
    if (s.task_files.empty()) return NotFound(fmt::format("{}: no task files (*.toml) in it", name_or_dir));
    return s;
  }
  std::vector<std::string> known;
  for (SuiteInfo& s : ListSuites(roots)) {
    if (s.name == name_or_dir) return std::move(s);
    known.push_back(s.name);
  }
  return NotFound(fmt::format("no suite '{}' (known: {}; or give a folder of task files)", name_or_dir,
                              known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
}

}  // namespace anvil::suite
