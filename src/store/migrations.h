// The store's schema as an ordered list of migrations.
//
// Version N of the schema is what migrations 1..N produce. Each migration is
// SQL text applied in its own IMMEDIATE transaction together with the row
// (version, applied_at) it adds to schema_migrations, so a crash leaves the
// database at some whole version, never between two. Migrations are only ever
// appended: once released, a migration's text does not change (databases in
// the field were built from it). docs/store.md describes the resulting schema.
//
// Threading: functions here use the given connection only; same rules as Db.
// Failure: SQL errors come back as Status; a database whose version is newer
// than the list here is kUnsupported with a message that says to upgrade.
#pragma once

#include <string>
#include <vector>

#include "store/sqlite_handle.h"
#include "util/status.h"

namespace anvil::store {

struct Migration {
  int version;          // 1, 2, ... without gaps
  std::string summary;  // one line for logs and docs
  std::string sql;      // one or more statements
};

// All migrations in order; the last one's version is the latest schema.
const std::vector<Migration>& AllMigrations();
int LatestSchemaVersion();

// The highest version recorded in schema_migrations; 0 for a database that
// has no schema_migrations table yet (a new file).
Result<int> ReadSchemaVersion(sqlite::Db& db);

// Applies the migrations after the current version up to and including
// `target_version` (normally LatestSchemaVersion(); tests pass smaller ones to
// build old databases). Safe against another process migrating the same file
// at the same time: each step re-reads the version inside its transaction.
// A database already above LatestSchemaVersion() is refused before anything
// is written.
Status Migrate(sqlite::Db& db, int target_version);

}  // namespace anvil::store
