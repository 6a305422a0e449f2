// Finding the kernel source in a model's reply (see code_block.h).
#include "agent/code_block.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

namespace anvil::agent {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::vector<FencedBlock> FencedBlocks(const std::string& text) {
  std::vector<FencedBlock> blocks;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool inside = false;
  std::string fence;  // the opening fence's backticks: a closing fence has at least as many
  FencedBlock current;
  while (std::getline(in, line)) {
    ++number;
    const std::string t = Trim(line);
    if (!inside) {
      if (t.rfind("```", 0) != 0) continue;
      size_t ticks = t.find_first_not_of('`');
      if (ticks == std::string::npos) ticks = t.size();
      fence = t.substr(0, ticks);
      std::string info = Trim(t.substr(ticks));
      // "```cpp title=x" or "```{.cpp}": the first word, braces and dots dropped.
      info = info.substr(0, info.find_first_of(" \t"));
      info.erase(std::remove_if(info.begin(), info.end(), [](char c) { return c == '{' || c == '}' || c == '.'; }),
                 info.end());
      current = FencedBlock{Lower(info), "", number, true};
      inside = true;
      continue;
    }
    if (t.size() >= fence.size() && t.find_first_not_of('`') == std::string::npos) {
      blocks.push_back(current);
      inside = false;
      continue;
    }
    current.body += line;
    current.body += '\n';
  }
  if (inside) {
    current.closed = false;
    blocks.push_back(current);
  }
  return blocks;
}

const std::vector<std::string>& AcceptedTags(const std::string& backend) {
  static const std::vector<std::string> kCpu = {"cpp", "c++", "cxx", "c"};
  static const std::vector<std::string> kCuda = {"cuda", "cu", "cpp", "c++"};
  static const std::vector<std::string> kTriton = {"python", "py"};
  if (backend == "cuda") return kCuda;
  if (backend == "triton") return kTriton;
  return kCpu;
}

Result<std::string> ExtractCode(const std::string& reply, const std::string& backend) {
  const std::vector<std::string>& tags = AcceptedTags(backend);
  const std::string want = tags.front();
  const std::vector<FencedBlock> blocks = FencedBlocks(reply);
  const FencedBlock* chosen = nullptr;
  for (const FencedBlock& b : blocks)
    if (std::find(tags.begin(), tags.end(), b.tag) != tags.end()) chosen = &b;
  if (chosen == nullptr && blocks.size() == 1 && blocks.front().tag.empty()) chosen = &blocks.front();
  if (chosen == nullptr) {
    if (blocks.empty())
      return InvalidInput(fmt::format("your reply had no ```{} code block; reply with the whole file in one ```{} block",
                                      want, want));
    std::string seen;
    for (const FencedBlock& b : blocks) seen += (seen.empty() ? "" : ", ") + (b.tag.empty() ? "untagged" : b.tag);
    return InvalidInput(fmt::format("your reply had no ```{} code block (it had: {}); reply with the whole file in one "
                                    "```{} block",
                                    want, seen, want));
  }
  if (!chosen->closed)
    return InvalidInput(fmt::format(
        "your reply ended inside the ```{} block that starts on its line {} (cut off at the length limit?); reply with "
        "the whole file in one complete block, shorter if need be",
        want, chosen->line));
  if (Trim(chosen->body).empty())
    return InvalidInput(fmt::format("the ```{} block of your reply is empty; reply with the whole file in it", want));
  return chosen->body;
}

}  // namespace anvil::agent
