// Source checks before a build (see source_policy.h).
#include "agent/source_policy.h"

#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace anvil::agent {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

Status CheckCpp(const std::string& source, const std::string& backend) {
  const std::string code = StripCommentsAndStrings(source);
  const std::vector<std::string> stripped = Lines(code);
  const std::vector<std::string> original = Lines(source);
  // An include's path is a "string", so includes are read from the original
  // lines whose stripped form still starts with #include (not commented out).
  static const std::regex kInclude(R"(^\s*#\s*include\s*[<"]\s*(torch/|ATen/|c10/|caffe2/|pybind11/|Python\.h|THC/))");
  static const std::regex kNamespace(R"((^|[^\w:])(at|torch|c10|pybind11)\s*::)");
  const char* kWhy = "the kernel must compute the result itself, with no PyTorch (candidates are built without it)";
  for (size_t i = 0; i < stripped.size() && i < original.size(); ++i) {
    std::smatch m;
    if (stripped[i].find("#") != std::string::npos && std::regex_search(original[i], m, kInclude))
      return InvalidInput(fmt::format("line {}: `{}` includes a PyTorch/Python header; {}", i + 1,
                                      original[i].substr(original[i].find_first_not_of(" \t")), kWhy));
    if (std::regex_search(stripped[i], m, kNamespace))
      return InvalidInput(fmt::format("line {}: uses `{}::`; {}", i + 1, m[2].str(), kWhy));
  }
  static const std::regex kEntry(R"(\banvil_kernel\s*\()");
  if (!std::regex_search(code, kEntry))
    return InvalidInput(fmt::format(
        "the file does not define anvil_kernel: it must define "
        "`extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call)` (include \"anvil/{}\")",
        backend == "cuda" ? "cuda_tensor.h" : "cpu_tensor.h"));
  return Status::Ok();
}

Status CheckTriton(const std::string& source) {
  static const std::regex kEntry(R"((^|\n)def\s+anvil_kernel\s*\()");
  if (!std::regex_search(source, kEntry))
    return InvalidInput(
        "the file does not define `def anvil_kernel(...)` at the top level: it must, taking the task's inputs, "
        "outputs and attributes in declaration order and launching your @triton.jit kernels");
  return Status::Ok();
}

}  // namespace

std::string StripCommentsAndStrings(const std::string& s) {
  std::string out = s;
  enum { kCode, kLine, kBlock, kString, kChar } state = kCode;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    switch (state) {
      case kCode:
        if (c == '/' && next == '/') state = kLine, out[i] = ' ';
        else if (c == '/' && next == '*') state = kBlock, out[i] = ' ', out[i + 1] = ' ', ++i;
        else if (c == '"') state = kString;
        else if (c == '\'') state = kChar;
        break;
      case kLine:
        if (c == '\n') state = kCode;
        else out[i] = ' ';
        break;
      case kBlock:
        if (c == '*' && next == '/') state = kCode, out[i] = ' ', out[i + 1] = ' ', ++i;
        else if (c != '\n') out[i] = ' ';
        break;
      case kString:
      case kChar:
        if (c == '\\' && next != '\0') {
          out[i] = ' ';
          if (next != '\n') out[i + 1] = ' ';
          ++i;
        } else if ((state == kString && c == '"') || (state == kChar && c == '\'') || c == '\n') {
          state = kCode;  // an unterminated literal ends at the line's end
        } else {
          out[i] = ' ';
        }
        break;
    }
  }
  return out;
}

Status CheckSourcePolicy(const std::string& source, const std::string& backend) {
  if (backend == "triton") return CheckTriton(source);
  return CheckCpp(source, backend);
}

}  // namespace anvil::agent
