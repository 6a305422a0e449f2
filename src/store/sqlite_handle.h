// Small RAII wrappers over the SQLite3 C API: a connection (Db), a prepared
// statement (Statement) and an IMMEDIATE transaction (Transaction).
//
// Ownership: Db owns its sqlite3* and closes it on destruction; a Statement
// owns its sqlite3_stmt* and finalizes it; both are move-only. A Statement
// must not outlive the Db that prepared it.
// Threading: a Db and its Statements belong to one thread at a time (the
// connection is opened with SQLITE_OPEN_NOMUTEX).
// Failure: every SQLite error becomes a Status whose message names the
// database file, the purpose the caller gave ("recording case 3") and
// SQLite's own message. Constraint violations are kInvalidInput (the caller
// passed ids or values the schema refuses); everything else is kIo.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace anvil::sqlite {

class Statement;

class Db {
 public:
  // Opens (creating if missing) the database file at `path`. The parent
  // directory must exist. ":memory:" opens a private in-memory database.
  static Result<Db> Open(const std::string& path);

  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Runs one or more ';'-separated statements that return no rows we need.
  Status Exec(const std::string& sql, const std::string& purpose);
  // Compiles one statement; `purpose` is kept for its error messages.
  Result<Statement> Prepare(const std::string& sql, const std::string& purpose);
  // Runs a statement expected to return a single text value in its first
  // column (pragmas such as journal_mode, integrity_check).
  Result<std::string> QueryText(const std::string& sql, const std::string& purpose);

  int64_t LastInsertRowId() const;
  int Changes() const;  // rows changed by the most recent statement
  const std::string& path() const { return path_; }

  // Builds the Status for SQLite result code `rc` of this connection.
  Status Error(int rc, const std::string& purpose) const;

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binders take 1-based parameter indices, as SQLite does. A failed bind
  // is remembered and reported by the next Step/Run.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, bool value) { return Bind(index, static_cast<int64_t>(value ? 1 : 0)); }
  // SQLite stores a bound NaN as NULL; ColumnDouble reads NULL back as NaN.
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);  // copied by SQLite
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, const std::string& value) { return Bind(index, std::string_view(value)); }
  Statement& BindNull(int index);
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Advances: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, ignoring any rows.
  Status Run();
  // Makes the statement ready to run again with new bindings.
  void Reset();

  // Column accessors (0-based). NULL reads as 0, NaN or "" respectively.
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt64(int column) const;
  int ColumnInt(int column) const { return static_cast<int>(ColumnInt64(column)); }
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::optional<std::string> ColumnOptionalText(int column) const;

 private:
  friend class Db;
  Statement(sqlite3* db, std::string path, sqlite3_stmt* stmt, std::string purpose)
      : db_(db), path_(std::move(path)), stmt_(stmt), purpose_(std::move(purpose)) {}
  void NoteBind(int rc);

  // The raw connection, not the Db object, so that moving a Db does not
  // leave its statements pointing at a moved-from shell.
  sqlite3* db_ = nullptr;
  std::string path_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string purpose_;
  int bind_rc_ = 0;  // first failing bind's result code, 0 when none failed
};

// BEGIN IMMEDIATE on construction through Begin(); rolls back on destruction
// unless Commit() succeeded. IMMEDIATE takes the write lock up front so that
// a read-then-write sequence cannot fail half-way with SQLITE_BUSY.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db, const std::string& purpose);
  Transaction(Transaction&& other) noexcept : db_(other.db_), purpose_(std::move(other.purpose_)) {
    other.db_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status Commit();

 private:
  Transaction(Db* db, std::string purpose) : db_(db), purpose_(std::move(purpose)) {}
  Db* db_ = nullptr;  // null once committed or rolled back
  std::string purpose_;
};

}  // namespace anvil::sqlite
