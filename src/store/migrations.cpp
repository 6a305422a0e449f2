#include "store/migrations.h"

#include <string>

namespace anvil::store {

namespace {

// Timestamps are ISO-8601 UTC with milliseconds ("2024-05-01T12:00:00.123Z"),
// produced by SQLite so that every writer uses one clock format; the text
// sorts in time order.
#define ANVIL_STORE_NOW "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))"

// Migration 1: every table. JSON columns are checked with json_valid so that
// a malformed document is refused at write time, not discovered at read time.
// Floating-point error columns are nullable because SQLite stores NaN as NULL
// (a candidate that produced NaN has a NaN error).
const char* const kMigration1 = R"sql(
CREATE TABLE tasks (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL,
  source_path  TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  text         TEXT NOT NULL,
  created_at   TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  UNIQUE (name, content_hash)
);

CREATE TABLE candidates (
  id          INTEGER PRIMARY KEY,
  task_id     INTEGER NOT NULL REFERENCES tasks(id),
  backend     TEXT NOT NULL CHECK (backend IN ('cpu', 'cuda', 'triton')),
  source_path TEXT NOT NULL,
  source_hash TEXT NOT NULL,
  source      TEXT NOT NULL,
  provenance  TEXT NOT NULL CHECK (provenance <> ''),
  created_at  TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  UNIQUE (task_id, backend, source_hash)
);
CREATE INDEX candidates_by_task ON candidates(task_id);

CREATE TABLE builds (
  id           INTEGER PRIMARY KEY,
  candidate_id INTEGER NOT NULL REFERENCES candidates(id),
  cache_key    TEXT NOT NULL,
  compiler     TEXT NOT NULL,
  flags        TEXT NOT NULL,
  ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
  log          TEXT NOT NULL,
  seconds      REAL NOT NULL,
  cached       INTEGER NOT NULL CHECK (cached IN (0, 1)),
  created_at   TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(
);
CREATE INDEX builds_by_candidate ON builds(candidate_id);
CREATE INDEX builds_by_cache_key ON builds(cache_key);

CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  command       TEXT NOT NULL,
  args_json     TEXT NOT NULL CHECK (json_valid(args_json)),
  anvil_version TEXT NOT NULL,
  host          TEXT NOT NULL,
  pid           INTEGER NOT NULL,
  started_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  finished_at   TEXT,
  status        TEXT CHECK (status IS NULL OR status IN ('ok', 'failed', 'interrupted'))
);

CREATE TABLE evaluations (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id),
  candidate_id  INTEGER NOT NULL REFERENCES candidates(id),
  kind          TEXT NOT NULL CHECK (kind IN ('verify', 'bench')),
  verdict       TEXT CHECK (verdict IS NULL OR verdict <> ''),
  reason        TEXT,
  detail_json   TEXT CHECK (detail_json IS NULL OR json_valid(detail_json)),
  cases_total   INTEGER,
  cases_passed  INTEGER,
  started_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  finished_at   TEXT
);
CREATE INDEX evaluations_by_run ON evaluations(run_id);
CREATE INDEX evaluations_by_candidate ON evaluations(candidate_id);

CREATE TABLE case_results (
  id            INTEGER PRIMARY KEY,
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  case_index    INTEGER NOT NULL,
  dtype         TEXT NOT NULL,
  bindings_json TEXT NOT NULL CHECK (json_valid(bindings_json)),
  layout        TEXT NOT NULL,
  distribution  TEXT NOT NULL,
  seed          INTEGER NOT NULL,
  verdict       TEXT NOT NULL CHECK (verdict <> ''),
  max_abs_err   REAL,
  max_rel_err   REAL,
  detail_json   TEXT CHECK (detail_json IS NULL OR json_valid(detail_json))
);
CREATE INDEX case_results_by_evaluation ON case_results(evaluation_id, case_index);

CREATE TABLE timings (
  id            INTEGER PRIMARY KEY,
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  case_label    TEXT NOT NULL,
  subject       TEXT NOT NULL CHECK (subject <> ''),
  threads       INTEGER NOT NULL,
  median_ns     REAL NOT NULL CHECK (median_ns >= 0),
  q1_ns         REAL NOT NULL,
  q3_ns         REAL NOT NULL,
  samples_json  TEXT NOT NULL CHECK (json_valid(samples_json)),
  created_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(
);
CREATE INDEX timings_by_evaluation ON timings(evaluation_id);
)sql";

// Migration 2: "what is the current verdict of each candidate?" is the most
// common question (reports, resuming a run). The view answers it with the
// newest finished evaluation per (candidate, kind); the index makes its
// correlated lookup a single index probe.
const char* const kMigration2 = R"sql(
CREATE INDEX evaluations_by_candidate_kind ON evaluations(candidate_id, kind, id)
  WHERE finished_at IS NOT NULL;

CREATE VIEW latest_evaluations AS
SELECT e.*
FROM evaluations AS e
WHERE e.finished_at IS NOT NULL
  AND e.id = (SELECT MAX(e2.id) FROM evaluations AS e2
              WHERE e2.candidate_id = e.candidate_id AND e2.kind = e.kind
                AND e2.finished_at IS NOT NULL);
)sql";

// Migration 3: what timings need beyond their samples. device_ceilings holds
// one measured DeviceCeilings document (verify/roofline.h) per device key
// (device name, driver and software versions), so a device is measured once
// and every later speed-of-light fraction uses the same ceilings; the store
// keeps the document as text so that it does not depend on verify/.
// timings.detail_json carries per-timing facts that are not worth a column
// each (host wall-time medians, whether the L2 was flushed, the
// speed-of-light fraction); NULL for rows recorded before version 3.
const char* const kMigration3 = R"sql(
CREATE TABLE device_ceilings (
  device_key  TEXT PRIMARY KEY CHECK (device_key <> ''),
  json        TEXT NOT NULL CHECK (json_valid(json)),
  measured_at TEXT NOT NULL
);

ALTER TABLE timings ADD COLUMN detail_json TEXT CHECK (detail_json IS NULL OR json_valid(detail_json));
)sql";

// Migration 4: the built-in compiler's tuning cache. One row per (kernel
// key: the plans' hash and the target; device key; dtype label; shape
// bucket): the best parameters the tuner measured, and the evaluation that
// verified and timed the kernel printed with them, so a second `anvil gen`
// of the same formula on the same device skips tuning.
const char* const kMigration4 = R"sql(
CREATE TABLE tuned_kernels (
  kernel_key    TEXT NOT NULL CHECK (kernel_key <> ''),
  device_key    TEXT NOT NULL,
  dtypes        TEXT NOT NULL,
  shape_bucket  TEXT NOT NULL,
  params_json   TEXT NOT NULL CHECK (json_valid(params_json)),
  evaluation_id INTEGER REFERENCES evaluations(id),
  tuned_at      TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  PRIMARY KEY (kernel_key, device_key, dtypes, shape_bucket)
);
)sql";

// Migration 5: the agent loop and the proven-kernel index.
// sessions: one agent run on one task and backend; llm_exchanges: every LLM
// call of a session as it returned (what replay reads back);
// session_candidates: what became of each coder reply. proven_kernels: one
// row per candidate with a correct evaluation (the newest), with the text
// search matches; proven_kernels_fts is its FTS5 index (external content,
// kept in step by the triggers, so that an upsert of a row is one statement
// and the row itself keeps foreign keys and CHECKs, which a virtual table
// cannot); triggers refuse an entry whose evaluation is not a finished
// 'correct' one of that candidate, whoever writes. saved_kernels: the
// kernels a user or agent kept; likewise refused unless correct. The backfill indexes existing candidates whose newest finished
// evaluation is correct, with the task's text as summary (dtypes and op
// kinds unknown here, left empty).
const char* const kMigration5 = R"sql(
CREATE TABLE sessions (
  id                 INTEGER PRIMARY KEY,
  run_id             INTEGER NOT NULL REFERENCES runs(id),
  task_id            INTEGER NOT NULL REFERENCES tasks(id),
  backend            TEXT NOT NULL CHECK (backend IN ('cpu', 'cuda', 'triton')),
  input_form         TEXT NOT NULL CHECK (input_form IN ('task', 'formula', 'reference', 'words')),
  reference_author   TEXT NOT NULL DEFAULT '',
  provider           TEXT NOT NULL,
  model              TEXT NOT NULL,
  options_json       TEXT NOT NULL CHECK (json_valid(options_json) AND json_type(options_json) = 'object'),
  status             TEXT NOT NULL DEFAULT 'running'
                       CHECK (status IN ('running', 'converged', 'exhausted', 'failed', 'cancelled', 'interrupted')),
  stop_reason        TEXT NOT NULL DEFAULT '',
  best_evaluation_id INTEGER REFERENCES evaluations(id),
  input_tokens       INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens      INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cost_usd           REAL CHECK (cost_usd IS NULL OR cost_usd >= 0),
  replay_of          INTEGER REFERENCES sessions(id),
  started_at         TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  finished_at        TEXT,
  CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX sessions_by_run ON sessions(run_id);

CREATE TABLE llm_exchanges (
  id            INTEGER PRIMARY KEY,
  session_id    INTEGER NOT NULL REFERENCES sessions(id),
  round         INTEGER NOT NULL CHECK (round >= 0),
  slot          INTEGER NOT NULL CHECK (slot >= 0),
  role          TEXT NOT NULL CHECK (role IN ('designer', 'coder', 'reference_writer')),
  request_json  TEXT NOT NULL CHECK (json_valid(request_json)),
  response_text TEXT NOT NULL,
  error         TEXT NOT NULL,
  model         TEXT NOT NULL,
  input_tokens  INTEGER NOT NULL CHECK (input_tokens >= 0),
  output_tokens INTEGER NOT NULL CHECK (output_tokens >= 0),
  latency_s     REAL NOT NULL CHECK (latency_s >= 0),
  attempts      INTEGER NOT NULL CHECK (attempts >= 0),
  cost_usd      REAL CHECK (cost_usd IS NULL OR cost_usd >= 0),
  created_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(
);
CREATE INDEX llm_exchanges_by_session ON llm_exchanges(session_id, id);

CREATE TABLE session_candidates (
  id            INTEGER PRIMARY KEY,
  session_id    INTEGER NOT NULL REFERENCES sessions(id),
  round         INTEGER NOT NULL CHECK (round >= 0),
  slot          INTEGER NOT NULL CHECK (slot >= 0),
  action        TEXT NOT NULL CHECK (action IN ('seed', 'design', 'repair', 'optimise', 'redesign')),
  outcome       TEXT NOT NULL CHECK (outcome IN ('evaluated', 'no_code', 'rejected')),
  candidate_id  INTEGER REFERENCES candidates(id),
  evaluation_id INTEGER REFERENCES evaluations(id),
  source_hash   TEXT NOT NULL,
  verdict       TEXT NOT NULL,
  reason        TEXT NOT NULL,
  speedup       REAL,
  feedback      TEXT NOT NULL,
  created_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  CHECK (outcome <> 'evaluated' OR (candidate_id IS NOT NULL AND evaluation_id IS NOT NULL))
);
CREATE INDEX session_candidates_by_session ON session_candidates(session_id, id);

CREATE TABLE proven_kernels (
  candidate_id  INTEGER PRIMARY KEY REFERENCES candidates(id),
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  task_name     TEXT NOT NULL,
  backend       TEXT NOT NULL CHECK (backend IN ('cpu', 'cuda', 'triton')),
  dtypes        TEXT NOT NULL,
  op_kinds      TEXT NOT NULL,
  summary       TEXT NOT NULL,
  indexed_at    TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(
);

CREATE TRIGGER proven_kernels_need_a_correct_evaluation BEFORE INSERT ON proven_kernels
WHEN NOT EXISTS (SELECT 1 FROM evaluations AS e WHERE e.id = new.evaluation_id AND e.candidate_id = new.candidate_id
                 AND e.verdict = 'correct' AND e.finished_at IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'a proven kernel needs a finished evaluation of that candidate with verdict correct');
END;
CREATE TRIGGER proven_kernels_keep_a_correct_evaluation BEFORE UPDATE OF candidate_id, evaluation_id ON proven_kernels
WHEN NOT EXISTS (SELECT 1 FROM evaluations AS e WHERE e.id = new.evaluation_id AND e.candidate_id = new.candidate_id
                 AND e.verdict = 'correct' AND e.finished_at IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'a proven kernel needs a finished evaluation of that candidate with verdict correct');
END;

CREATE VIRTUAL TABLE proven_kernels_fts USING fts5(
  task_name, backend, dtypes, op_kinds, summary,
  content = 'proven_kernels', content_rowid = 'candidate_id', tokenize = 'porter unicode61');

CREATE TRIGGER proven_kernels_after_insert AFTER INSERT ON proven_kernels BEGIN
  INSERT INTO proven_kernels_fts(rowid, task_name, backend, dtypes, op_kinds, summary)
    VALUES (new.candidate_id, new.task_name, new.backend, new.dtypes, new.op_kinds, new.summary);
END;
CREATE TRIGGER proven_kernels_after_delete AFTER DELETE ON proven_kernels BEGIN
  INSERT INTO proven_kernels_fts(proven_kernels_fts, rowid, task_name, backend, dtypes, op_kinds, summary)
    VALUES ('delete', old.candidate_id, old.task_name, old.backend, old.dtypes, old.op_kinds, old.summary);
END;
CREATE TRIGGER proven_kernels_after_update AFTER UPDATE ON proven_kernels BEGIN
  INSERT INTO proven_kernels_fts(proven_kernels_fts, rowid, task_name, backend, dtypes, op_kinds, summary)
    VALUES ('delete', old.candidate_id, old.task_name, old.backend, old.dtypes, old.op_kinds, old.summary);
  INSERT INTO proven_kernels_fts(rowid, task_name, backend, dtypes, op_kinds, summary)
    VALUES (new.candidate_id, new.task_name, new.backend, new.dtypes, new.op_kinds, new.summary);
END;

CREATE TABLE saved_kernels (
  id            INTEGER PRIMARY KEY,
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),
  path          TEXT NOT NULL,
  note          TEXT NOT NULL,
  saved_at      TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  UNIQUE (evaluation_id, path)
);
CREATE TRIGGER saved_kernels_need_a_correct_evaluation BEFORE INSERT ON saved_kernels
WHEN NOT EXISTS (SELECT 1 FROM evaluations AS e WHERE e.id = new.evaluation_id AND e.verdict = 'correct'
                 AND e.finished_at IS NOT NULL)
BEGIN
  SELECT RAISE(ABORT, 'a saved kernel needs a finished evaluation with verdict correct');
END;

INSERT INTO proven_kernels(candidate_id, evaluation_id, task_name, backend, dtypes, op_kinds, summary)
SELECT c.id, e.id, t.name, c.backend, '', '', t.text
FROM candidates AS c
JOIN tasks AS t ON t.id = c.task_id
JOIN evaluations AS e ON e.id = (SELECT max(e2.id) FROM evaluations AS e2
                                 WHERE e2.candidate_id = c.id AND e2.finished_at IS NOT NULL)
WHERE e.verdict = 'correct';
)sql";

// Suite runs (`anvil suite run`): one row per suite run, one per finished
// task with its result as a JSON document (suite/suite_result.h), so a killed
// runner resumes from what is recorded.
const char* const kMigration6 = R"sql(
CREATE TABLE suite_runs (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES runs(id),
  suite        TEXT NOT NULL CHECK (suite <> ''),
  target       TEXT NOT NULL CHECK (target IN ('cpu', 'cuda', 'triton')),
  generator    TEXT NOT NULL CHECK (generator <> ''),
  options_json TEXT NOT NULL CHECK (json_valid(options_json) AND json_type(options_json) = 'object'),
  device       TEXT NOT NULL DEFAULT '',
  software     TEXT NOT NULL DEFAULT '',
  status       TEXT CHECK (status IS NULL OR status IN ('ok', 'failed', 'interrupted')),
  started_at   TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  finished_at  TEXT
);

CREATE TABLE suite_tasks (
  id           INTEGER PRIMARY KEY,
  suite_run_id INTEGER NOT NULL REFERENCES suite_runs(id),
  task_name    TEXT NOT NULL,
  task_path    TEXT NOT NULL,
  status       TEXT NOT NULL CHECK (status IN ('correct', 'incorrect', 'build_failed', 'no_kernel', 'error', 'pending')),
  result_json  TEXT NOT NULL CHECK (json_valid(result_json) AND json_type(result_json) = 'object'),
  finished_at  TEXT NOT NULL DEFAULT )sql" ANVIL_STORE_NOW R"sql(,
  UNIQUE (suite_run_id, task_path)
);
)sql";

#undef ANVIL_STORE_NOW

const char* const kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    INTEGER PRIMARY KEY,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
)sql";

Status CheckNotNewer(const sqlite::Db& db, int version) {
  if (version <= LatestSchemaVersion()) return Status::Ok();
  return Unsupported("store " + db.path() + " has schema version " + std::to_string(version) +
                     " but this anvil knows up to " + std::to_string(LatestSchemaVersion()) + "; upgrade anvil");
}

// The first schema version whose tables need SQLite's FTS5 extension.
constexpr int kFirstVersionWithFts5 = 5;

Status CheckFts5(sqlite::Db& db) {
  ANVIL_ASSIGN_OR_RETURN(std::string fts5, db.QueryText("SELECT sqlite_compileoption_used('ENABLE_FTS5')",
                                                        "checking that SQLite has FTS5"));
  if (fts5 == "1") return Status::Ok();
  ANVIL_ASSIGN_OR_RETURN(std::string version, db.QueryText("SELECT sqlite_version()", "reading SQLite's version"));
  return Unsupported("store " + db.path() + ": the SQLite library anvil is linked with (" + version +
                     ") was built without FTS5, which the proven-kernel search index needs; build anvil against "
                     "a SQLite with FTS5 (Debian/Ubuntu libsqlite3-dev has it)");
}

}  // namespace

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kAll = {
      {1, "tasks, candidates, builds, runs, evaluations, case_results, timings", kMigration1},
      {2, "latest_evaluations view and its index", kMigration2},
      {3, "device_ceilings table; timings.detail_json", kMigration3},
      {4, "tuned_kernels table (the built-in compiler's tuning cache)", kMigration4},
      {5, "sessions, llm_exchanges, session_candidates; proven_kernels with its FTS5 index; saved_kernels",
       kMigration5},
      {6, "suite_runs and suite_tasks (anvil suite run, resumable)", kMigration6},
  };
  return kAll;
}

int LatestSchemaVersion() { return AllMigrations().back().version; }

Result<int> ReadSchemaVersion(sqlite::Db& db) {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement exists,
                         db.Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                                    "'schema_migrations'",
                                    "reading the schema version"));
  ANVIL_ASSIGN_OR_RETURN(bool row, exists.Step());
  if (!row || exists.ColumnInt64(0) == 0) return 0;
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement max,
                         db.Prepare("SELECT coalesce(max(version), 0) FROM schema_migrations",
                                    "reading the schema version"));
  ANVIL_ASSIGN_OR_RETURN(row, max.Step());
  return row ? max.ColumnInt(0) : 0;
}

Status Migrate(sqlite::Db& db, int target_version) {
  ANVIL_ASSIGN_OR_RETURN(int current, ReadSchemaVersion(db));
  ANVIL_RETURN_IF_ERROR(CheckNotNewer(db, current));
  // Checked on every open, not only when migrating: a version-5 file is no
  // use to a build whose SQLite cannot read its index either.
  if (target_version >= kFirstVersionWithFts5) ANVIL_RETURN_IF_ERROR(CheckFts5(db));
  for (const Migration& m : AllMigrations()) {
    if (m.version <= current || m.version > target_version) continue;
    const std::string purpose = "applying schema migration " + std::to_string(m.version) + " (" + m.summary + ")";
    ANVIL_ASSIGN_OR_RETURN(sqlite::Transaction txn, sqlite::Transaction::Begin(db, purpose));
    ANVIL_RETURN_IF_ERROR(db.Exec(kCreateMigrationsTable, purpose));
    // Another process may have migrated between our read and our lock.
    ANVIL_ASSIGN_OR_RETURN(current, ReadSchemaVersion(db));
    ANVIL_RETURN_IF_ERROR(CheckNotNewer(db, current));
    if (m.version <= current) continue;  // the transaction rolls back: nothing to do
    ANVIL_RETURN_IF_ERROR(db.Exec(m.sql, purpose));
    ANVIL_ASSIGN_OR_RETURN(sqlite::Statement record,
                           db.Prepare("INSERT INTO schema_migrations(version) VALUES (?1)", purpose));
    record.Bind(1, m.version);
    ANVIL_RETURN_IF_ERROR(record.Run());
    ANVIL_RETURN_IF_ERROR(txn.Commit());
    current = m.version;
  }
  return Status::Ok();
}

}  // namespace anvil::store
