// Store: the agent loop's sessions, their LLM exchanges and what became of
// each coder reply (tables sessions, llm_exchanges, session_candidates;
// migration 5). Every write is one committed statement, like the rest of
// the store; see store.h.
#include <string>
#include <vector>

#include "store/store.h"
#include "store/store_util.h"

namespace anvil {

namespace {

using store::CheckJson;
using store::kNow;
using store::NullIfZero;
using store::RunReturningId;

// The columns every session read selects, in the order ReadSessionRow reads them.
constexpr const char* kSessionColumns =
    "SELECT id, run_id, task_id, backend, input_form, reference_author, provider, model, options_json, status, "
    "stop_reason, best_evaluation_id, input_tokens, output_tokens, cost_usd, replay_of, started_at, finished_at "
    "FROM sessions ";

std::optional<double> OptionalDouble(const sqlite::Statement& stmt, int column) {
  if (stmt.ColumnIsNull(column)) return std::nullopt;
  return stmt.ColumnDouble(column);
}

SessionRow ReadSessionRow(const sqlite::Statement& stmt) {
  SessionRow row;
  row.id = stmt.ColumnInt64(0);
  row.run_id = stmt.ColumnInt64(1);
  row.task_id = stmt.ColumnInt64(2);
  row.backend = stmt.ColumnText(3);
  row.input_form = stmt.ColumnText(4);
  row.reference_author = stmt.ColumnText(5);
  row.provider = stmt.ColumnText(6);
  row.model = stmt.ColumnText(7);
  row.options_json = stmt.ColumnText(8);
  row.status = stmt.ColumnText(9);
  row.stop_reason = stmt.ColumnText(10);
  row.best_evaluation_id = stmt.ColumnInt64(11);
  row.input_tokens = stmt.ColumnInt64(12);
  row.output_tokens = stmt.ColumnInt64(13);
  row.cost_usd = OptionalDouble(stmt, 14);
  row.replay_of = stmt.ColumnInt64(15);
  row.started_at = stmt.ColumnText(16);
  row.finished_at = stmt.ColumnText(17);
  return row;
}

}  // namespace

Result<int64_t> Store::BeginSession(const SessionRow& row) {
  const std::string purpose = "recording the start of a " + row.backend + " session of task " +
                              std::to_string(row.task_id) + " in run " + std::to_string(row.run_id);
  const std::string options = row.options_json.empty() ? "{}" : row.options_json;
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": options_json", options, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO sessions(run_id, task_id, backend, input_form, reference_author, provider, model, "
              "options_json, stop_reason, best_evaluation_id, input_tokens, output_tokens, cost_usd, replay_of) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) RETURNING id",
              purpose));
  stmt.Bind(1, row.run_id)
      .Bind(2, row.task_id)
      .Bind(3, row.backend)
      .Bind(4, row.input_form)
      .Bind(5, row.reference_author)
      .Bind(6, row.provider)
      .Bind(7, row.model)
      .Bind(8, options)
      .Bind(9, row.stop_reason)
      .Bind(10, NullIfZero(row.best_evaluation_id))
      .Bind(11, static_cast<int64_t>(row.input_tokens))
      .Bind(12, static_cast<int64_t>(row.output_tokens))
      .Bind(13, row.cost_usd)
      .Bind(14, NullIfZero(row.replay_of));
  return RunReturningId(stmt);
}

Status Store::FinishSession(int64_t session_id, const std::string& status, const std::string& stop_reason,
                            int64_t best_evaluation_id, long long input_tokens, long long output_tokens,
                            std::optional<double> cost_usd) {
  const std::string purpose = "finishing session " + std::to_string(session_id) + " as '" + status + "'";
  if (status == "running") {
    return InvalidInput("store " + path() + ": " + purpose +
                        ": a finished session needs a final status (converged, exhausted, failed, cancelled, "
                        "interrupted)");
  }
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string("UPDATE sessions SET status = ?2, stop_reason = ?3, "
                                             "best_evaluation_id = ?4, input_tokens = ?5, output_tokens = ?6, "
                                             "cost_usd = ?7, finished_at = ") +
                                     kNow + " WHERE id = ?1",
                                 purpose));
  stmt.Bind(1, session_id)
      .Bind(2, status)
      .Bind(3, stop_reason)
      .Bind(4, NullIfZero(best_evaluation_id))
      .Bind(5, static_cast<int64_t>(input_tokens))
      .Bind(6, static_cast<int64_t>(output_tokens))
      .Bind(7, cost_usd);
  ANVIL_RETURN_IF_ERROR(stmt.Run());
  if (db_.Changes() == 0) return NotFound("store " + path() + ": " + purpose + ": no such session");
  return Status::Ok();
}

Result<SessionRow> Store::GetSession(int64_t session_id) const {
  const std::string purpose = "reading session " + std::to_string(session_id);
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt, Prepare(std::string(kSessionColumns) + "WHERE id = ?1", purpose));
  stmt.Bind(1, session_id);
  ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  if (!has_row) return NotFound("store " + path() + ": " + purpose + ": no such session");
  return ReadSessionRow(stmt);
}

Result<std::vector<SessionRow>> Store::QuerySessions(int limit) const {
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare(std::string(kSessionColumns) + "ORDER BY id DESC LIMIT ?1", "listing sessions"));
  // A negative LIMIT means no limit in SQLite.
  stmt.Bind(1, limit > 0 ? static_cast<int64_t>(limit) : int64_t{-1});
  std::vector<SessionRow> rows;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    rows.push_back(ReadSessionRow(stmt));
  }
  return rows;
}

Result<int64_t> Store::RecordExchange(const ExchangeRecord& r) {
  const std::string purpose = "recording the " + r.role + " exchange of session " + std::to_string(r.session_id) +
                              " (round " + std::to_string(r.round) + ", slot " + std::to_string(r.slot) + ")";
  ANVIL_RETURN_IF_ERROR(CheckJson(path(), purpose + ": request_json", r.request_json, /*allow_empty=*/false));
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO llm_exchanges(session_id, round, slot, role, request_json, response_text, error, model, "
              "input_tokens, output_tokens, latency_s, attempts, cost_usd) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
              purpose));
  stmt.Bind(1, r.session_id)
      .Bind(2, r.round)
      .Bind(3, r.slot)
      .Bind(4, r.role)
      .Bind(5, r.request_json)
      .Bind(6, r.response_text)
      .Bind(7, r.error)
      .Bind(8, r.model)
      .Bind(9, static_cast<int64_t>(r.input_tokens))
      .Bind(10, static_cast<int64_t>(r.output_tokens))
      .Bind(11, r.latency_s)
      .Bind(12, r.attempts)
      .Bind(13, r.cost_usd);
  return RunReturningId(stmt);
}

Result<std::vector<ExchangeRecord>> Store::QueryExchanges(int64_t session_id) const {
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("SELECT id, session_id, round, slot, role, request_json, response_text, error, model, input_tokens, "
              "output_tokens, latency_s, attempts, cost_usd, created_at FROM llm_exchanges WHERE session_id = ?1 "
              "ORDER BY id",
              "reading the exchanges of session " + std::to_string(session_id)));
  stmt.Bind(1, session_id);
  std::vector<ExchangeRecord> out;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    ExchangeRecord r;
    r.id = stmt.ColumnInt64(0);
    r.session_id = stmt.ColumnInt64(1);
    r.round = stmt.ColumnInt(2);
    r.slot = stmt.ColumnInt(3);
    r.role = stmt.ColumnText(4);
    r.request_json = stmt.ColumnText(5);
    r.response_text = stmt.ColumnText(6);
    r.error = stmt.ColumnText(7);
    r.model = stmt.ColumnText(8);
    r.input_tokens = stmt.ColumnInt64(9);
    r.output_tokens = stmt.ColumnInt64(10);
    r.latency_s = stmt.ColumnDouble(11);
    r.attempts = stmt.ColumnInt(12);
    r.cost_usd = OptionalDouble(stmt, 13);
    r.created_at = stmt.ColumnText(14);
    out.push_back(std::move(r));
  }
  return out;
}

Status Store::RecordSessionCandidate(const SessionCandidateRecord& r) {
  const std::string purpose = "recording the " + r.action + " candidate of session " + std::to_string(r.session_id) +
                              " (round " + std::to_string(r.round) + ", slot " + std::to_string(r.slot) + ")";
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("INSERT INTO session_candidates(session_id, round, slot, action, outcome, candidate_id, evaluation_id, "
              "source_hash, verdict, reason, speedup, feedback) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
              purpose));
  stmt.Bind(1, r.session_id)
      .Bind(2, r.round)
      .Bind(3, r.slot)
      .Bind(4, r.action)
      .Bind(5, r.outcome)
      .Bind(6, NullIfZero(r.candidate_id))
      .Bind(7, NullIfZero(r.evaluation_id))
      .Bind(8, r.source_hash)
      .Bind(9, r.verdict)
      .Bind(10, r.reason)
      .Bind(11, r.speedup)
      .Bind(12, r.feedback);
  return stmt.Run();
}

Result<std::vector<SessionCandidateRecord>> Store::QuerySessionCandidates(int64_t session_id) const {
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare("SELECT session_id, round, slot, action, outcome, candidate_id, evaluation_id, source_hash, verdict, "
              "reason, speedup, feedback, created_at FROM session_candidates WHERE session_id = ?1 ORDER BY id",
              "reading the candidates of session " + std::to_string(session_id)));
  stmt.Bind(1, session_id);
  std::vector<SessionCandidateRecord> out;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    SessionCandidateRecord r;
    r.session_id = stmt.ColumnInt64(0);
    r.round = stmt.ColumnInt(1);
    r.slot = stmt.ColumnInt(2);
    r.action = stmt.ColumnText(3);
    r.outcome = stmt.ColumnText(4);
    r.candidate_id = stmt.ColumnInt64(5);
    r.evaluation_id = stmt.ColumnInt64(6);
    r.source_hash = stmt.ColumnText(7);
    r.verdict = stmt.ColumnText(8);
    r.reason = stmt.ColumnText(9);
    r.speedup = OptionalDouble(stmt, 10);
    r.feedback = stmt.ColumnText(11);
    r.created_at = stmt.ColumnText(12);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace anvil
