#include "store/sqlite_handle.h"

#include <sqlite3.h>

#include <limits>
#include <utility>

#include "util/check.h"

namespace anvil::sqlite {

namespace {

Status ErrorFor(sqlite3* db, int rc, const std::string& path, const std::string& purpose) {
  // sqlite3_errmsg describes the most recent failure on this connection,
  // which is richer than sqlite3_errstr ("UNIQUE constraint failed: t.x").
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = "store " + path + ": " + purpose + ": " + detail;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return InvalidInput(std::move(message));
  return IoError(std::move(message));
}

}  // namespace

// ---------------------------------------------------------------- Db

Result<Db> Db::Open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  // sqlite3_open_v2 hands back a handle even on failure so that its error
  // message can be read; it must still be closed.
  Db db(raw, path);
  if (rc != SQLITE_OK) return ErrorFor(raw, rc, path, "opening the database");
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Db::Db(Db&& other) noexcept : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

Db::~Db() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Db::Error(int rc, const std::string& purpose) const { return ErrorFor(db_, rc, path_, purpose); }

Status Db::Exec(const std::string& sql, const std::string& purpose) {
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, purpose);
  return Status::Ok();
}

Result<Statement> Db::Prepare(const std::string& sql, const std::string& purpose) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, purpose);
  return Statement(db_, path_, stmt, purpose);
}

Result<std::string> Db::QueryText(const std::string& sql, const std::string& purpose) {
  ANVIL_ASSIGN_OR_RETURN(Statement stmt, Prepare(sql, purpose));
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return ProtocolError("store " + path_ + ": " + purpose + ": no row returned");
  return stmt.ColumnText(0);
}

int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int Db::Changes() const { return sqlite3_changes(db_); }

// ---------------------------------------------------------------- Statement

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      path_(std::move(other.path_)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      purpose_(std::move(other.purpose_)),
      bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    path_ = std::move(other.path_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    purpose_ = std::move(other.purpose_);
    bind_rc_ = other.bind_rc_;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::NoteBind(int rc) {
  // SQLITE_RANGE means the SQL and the binding code disagree: our bug.
  ANVIL_CHECK(rc != SQLITE_RANGE);
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
}

Statement& Statement::Bind(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value));
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  NoteBind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index));
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != 0) return ErrorFor(nullptr, bind_rc_, path_, purpose_ + " (binding parameters)");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorFor(db_, rc, path_, purpose_);
}

Status Statement::Run() {
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, Step());
    if (!has_row) return Status::Ok();
  }
}

void Statement::Reset() {
  // sqlite3_reset repeats the last step's error, which Step already reported.
  (void)sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = 0;
}

bool Statement::ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

int64_t Statement::ColumnInt64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const {
  if (ColumnIsNull(column)) return std::numeric_limits<double>::quiet_NaN();
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  // Ask for the size after the text: sqlite3_column_bytes may convert.
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::ColumnOptionalText(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnText(column);
}

// ---------------------------------------------------------------- Transaction

Result<Transaction> Transaction::Begin(Db& db, const std::string& purpose) {
  ANVIL_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE", purpose + " (starting a transaction)"));
  return Transaction(&db, purpose);
}

Transaction::~Transaction() {
  // Nothing useful can be done with a failed rollback here: SQLite rolls the
  // transaction back itself when the connection closes.
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK", purpose_ + " (rolling back)");
}

Status Transaction::Commit() {
  ANVIL_CHECK(db_ != nullptr);
  Status s = db_->Exec("COMMIT", purpose_ + " (committing)");
  if (s.ok()) db_ = nullptr;
  return s;
}

}  // namespace anvil::sqlite
