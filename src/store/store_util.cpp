#include "store/store_util.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace anvil::store {

Status CheckJson(const std::string& path, const std::string& field, const std::string& text, bool allow_empty) {
  if (text.empty() && allow_empty) return Status::Ok();
  if (nlohmann::json::accept(text)) return Status::Ok();
  std::string shown = text.size() > 80 ? text.substr(0, 80) + "..." : text;
  return InvalidInput("store " + path + ": " + field + " is not valid JSON: '" + shown + "'");
}

std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<int64_t> NullIfZero(int64_t id) {
  if (id == 0) return std::nullopt;
  return id;
}

std::optional<double> GeometricMean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double log_sum = 0;
  for (double v : values) {
    if (v <= 0) return 0.0;
    log_sum += std::log(v);
  }
  return std::exp(log_sum / static_cast<double>(values.size()));
}

Result<int64_t> RunReturningId(sqlite::Statement& stmt) {
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return InternalError("store: INSERT ... RETURNING id returned no row");
  int64_t id = stmt.ColumnInt64(0);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  return id;
}

}  // namespace anvil::store
