// Store: proven kernels (the full-text index over candidates with a correct
// evaluation, proven_kernels + proven_kernels_fts) and saved kernels
// (saved_kernels); migration 5. Search is what `anvil search`, the MCP
// tool search_kernels and the agent's retrieval of similar kernels read.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "store/store.h"
#include "store/store_util.h"

namespace anvil {

namespace {

// The user's words as an FTS5 query: every run of letters, digits and
// non-ASCII bytes becomes one quoted token, and the tokens are OR-ed. So
// punctuation ("softmax(x", a lone '"', "a-b", "NEAR") is never FTS syntax,
// and FTS5's tokenizer (unicode61, which also splits at punctuation) sees
// the same words the index holds. "" when the text has no word.
std::string FtsQuery(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      word += ch;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  std::string query;
  for (const std::string& w : words) {
    if (!query.empty()) query += " OR ";
    query += "\"" + w + "\"";
  }
  return query;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whether a candidate has a saved_kernels row (through any of its evaluations).
constexpr const char* kSavedExpr =
    "EXISTS (SELECT 1 FROM saved_kernels AS s JOIN evaluations AS se ON se.id = s.evaluation_id "
    "WHERE se.candidate_id = p.candidate_id)";

}  // namespace

Status Store::IndexProvenKernel(const ProvenKernelIndexEntry& e) {
  const std::string purpose = "indexing candidate " + std::to_string(e.candidate_id) + " (evaluation " +
                              std::to_string(e.evaluation_id) + ") of task '" + e.task_name + "' as proven";
  ANVIL_ASSIGN_OR_RETURN(
      sqlite::Statement stmt,
      Prepare(std::string("INSERT INTO proven_kernels(candidate_id, evaluation_id, task_name, backend, dtypes, "
                          "op_kinds, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(candidate_id) DO UPDATE "
                          "SET evaluation_id = excluded.evaluation_id, task_name = excluded.task_name, "
                          "backend = excluded.backend, dtypes = excluded.dtypes, op_kinds = excluded.op_kinds, "
                          "summary = excluded.summary, indexed_at = ") +
                  store::kNow,
              purpose));
  stmt.Bind(1, e.candidate_id)
      .Bind(2, e.evaluation_id)
      .Bind(3, e.task_name)
      .Bind(4, e.backend)
      .Bind(5, e.dtypes)
      .Bind(6, e.op_kinds)
      .Bind(7, e.summary);
  return stmt.Run();
}

Result<std::vector<KernelHit>> Store::SearchKernels(const KernelSearchQuery& query) const {
  const std::string purpose = "searching proven kernels";
  const std::string match = FtsQuery(query.text);
  std::string sql =
      "SELECT p.candidate_id, p.evaluation_id, p.task_name, p.backend, p.dtypes, p.op_kinds, p.summary, "
      "c.provenance, c.source, ";
  sql += match.empty() ? "0.0" : "bm25(proven_kernels_fts, 4.0, 1.0, 1.0, 2.0, 1.0)";
  sql += std::string(", ") + kSavedExpr;
  sql += match.empty() ? " FROM proven_kernels AS p"
                       : " FROM proven_kernels_fts JOIN proven_kernels AS p ON p.candidate_id = proven_kernels_fts.rowid";
  sql += " JOIN candidates AS c ON c.id = p.candidate_id WHERE 1";
  int next_param = 1;
  if (!match.empty()) sql += " AND proven_kernels_fts MATCH ?" + std::to_string(next_param++);
  // dtype and op kind: one whole word of the space-separated field.
  auto add = [&](bool set, const std::string& condition) {
    if (!set) return;
    std::string n = "?" + std::to_string(next_param++);
    std::string c = condition;
    for (size_t at = c.find('@'); at != std::string::npos; at = c.find('@')) c.replace(at, 1, n);
    sql += " AND " + c;
  };
  add(query.backend.has_value(), "p.backend = @");
  add(query.dtype.has_value(), "instr(' ' || p.dtypes || ' ', ' ' || @ || ' ') > 0");
  add(query.op_kind.has_value(), "instr(' ' || p.op_kinds || ' ', ' ' || @ || ' ') > 0");
  if (query.saved_only) sql += std::string(" AND ") + kSavedExpr;

  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt, Prepare(sql, purpose));
  int param = 1;
  if (!match.empty()) stmt.Bind(param++, match);
  if (query.backend) stmt.Bind(param++, Lower(*query.backend));
  if (query.dtype) stmt.Bind(param++, Lower(*query.dtype));
  if (query.op_kind) stmt.Bind(param++, Lower(*query.op_kind));
  std::vector<KernelHit> hits;
  while (true) {
    ANVIL_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    KernelHit h;
    h.candidate_id = stmt.ColumnInt64(0);
    h.evaluation_id = stmt.ColumnInt64(1);
    h.task_name = stmt.ColumnText(2);
    h.backend = stmt.ColumnText(3);
    h.dtypes = stmt.ColumnText(4);
    h.op_kinds = stmt.ColumnText(5);
    h.summary = stmt.ColumnText(6);
    h.provenance = stmt.ColumnText(7);
    h.source = stmt.ColumnText(8);
    h.rank = stmt.ColumnDouble(9);
    h.saved = stmt.ColumnInt64(10) != 0;
    hits.push_back(std::move(h));
  }

  // Speedups: the entry's evaluation may be a verify (untimed) one, so take
  // the newest correct evaluation of the candidate that timed it.
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement timed,
                         Prepare("SELECT e.id FROM evaluations AS e WHERE e.candidate_id = ?1 AND e.verdict = 'correct' "
                                 "AND e.finished_at IS NOT NULL AND EXISTS (SELECT 1 FROM timings AS t WHERE "
                                 "t.evaluation_id = e.id AND t.subject = 'candidate') ORDER BY e.id DESC LIMIT 1",
                                 purpose + ": finding timed evaluations"));
  for (KernelHit& h : hits) {
    timed.Reset();
    timed.Bind(1, h.candidate_id);
    ANVIL_ASSIGN_OR_RETURN(bool has_row, timed.Step());
    if (!has_row) continue;
    std::vector<EvaluationRow> rows(1);
    rows[0].id = timed.ColumnInt64(0);
    ANVIL_RETURN_IF_ERROR(FillMedians(rows));
    if (rows[0].candidate_median_ns && rows[0].eager_median_ns && *rows[0].candidate_median_ns > 0)
      h.speedup = *rows[0].eager_median_ns / *rows[0].candidate_median_ns;
  }

  // Best first: rank (bm25: lower is better), then faster, then newer.
  std::stable_sort(hits.begin(), hits.end(), [](const KernelHit& a, const KernelHit& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.speedup.has_value() != b.speedup.has_value()) return a.speedup.has_value();
    if (a.speedup && *a.speedup != *b.speedup) return *a.speedup > *b.speedup;
    return a.evaluation_id > b.evaluation_id;
  });
  if (query.limit > 0 && hits.size() > static_cast<size_t>(query.limit)) hits.resize(static_cast<size_t>(query.limit));
  return hits;
}

Result<int64_t> Store::SaveKernel(int64_t evaluation_id, const std::string& path, const std::string& note) {
  const std::string purpose = "saving the kernel of evaluation " + std::to_string(evaluation_id);
  // The schema refuses it too (a trigger); this says why in words.
  ANVIL_ASSIGN_OR_RETURN(EvaluationRow evaluation, GetEvaluation(evaluation_id));
  if (evaluation.finished_at.empty()) {
    return InvalidInput("store " + this->path() + ": " + purpose + ": the evaluation has not finished (" +
                        "its process may still be running, or died); only a correct kernel can be saved");
  }
  if (evaluation.verdict != "correct") {
    return InvalidInput("store " + this->path() + ": " + purpose + ": its verdict is '" + evaluation.verdict +
                        "'; only a kernel whose evaluation is correct can be saved");
  }
  ANVIL_ASSIGN_OR_RETURN(sqlite::Statement stmt,
                         Prepare("INSERT INTO saved_kernels(evaluation_id, path, note) VALUES (?1, ?2, ?3) "
                                 "ON CONFLICT(evaluation_id, path) DO UPDATE SET note = excluded.note RETURNING id",
                                 purpose));
  stmt.Bind(1, evaluation_id).Bind(2, path).Bind(3, note);
  return store::RunReturningId(stmt);
}

}  // namespace anvil
