#include "store/store.h"

#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <filesystem>
#include <thread>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>

#include "store/migrations.h"
#include "store/store_util.h"

namespace anvil {

namespace {

using store::CheckJson;
using store::GeometricMean;
using store::kNow;
using store::NullIfEmpty;
using store::RunReturningId;

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown-host";
  return buf;
}

}  // namespace

int Store::LatestSchemaVersion() { return store::LatestSchemaVersion(); }

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const StoreOptions& options) {
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return IoError("store " + path + ": creating directory " + parent.string() + ": " + ec.message());
  }
  ANVIL_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path));
  // The busy timeout first: the pragmas below may need the lock.
  ANVIL_RETURN_IF_ERROR(
      db.Exec("PRAGMA busy_timeout = " + std::to_string(options.busy_timeout_ms), "setting busy_timeout"));
  // Switching a new file to WAL takes an exclusive lock, and SQLite answers
  // "database is locked" without waiting when another process is switching
  // it at the same moment; so retry until the busy timeout has passed.
  Result<std::string> switched = db.QueryText("PRAGMA journal_mode = WAL", "switching to WAL mode");
  auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.busy_timeout_ms);
  while (!switched.ok() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    switched = db.QueryText("PRAGMA journal_mode = WAL", "switching to WAL mode");
  }
  ANVIL_ASSIGN_OR_RETURN(std::string mode, std::move(switched));
  const std::string expected_mode = in_memory ? "memory" : "wal";
  if (mode != expected_mode) {
    return IoError("store " + path + ": could not switch to WAL mode (journal_mode is '" + mode +
                   "'); WAL needs a local file system with shared-memory support");
  }
  const std::string sync = options.full_sync ? "FULL" : "NORMAL";
  ANVIL_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = " + sync, "setting synchronous=" + sync));
  ANVIL_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON", "enabling foreign keys"));
  ANVIL_RETURN_IF_ERROR(store::Migrate(db, store::LatestSchemaVersion()));
  ANVIL_ASSIGN_OR_RETURN(int version, store::ReadSchemaVersion(db));
  return std::unique_ptr<Store>(new Store(std::move(db), version));
}

Result<std::string> Store::Pragma(const std::string& name) const {
  // Pragma names cannot be bound as parameters; accept only identifiers.
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return InvalidInput("store " + path() + ": '" + name + "' is not a pragma name");
    }
  }
  return db_.QueryText("PRAGMA " + name, "reading PRAGMA " + name);
}

Result<sqlite::Statement> Store::Prepare(const std::string& sql, const std::string& purpose) const {
  return db_.Prepare(sql, purpose);
}

// ---------------------------------------------------------------- runs

Result<int64_t> Store::BeginRun(const std::string& command, const std::string& args_json) {
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), "run args_json", args_json, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO runs(command, args_json, anvil_version, host, pid) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                                 "recording the start of run '" + command + "'"));
  stmt.Bind(1, command).Bind(2, args_json).Bind(3, ANVIL_VERSION).Bind(4, HostName()).Bind(5,
                                                                                       static_cast<int64_t>(getpid()));
  return RunReturningId(stmt);
}

Status Store::FinishRun(int64_t run_id, const std::string& status) {
  const std::string purpose = "finishing run " + std::to_string(run_id);
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare(std::string("UPDATE runs SET status = ?2, finished_at = ") + kNow + " WHERE id = ?1", purpose));
  stmt.Bind(1, run_id).Bind(2, status);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such run");
  return Status::Ok();
}

Result<RunRow> Store::GetRun(int64_t run_id) const {
  const std::string purpose = "reading run " + std::to_string(run_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT id, command, args_json, anvil_version, host, pid, started_at, finished_at, "
                                 "status FROM runs WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, run_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("store " + path() + ": " + purpose + ": no such run");
  RunRow row;
  row.id = stmt.ColumnInt64(0);
  row.command = stmt.ColumnText(1);
  row.args_json = stmt.ColumnText(2);
  row.anvil_version = stmt.ColumnText(3);
  row.host = stmt.ColumnText(4);
  row.pid = stmt.ColumnInt64(5);
  row.started_at = stmt.ColumnText(6);
  row.finished_at = stmt.ColumnText(7);
  row.status = stmt.ColumnText(8);
  return row;
}

Result<int> Store::MarkAbandonedRuns() {
  const std::string purpose = "marking abandoned runs";
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement open_runs,
                         Prepare("SELECT id, pid FROM runs WHERE status IS NULL AND host = ?1", purpose));
  open_runs.Bind(1, HostName());
  std::vector<int64_t> dead;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, open_runs.Step());
    if (!has_row) break;
    auto pid = static_cast<pid_t>(open_runs.ColumnInt64(1));
    // kill(pid, 0) probes without signalling; only ESRCH proves the process
    // is gone (EPERM means it exists under another user). A reused pid keeps
    // a dead run looking alive, which errs on the side of not marking.
    if (pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH) dead.push_back(open_runs.ColumnInt64(0));
  }
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement mark,
                         Prepare(std::string("UPDATE runs SET status = 'interrupted', finished_at = ") + kNow +
                                     " WHERE id = ?1 AND status IS NULL",
                                 purpose));
  // The run's sessions first (see the header): one committed statement each.
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement mark_sessions,
                         Prepare(std::string("UPDATE sessions SET status = 'interrupted', finished_at = ") + kNow +
                                     ", stop_reason = 'the process running the session ended before it finished' "
                                     "WHERE run_id = ?1 AND status = 'running'",
                                 purpose));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement mark_suites,
                         Prepare(std::string("UPDATE suite_runs SET status = 'interrupted', finished_at = ") + kNow +
                                     " WHERE run_id = ?1 AND status IS NULL",
                                 purpose));
  int marked = 0;
  for (int64_t id : dead) {
    mark_sessions.Reset();
    mark_sessions.Bind(1, id);
    ANVIL_RETURN_IF_ERROR(mark_sessions.Run());
    mark_suites.Reset();
    mark_suites.Bind(1, id);
    ANVIL_RETURN_IF_ERROR(mark_suites.Run());
    mark.Reset();
    mark.Bind(1, id);
    ANVIL_RETURN_IF_ERROR(mark.Run());
    marked += db_.Changes();
  }
  return marked;
}

// ---------------------------------------------------------------- tasks, candidates, builds

Result<int64_t> Store::UpsertTask(const std::string& name, const std::string& source_path,
                                  const std::string& content_hash, const std::string& text) {
  // The no-op DO UPDATE (rather than DO NOTHING) makes RETURNING yield the
  // existing row's id.
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO tasks(name, source_path, content_hash, text) VALUES (?1, ?2, ?3, ?4) "
                                 "ON CONFLICT(name, content_hash) DO UPDATE SET name = excluded.name RETURNING id",
                                 "recording task '" + name + "'"));
  stmt.Bind(1, name).Bind(2, source_path).Bind(3, content_hash).Bind(4, text);
  return RunReturningId(stmt);
}

Result<TaskRow> Store::GetTask(int64_t task_id) const {
  const std::string purpose = "reading task " + std::to_string(task_id);
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("SELECT id, name, source_path, content_hash, text, created_at FROM tasks WHERE id = ?1", purpose));
  stmt.Bind(1, task_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("store " + path() + ": " + purpose + ": no such task");
  return TaskRow{stmt.ColumnInt64(0), stmt.ColumnText(1), stmt.ColumnText(2),
                 stmt.ColumnText(3),  stmt.ColumnText(4), stmt.ColumnText(5)};
}

Result<int64_t> Store::UpsertCandidate(int64_t task_id, const std::string& backend, const std::string& source_path,
                                       const std::string& source_hash, const std::string& source,
                                       const std::string& provenance) {
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO candidates(task_id, backend, source_path, source_hash, source, provenance) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(task_id, backend, source_hash) "
              "DO UPDATE SET backend = excluded.backend RETURNING id",
              "recording " + backend + " candidate " + source_path + " of task " + std::to_string(task_id)));
  stmt.Bind(1, task_id).Bind(2, backend).Bind(3, source_path).Bind(4, source_hash).Bind(5, source).Bind(6, provenance);
  return RunReturningId(stmt);
}

Result<CandidateRow> Store::GetCandidate(int64_t candidate_id) const {
  const std::string purpose = "reading candidate " + std::to_string(candidate_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT id, task_id, backend, source_path, source_hash, source, provenance, "
                                 "created_at FROM candidates WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, candidate_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("store " + path() + ": " + purpose + ": no such candidate");
  return CandidateRow{stmt.ColumnInt64(0), stmt.ColumnInt64(1), stmt.ColumnText(2), stmt.ColumnText(3),
                      stmt.ColumnText(4),  stmt.ColumnText(5),  stmt.ColumnText(6), stmt.ColumnText(7)};
}

Result<int64_t> Store::RecordBuild(int64_t candidate_id, const BuildRecord& build) {
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO builds(candidate_id, cache_key, compiler, flags, ok, log, seconds, cached) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
              "recording a build of candidate " + std::to_string(candidate_id)));
  stmt.Bind(1, candidate_id)
      .Bind(2, build.cache_key)
      .Bind(3, build.compiler)
      .Bind(4, build.flags)
      .Bind(5, build.ok)
      .Bind(6, build.log)
      .Bind(7, build.seconds)
      .Bind(8, build.cached);
  return RunReturningId(stmt);
}

Result<std::vector<BuildRecord>> Store::QueryBuilds(int64_t candidate_id) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT cache_key, compiler, flags, ok, log, seconds, cached FROM builds "
                                 "WHERE candidate_id = ?1 ORDER BY id",
                                 "reading builds of candidate " + std::to_string(candidate_id)));
  stmt.Bind(1, candidate_id);
  std::vector<BuildRecord> out;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    out.push_back(BuildRecord{stmt.ColumnText(0), stmt.ColumnText(1), stmt.ColumnText(2), stmt.ColumnInt64(3) != 0,
                              stmt.ColumnText(4), stmt.ColumnDouble(5), stmt.ColumnInt64(6) != 0});
  }
  return out;
}

// ---------------------------------------------------------------- evaluations

Result<int64_t> Store::BeginEvaluation(int64_t run_id, int64_t candidate_id, const std::string& kind) {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO evaluations(run_id, candidate_id, kind) VALUES (?1, ?2, ?3) RETURNING id",
                                 "beginning a " + kind + " evaluation of candidate " + std::to_string(candidate_id) +
                                     " in run " + std::to_string(run_id)));
  stmt.Bind(1, run_id).Bind(2, candidate_id).Bind(3, kind);
  return RunReturningId(stmt);
}

Status Store::RecordCase(int64_t evaluation_id, const CaseRecord& record) {
  const std::string purpose =
      "recording case " + std::to_string(record.case_index) + " of evaluation " + std::to_string(evaluation_id);
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": bindings_json", record.bindings_json, false));
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": detail_json", record.detail_json, true));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO case_results(evaluation_id, case_index, dtype, bindings_json, layout, "
                                 "distribution, seed, verdict, max_abs_err, max_rel_err, detail_json) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                                 purpose));
  stmt.Bind(1, evaluation_id)
      .Bind(2, record.case_index)
      .Bind(3, record.dtype)
      .Bind(4, record.bindings_json)
      .Bind(5, record.layout)
      .Bind(6, record.distribution)
      .Bind(7, record.seed)
      .Bind(8, record.verdict)
      .Bind(9, record.max_abs_err)
      .Bind(10, record.max_rel_err)
      .Bind(11, NullIfEmpty(record.detail_json));
  return stmt.Run();
}

Status Store::RecordTiming(int64_t evaluation_id, const TimingRecord& record) {
  const std::string purpose = "recording timing of " + record.subject + " on '" + record.case_label +
                              "' for evaluation " + std::to_string(evaluation_id);
  if (!std::isfinite(record.median_ns) || record.median_ns < 0) {
    return InvalidInput("store " + path() + ": " + purpose + ": median_ns must be finite and >= 0, got " +
                        std::to_string(record.median_ns));
  }
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": detail_json", record.detail_json, true));
  // Non-finite samples become JSON null and read back as NaN.
  const std::string samples_json = nlohmann::json(record.samples_ns).dump();
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO timings(evaluation_id, case_label, subject, threads, median_ns, q1_ns, "
                                 "q3_ns, samples_json, detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                                 purpose));
  stmt.Bind(1, evaluation_id)
      .Bind(2, record.case_label)
      .Bind(3, record.subject)
      .Bind(4, record.threads)
      .Bind(5, record.median_ns)
      .Bind(6, record.q1_ns)
      .Bind(7, record.q3_ns)
      .Bind(8, samples_json)
      .Bind(9, NullIfEmpty(record.detail_json));
  return stmt.Run();
}

Status Store::FinishEvaluation(int64_t evaluation_id, const std::string& verdict, const std::string& reason,
                               const std::string& detail_json, int cases_total, int cases_passed) {
  const std::string purpose = "finishing evaluation " + std::to_string(evaluation_id) + " as '" + verdict + "'";
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": detail_json", detail_json, true));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string("UPDATE evaluations SET verdict = ?2, reason = ?3, detail_json = ?4, "
                                             "cases_total = ?5, cases_passed = ?6, finished_at = ") +
                                     kNow + " WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, evaluation_id)
      .Bind(2, verdict)
      .Bind(3, reason)
      .Bind(4, NullIfEmpty(detail_json))
      .Bind(5, cases_total)
      .Bind(6, cases_passed);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such evaluation");
  return Status::Ok();
}

namespace {

// The columns every evaluation read selects, in the order ReadEvaluationRow reads them.
constexpr const char* kEvaluationColumns =
    "SELECT e.id, e.run_id, e.candidate_id, t.name, c.backend, c.source_path, e.kind, e.verdict, e.reason, "
    "e.detail_json, e.cases_total, e.cases_passed, e.started_at, e.finished_at FROM ";

EvaluationRow ReadEvaluationRow(const sqlite::Statement& stmt) {
  EvaluationRow row;
  row.id = stmt.ColumnInt64(0);
  row.run_id = stmt.ColumnInt64(1);
  row.candidate_id = stmt.ColumnInt64(2);
  row.task_name = stmt.ColumnText(3);
  row.backend = stmt.ColumnText(4);
  row.candidate_path = stmt.ColumnText(5);
  row.kind = stmt.ColumnText(6);
  row.verdict = stmt.ColumnText(7);
  row.reason = stmt.ColumnText(8);
  row.detail_json = stmt.ColumnText(9);
  row.cases_total = stmt.ColumnInt(10);
  row.cases_passed = stmt.ColumnInt(11);
  row.started_at = stmt.ColumnText(12);
  row.finished_at = stmt.ColumnText(13);
  return row;
}

}  // namespace

Status Store::FillMedians(std::vector<EvaluationRow>& rows) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement medians,
                         Prepare("SELECT subject, case_label, threads, median_ns FROM timings WHERE evaluation_id = ?1 "
                                 "AND subject IN ('candidate', 'eager')",
                                 "reading timings for evaluation summaries"));
  for (EvaluationRow& row : rows) {
    medians.Reset();
    medians.Bind(1, row.id);
    // Per (case label, threads): the candidate's and eager's median.
    std::map<std::pair<std::string, int64_t>, std::pair<std::optional<double>, std::optional<double>>> by_case;
    while (true) {
      ANVIL_ASSIGN_OR_RETURN(bool has_row, medians.Step());
      if (!has_row) break;
      auto& entry = by_case[{medians.ColumnText(1), medians.ColumnInt64(2)}];
      (medians.ColumnText(0) == "candidate" ? entry.first : entry.second) = medians.ColumnDouble(3);
    }
    // Both means over the cases timed for both, so that their ratio is the
    // speedup even when eager could not run some case; without any such
    // case, the candidate's over all of its cases and no eager mean.
    std::vector<double> candidate, eager, candidate_all;
    for (const auto& [key, medians_of] : by_case) {
      if (medians_of.first) candidate_all.push_back(*medians_of.first);
      if (medians_of.first && medians_of.second) {
        candidate.push_back(*medians_of.first);
        eager.push_back(*medians_of.second);
      }
    }
    row.candidate_median_ns = GeometricMean(candidate.empty() ? candidate_all : candidate);
    row.eager_median_ns = GeometricMean(eager);
  }
  return Status::Ok();
}

Result<std::vector<EvaluationRow>> Store::QueryEvaluations(const EvaluationFilter& filter) const {
  const std::string purpose = "querying evaluations";
  std::string sql = kEvaluationColumns;
  sql += filter.latest_only ? "latest_evaluations" : "evaluations";
  sql += " AS e JOIN candidates AS c ON c.id = e.candidate_id JOIN tasks AS t ON t.id = c.task_id WHERE 1";
  // Only the conditions that are set, so that SQLite can use the indexes
  // (evaluations_by_run, ...) for the ones that are.
  int next_param = 1;
  auto add_condition = [&](bool set, const char* column) {
    if (set) sql += std::string(" AND ") + column + " = ?" + std::to_string(next_param++);
  };
  add_condition(filter.task_name.has_value(), "t.name");
  add_condition(filter.verdict.has_value(), "e.verdict");
  add_condition(filter.kind.has_value(), "e.kind");
  add_condition(filter.backend.has_value(), "c.backend");
  add_condition(filter.run_id.has_value(), "e.run_id");
  sql += " ORDER BY e.id DESC LIMIT ?" + std::to_string(next_param);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt, Prepare(sql, purpose));
  int param = 1;
  if (filter.task_name) stmt.Bind(param++, *filter.task_name);
  if (filter.verdict) stmt.Bind(param++, *filter.verdict);
  if (filter.kind) stmt.Bind(param++, *filter.kind);
  if (filter.backend) stmt.Bind(param++, *filter.backend);
  if (filter.run_id) stmt.Bind(param++, *filter.run_id);
  // A negative LIMIT means no limit in SQLite.
  stmt.Bind(param, filter.limit > 0 ? static_cast<int64_t>(filter.limit) : int64_t{-1});
  std::vector<EvaluationRow> rows;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    rows.push_back(ReadEvaluationRow(stmt));
  }
  ANVIL_RETURN_IF_ERROR(FillMedians(rows));
  return rows;
}

Result<EvaluationRow> Store::GetEvaluation(int64_t evaluation_id) const {
  const std::string purpose = "reading evaluation " + std::to_string(evaluation_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string(kEvaluationColumns) +
                                     "evaluations AS e JOIN candidates AS c ON c.id = e.candidate_id "
                                     "JOIN tasks AS t ON t.id = c.task_id WHERE e.id = ?1",
                                 purpose));
  stmt.Bind(1, evaluation_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("store " + path() + ": " + purpose + ": no such evaluation");
  std::vector<EvaluationRow> rows = {ReadEvaluationRow(stmt)};
  ANVIL_RETURN_IF_ERROR(FillMedians(rows));
  return std::move(rows.front());
}

Result<std::vector<CaseRecord>> Store::QueryCases(int64_t evaluation_id) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT case_index, dtype, bindings_json, layout, distribution, seed, verdict, "
                                 "max_abs_err, max_rel_err, detail_json FROM case_results WHERE evaluation_id = ?1 "
                                 "ORDER BY case_index, id",
                                 "reading cases of evaluation " + std::to_string(evaluation_id)));
  stmt.Bind(1, evaluation_id);
  std::vector<CaseRecord> out;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    out.push_back(CaseRecord{stmt.ColumnInt(0), stmt.ColumnText(1), stmt.ColumnText(2), stmt.ColumnText(3),
                             stmt.ColumnText(4), stmt.ColumnInt64(5), stmt.ColumnText(6), stmt.ColumnDouble(7),
                             stmt.ColumnDouble(8), stmt.ColumnText(9)});
  }
  return out;
}

Result<std::vector<TimingRecord>> Store::QueryTimings(int64_t evaluation_id) const {
  const std::string purpose = "reading timings of evaluation " + std::to_string(evaluation_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT case_label, subject, threads, median_ns, q1_ns, q3_ns, samples_json, "
                                 "detail_json FROM timings WHERE evaluation_id = ?1 ORDER BY id",
                                 purpose));
  stmt.Bind(1, evaluation_id);
  std::vector<TimingRecord> out;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    TimingRecord t{stmt.ColumnText(0),   stmt.ColumnText(1),   stmt.ColumnInt(2), stmt.ColumnDouble(3),
                   stmt.ColumnDouble(4), stmt.ColumnDouble(5), {},                 stmt.ColumnText(7)};
    auto samples = nlohmann::json::parse(stmt.ColumnText(6), nullptr, /*allow_exceptions=*/false);
    if (!samples.is_array()) {
      return ProtocolError("store " + path() + ": " + purpose + ": samples_json is not a JSON array");
    }
    for (const auto& s : samples) {
      if (!s.is_number() && !s.is_null()) {
        return ProtocolError("store " + path() + ": " + purpose + ": samples_json holds a non-number");
      }
      t.samples_ns.push_back(s.is_null() ? std::numeric_limits<double>::quiet_NaN() : s.get<double>());
    }
    out.push_back(std::move(t));
  }
  return out;
}

// ---------------------------------------------------------------- device ceilings

Status Store::PutDeviceCeilings(const std::string& key, const std::string& json, const std::string& measured_at) {
  const std::string purpose = "recording device ceilings of '" + key + "'";
  if (key.empty()) return InvalidInput("store " + path() + ": recording device ceilings: the device key is empty");
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": json", json, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO device_ceilings(device_key, json, measured_at) VALUES (?1, ?2, ?3) "
                                 "ON CONFLICT(device_key) DO UPDATE SET json = excluded.json, "
                                 "measured_at = excluded.measured_at",
                                 purpose));
  stmt.Bind(1, key).Bind(2, json).Bind(3, measured_at);
  return stmt.Run();
}

Result<std::optional<std::string>> Store::GetDeviceCeilings(const std::string& key) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT json FROM device_ceilings WHERE device_key = ?1",
                                 "reading device ceilings of '" + key + "'"));
  stmt.Bind(1, key);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

Status Store::PutTunedKernel(const std::string& kernel_key, const std::string& device_key, const std::string& dtypes,
                            const std::string& shape_bucket, const std::string& params_json, int64_t evaluation_id) {
  const std::string purpose = "recording tuned parameters of kernel " + kernel_key;
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": params", params_json, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO tuned_kernels(kernel_key, device_key, dtypes, shape_bucket, params_json, evaluation_id) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kernel_key, device_key, dtypes, shape_bucket) DO UPDATE "
              "SET params_json = excluded.params_json, evaluation_id = excluded.evaluation_id, "
              "tuned_at = excluded.tuned_at",
              purpose));
  stmt.Bind(1, kernel_key).Bind(2, device_key).Bind(3, dtypes).Bind(4, shape_bucket).Bind(5, params_json).Bind(6, evaluation_id);
  return stmt.Run();
}

Result<std::optional<Store::TunedKernel>> Store::GetTunedKernel(const std::string& kernel_key,
                                                                const std::string& device_key,
                                                                const std::string& dtypes,
                                                                const std::string& shape_bucket) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT params_json, evaluation_id, tuned_at FROM tuned_kernels WHERE kernel_key = ?1 "
                                 "AND device_key = ?2 AND dtypes = ?3 AND shape_bucket = ?4",
                                 "reading tuned parameters of kernel " + kernel_key));
  stmt.Bind(1, kernel_key).Bind(2, device_key).Bind(3, dtypes).Bind(4, shape_bucket);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return std::optional<TunedKernel>();
  return std::optional<TunedKernel>(TunedKernel{stmt.ColumnText(0), stmt.ColumnInt64(1), stmt.ColumnText(2)});
}

Status Store::SetTunedKernelEvaluation(const std::string& kernel_key, const std::string& device_key,
                                       const std::string& dtypes, const std::string& shape_bucket,
                                       int64_t evaluation_id) {
  const std::string purpose = "pointing the tuned parameters of kernel " + kernel_key + " at evaluation " +
                              std::to_string(evaluation_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("UPDATE tuned_kernels SET evaluation_id = ?5 WHERE kernel_key = ?1 AND "
                                 "device_key = ?2 AND dtypes = ?3 AND shape_bucket = ?4",
                                 purpose));
  stmt.Bind(1, kernel_key).Bind(2, device_key).Bind(3, dtypes).Bind(4, shape_bucket).Bind(5, evaluation_id);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such tuning-cache entry");
  return Status::Ok();
}

}  // namespace anvil
