// Helpers shared by the files that implement Store (store.cpp,
// store_sessions.cpp, store_kernels.cpp): the SQL clock, JSON column checks,
// NULL for empty optional text, the geometric mean of timing medians and
// running an INSERT ... RETURNING id to completion. Internal to src/store.
//
// Threading and failure: as Store; these are pure functions or act on the
// statement they are given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_handle.h"
#include "util/status.h"

namespace anvil::store {

// SQL expression for "now" in the store's timestamp format (ISO-8601 UTC,
// milliseconds); every writer uses it so that timestamps sort in time order.
inline constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

// Checks a JSON column before it reaches SQLite so that the error names the
// field; the schema's json_valid CHECK is the backstop for other writers.
// kInvalidInput naming `path` and `field`.
Status CheckJson(const std::string& path, const std::string& field, const std::string& text, bool allow_empty);

// Empty optional text columns are stored as NULL.
std::optional<std::string> NullIfEmpty(const std::string& s);
// Id columns where 0 means "none" are stored as NULL (and read back as 0).
std::optional<int64_t> NullIfZero(int64_t id);

// Geometric mean of timing medians; nullopt for none, 0 when one is <= 0.
std::optional<double> GeometricMean(const std::vector<double>& values);

// Runs an INSERT ... RETURNING id statement to completion. The autocommit
// transaction only commits when the statement finishes, so stepping past the
// returned row is what makes the write durable (and reports its errors).
Result<int64_t> RunReturningId(sqlite::Statement& stmt);

}  // namespace anvil::store
