#include "task/performance_shapes.h"

#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace anvil {
namespace {

Result<toml::table> ParseFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidInput(fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description()));
  }
}

std::string Text(const toml::table& root) {
  std::stringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace

Result<std::string> WithPerformanceShapes(const std::string& path, const std::vector<Bindings>& shapes) {
  ANVIL_ASSIGN_OR_RETURN(toml::table root, ParseFile(path));
  toml::array list;
  for (const Bindings& b : shapes) {
    toml::table shape;
    for (const auto& [symbol, size] : b) shape.insert(symbol, size);
    list.push_back(std::move(shape));
  }
  if (toml::table* performance = root["performance"].as_table())
    performance->insert_or_assign("shapes", std::move(list));
  else
    root.insert("performance", toml::table{{"shapes", std::move(list)}});
  return Text(root);
}

Result<std::string> WithScaledPerformanceShapes(const std::string& path, int64_t divisor) {
  if (divisor < 1) return InvalidInput(fmt::format("a performance scale divisor must be at least 1, not {}", divisor));
  ANVIL_ASSIGN_OR_RETURN(toml::table root, ParseFile(path));
  if (toml::array* shapes = root.at_path("performance.shapes").as_array()) {
    for (toml::node& node : *shapes) {
      toml::table* shape = node.as_table();
      if (shape == nullptr) continue;  // ParseTask reports the malformed entry
      for (auto&& [symbol, size] : *shape)
        if (toml::value<int64_t>* v = size.as_integer()) v->get() = std::max<int64_t>(1, (v->get() + divisor - 1) / divisor);
    }
  }
  return Text(root);
}

}  // namespace anvil
