// Loading knowledge/<backend>/*.md (see knowledge.h).
#include "agent/knowledge.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace anvil::agent {

std::string DefaultKnowledgeRoot() {
#ifdef ANVIL_PYTHON_TOOLS_DIR
  // ANVIL_PYTHON_TOOLS_DIR is <source>/python; knowledge/ is its sibling.
  return (std::filesystem::path(ANVIL_PYTHON_TOOLS_DIR).parent_path() / "knowledge").string();
#else
  return "knowledge";
#endif
}

Knowledge LoadKnowledge(const std::string& root, const std::string& backend, size_t max_bytes) {
  namespace fs = std::filesystem;
  Knowledge k;
  const fs::path dir = fs::path(root) / backend;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    k.note = fmt::format("no knowledge documents for {} ({} does not exist)", backend, dir.string());
    return k;
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<std::string> left_out;
  for (const fs::path& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string part = fmt::format("## {}\n\n{}\n\n", f.filename().string(), ss.str());
    if (k.text.size() + part.size() > max_bytes) {
      left_out.push_back(f.filename().string());
      continue;
    }
    k.text += part;
    k.files.push_back(f.filename().string());
  }
  if (files.empty()) k.note = fmt::format("no knowledge documents for {} ({} has no .md files)", backend, dir.string());
  else if (!left_out.empty())
    k.note = fmt::format("left out over the {} KiB cap: {}", max_bytes / 1024, fmt::join(left_out, ", "));
  return k;
}

}  // namespace anvil::agent
