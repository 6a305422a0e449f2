// Suites: a suite is a folder of task files (tasks/fused, tasks/aten110,
// a folder written by `anvil import kernelbench`). Its name is the folder's
// name; `anvil suite run NAME` looks it up under the suite roots, or takes a
// folder path directly.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace anvil::suite {

struct SuiteInfo {
  std::string name;                     // the folder's name
  std::string dir;                      // absolute path
  std::vector<std::string> task_files;  // *.toml directly in the folder, sorted
};

// Every folder directly under each root that holds at least one *.toml
// file, sorted by name; a name found under two roots is listed once (first root wins).
std::vector<SuiteInfo> ListSuites(const std::vector<std::string>& roots);

// NAME under the roots, or a folder path. kNotFound names the suites there are.
Result<SuiteInfo> FindSuite(const std::string& name_or_dir, const std::vector<std::string>& roots);

}  // namespace anvil::suite
