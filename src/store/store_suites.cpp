// Store: suite runs and their finished tasks (tables suite_runs,
// suite_tasks; migration 6), what `anvil suite run` records and resumes
// from and `anvil report` reads. Every write is one committed statement; see
// store.h.
#include <string>
#include <vector>

#include "store/store.h"
#include "store/store_util.h"

namespace anvil {
namespace {

using store::CheckJson;
using store::kNow;
using store::RunReturningId;

constexpr const char* kSuiteRunColumns =
    "SELECT id, run_id, suite, target, generator, options_json, device, software, coalesce(status, ''), started_at, "
    "coalesce(finished_at, '') FROM suite_runs ";

SuiteRunRow ReadSuiteRunRow(const sqlite::Statement& stmt) {
  SuiteRunRow row;
  row.id = stmt.ColumnInt64(0);
  row.run_id = stmt.ColumnInt64(1);
  row.suite = stmt.ColumnText(2);
  row.target = stmt.ColumnText(3);
  row.generator = stmt.ColumnText(4);
  row.options_json = stmt.ColumnText(5);
  row.device = stmt.ColumnText(6);
  row.software = stmt.ColumnText(7);
  row.status = stmt.ColumnText(8);
  row.started_at = stmt.ColumnText(9);
  row.finished_at = stmt.ColumnText(10);
  return row;
}

}  // namespace

Result<int64_t> Store::BeginSuiteRun(const SuiteRunRow& row) {
  const std::string purpose = "recording the start of a run of suite '" + row.suite + "'";
  const std::string options = row.options_json.empty() ? "{}" : row.options_json;
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": options_json", options, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO suite_runs(run_id, suite, target, generator, options_json, device, software) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                                 purpose));
  stmt.Bind(1, row.run_id)
      .Bind(2, row.suite)
      .Bind(3, row.target)
      .Bind(4, row.generator)
      .Bind(5, options)
      .Bind(6, row.device)
      .Bind(7, row.software);
  return RunReturningId(stmt);
}

Status Store::ReopenSuiteRun(int64_t suite_run_id, int64_t run_id) {
  const std::string purpose = "reopening suite run " + std::to_string(suite_run_id) + " to resume it";
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("UPDATE suite_runs SET status = NULL, finished_at = NULL, run_id = ?2 WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, suite_run_id).Bind(2, run_id);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such suite run");
  return Status::Ok();
}

Status Store::SetSuiteRunDevice(int64_t suite_run_id, const std::string& device, const std::string& software) {
  const std::string purpose = "recording the device of suite run " + std::to_string(suite_run_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("UPDATE suite_runs SET device = ?2, software = ?3 WHERE id = ?1", purpose));
  stmt.Bind(1, suite_run_id).Bind(2, device).Bind(3, software);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such suite run");
  return Status::Ok();
}

Status Store::FinishSuiteRun(int64_t suite_run_id, const std::string& status) {
  const std::string purpose = "finishing suite run " + std::to_string(suite_run_id) + " as '" + status + "'";
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string("UPDATE suite_runs SET status = ?2, finished_at = ") + kNow + " WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, suite_run_id).Bind(2, status);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such suite run");
  return Status::Ok();
}

Result<SuiteRunRow> Store::GetSuiteRun(int64_t suite_run_id) const {
  const std::string purpose = "reading suite run " + std::to_string(suite_run_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt, Prepare(std::string(kSuiteRunColumns) + "WHERE id = ?1", purpose));
  stmt.Bind(1, suite_run_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row)
    return NotFound("store " + path() + ": " + purpose + ": no such suite run (anvil report list shows them)");
  return ReadSuiteRunRow(stmt);
}

Result<std::vector<SuiteRunRow>> Store::QuerySuiteRuns(int limit) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string(kSuiteRunColumns) + "ORDER BY id DESC LIMIT ?1", "listing suite runs"));
  stmt.Bind(1, limit > 0 ? static_cast<int64_t>(limit) : int64_t{-1});
  std::vector<SuiteRunRow> rows;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    rows.push_back(ReadSuiteRunRow(stmt));
  }
  return rows;
}

Status Store::PutSuiteTask(const SuiteTaskRow& row) {
  const std::string purpose = "recording task " + row.task_name + " of suite run " + std::to_string(row.suite_run_id);
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": result_json", row.result_json, /*allow_empty=*/false));
  // An upsert keeps the row's id (its place in recording order) when a retried task is recorded again.
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string("INSERT INTO suite_tasks(suite_run_id, task_name, task_path, status, result_json) "
                                             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(suite_run_id, task_path) DO UPDATE SET "
                                             "task_name = excluded.task_name, status = excluded.status, "
                                             "result_json = excluded.result_json, finished_at = ") +
                                     kNow,
                                 purpose));
  stmt.Bind(1, row.suite_run_id).Bind(2, row.task_name).Bind(3, row.task_path).Bind(4, row.status).Bind(5, row.result_json);
  return stmt.Run();
}

Result<std::vector<SuiteTaskRow>> Store::QuerySuiteTasks(int64_t suite_run_id) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("SELECT suite_run_id, task_name, task_path, status, result_json, finished_at "
                                 "FROM suite_tasks WHERE suite_run_id = ?1 ORDER BY id",
                                 "reading the tasks of suite run " + std::to_string(suite_run_id)));
  stmt.Bind(1, suite_run_id);
  std::vector<SuiteTaskRow> rows;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    SuiteTaskRow r;
    r.suite_run_id = stmt.ColumnInt64(0);
    r.task_name = stmt.ColumnText(1);
    r.task_path = stmt.ColumnText(2);
    r.status = stmt.ColumnText(3);
    r.result_json = stmt.ColumnText(4);
    r.finished_at = stmt.ColumnText(5);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace anvil
