// Store: the workspace's SQLite database of everything Anvil evaluated.
//
// One file per workspace (default `.anvil/anvil.db`) holding tasks,
// candidates, builds, runs, evaluations, per-case results, timings,
// measured device ceilings and the built-in compiler's tuning cache; for the
// agent loop its sessions, every LLM exchange (llm_exchanges) and what became
// of each reply (session_candidates); and the proven kernels (every candidate
// with a correct evaluation, full-text indexed in proven_kernels_fts) and the
// ones a user or agent kept (saved_kernels). The schema is in docs/store.md
// and store/migrations.cpp.
//
// Durability: every Record*/Begin*/Finish*/Upsert*/Put*/Index*/Save* call is
// one statement in its own committed transaction, so killing the process at
// any moment loses nothing that a call had already returned. The file is in WAL mode. By
// default synchronous=NORMAL: in WAL mode a commit is then complete once it
// is in the WAL file (the OS holds it even if the process dies), and the WAL
// is fsynced at checkpoints; a power loss or kernel panic can drop the last
// commits but never corrupts the file, and a rerun redoes them. FULL
// (StoreOptions::full_sync) fsyncs at every commit: measured ~2 ms per commit
// against ~0.05 ms on our ext4 disk, i.e. ~2 ms per recorded case.
// An evaluation whose process died keeps a NULL verdict and finished_at;
// MarkAbandonedRuns() marks the dead process's runs 'interrupted'.
//
// Threading: a Store is one SQLite connection and belongs to one thread at a
// time; open one Store per thread (or per process) on the same file. Several
// processes may write the same file: writers queue on SQLite's lock for up to
// StoreOptions::busy_timeout_ms before a call fails with a busy error.
//
// Failure: every error is a Status whose message names the file, what was
// being done and SQLite's message. Values the schema refuses (unknown
// backend, malformed JSON, an id that does not exist) are kInvalidInput;
// missing rows on update or lookup are kNotFound; a database newer than this
// build is kUnsupported; the rest is kIo.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite_handle.h"
#include "util/status.h"

namespace anvil {

struct BuildRecord {
  std::string cache_key, compiler, flags;
  bool ok = false;
  std::string log;
  double seconds = 0;
  bool cached = false;
};

// One verification case. NaN errors (a candidate that produced NaN) round
// trip as NaN. `bindings_json` must be a JSON document; `detail_json` may be
// empty (stored as NULL, read back as "").
struct CaseRecord {
  int case_index = 0;
  std::string dtype;
  std::string bindings_json;
  std::string layout, distribution;
  int64_t seed = 0;
  std::string verdict;
  double max_abs_err = 0, max_rel_err = 0;
  std::string detail_json;
};

// One timed subject ('candidate', 'eager', 'compiled', ...) on one case.
// median_ns must be finite and >= 0. Samples are stored as a JSON array.
// `detail_json` holds further facts about the timing as one JSON document
// (host wall-time medians, the L2-flush flag, the speed-of-light fraction,
// ...); it may be empty (stored as NULL, read back as "").
struct TimingRecord {
  std::string case_label, subject;
  int threads = 1;
  double median_ns = 0, q1_ns = 0, q3_ns = 0;
  std::vector<double> samples_ns;
  std::string detail_json;
};

struct EvaluationRow {
  int64_t id = 0, run_id = 0, candidate_id = 0;
  std::string task_name, backend, candidate_path, kind;
  std::string verdict, reason;  // "" while the evaluation has not finished
  std::string detail_json;      // "" when none was recorded (or not finished)
  int cases_total = 0, cases_passed = 0;
  std::string started_at, finished_at;  // ISO-8601 UTC; finished_at "" while running
  // Geometric means of median_ns of the 'candidate' and 'eager' timing rows
  // (one row per case label and thread count), both over the cases timed for
  // both, so that eager / candidate is the speedup even where eager could not
  // run a case. Without such a case: the candidate's over all its rows and no
  // eager mean; nullopt when there is no timing at all.
  std::optional<double> candidate_median_ns, eager_median_ns;
};

struct EvaluationFilter {
  std::optional<std::string> task_name, verdict, kind, backend;
  std::optional<int64_t> run_id;
  // Only the newest finished evaluation per (candidate, kind): the
  // latest_evaluations view.
  bool latest_only = false;
  int limit = 50;  // newest first; <= 0 returns all matches
};

struct RunRow {
  int64_t id = 0;
  std::string command, args_json, anvil_version, host;
  int64_t pid = 0;
  std::string started_at, finished_at, status;  // "" while running
};

struct TaskRow {
  int64_t id = 0;
  std::string name, source_path, content_hash, text, created_at;
};

struct CandidateRow {
  int64_t id = 0, task_id = 0;
  std::string backend, source_path, source_hash, source, provenance, created_at;
};

// A session: one agent run (anvil gen with an LLM) on one task and backend.
struct SessionRow {
  int64_t id = 0, run_id = 0, task_id = 0;
  std::string backend;           // cpu | cuda | triton
  std::string input_form;        // task | formula | reference | words
  std::string reference_author;  // "" = people wrote the reference; "model:<provider>:<model>" otherwise
  std::string provider, model;   // "openai", "deepseek-chat"
  std::string options_json;      // the budgets and settings the loop ran with (JSON object; "" = {})
  std::string status;            // running | converged | exhausted | failed | cancelled | interrupted
  std::string stop_reason;       // one line: "target speedup 1.5x reached", "6 rounds used", ...
  int64_t best_evaluation_id = 0;  // 0 = no correct candidate
  long long input_tokens = 0, output_tokens = 0;
  std::optional<double> cost_usd;
  int64_t replay_of = 0;         // the session this one replays; 0 = a live session
  std::string started_at, finished_at;  // finished_at "" while running
};

// One LLM call of a session, stored the moment it returns (or fails).
struct ExchangeRecord {
  int64_t id = 0, session_id = 0;
  int round = 0, slot = 0;       // round 1.. (0: before the first round, e.g. the reference writer), slot 0..parallel-1
  std::string role;              // designer | coder | reference_writer
  std::string request_json;      // {"system":..., "messages":[{"role","content"}], "model", "max_tokens", "temperature"}
  std::string response_text;     // the reply text ("" when the call failed)
  std::string error;             // the call's error message ("" when it succeeded)
  std::string model;             // as the server named it
  long long input_tokens = 0, output_tokens = 0;
  double latency_s = 0;
  int attempts = 0;
  std::optional<double> cost_usd;
  std::string created_at;
};

// What became of one coder reply.
struct SessionCandidateRecord {
  int64_t session_id = 0;
  int round = 0, slot = 0;
  std::string action;            // seed | design | repair | optimise | redesign
  std::string outcome;           // evaluated | no_code | rejected
  int64_t candidate_id = 0, evaluation_id = 0;   // 0 unless evaluated (evaluated requires both)
  std::string source_hash;       // HashOf(extracted source); "" when there was no code
  std::string verdict;           // the evaluation's verdict, "" unless evaluated
  std::string reason;            // why rejected / not correct
  std::optional<double> speedup; // over eager, when timed
  std::string feedback;          // the distilled feedback text the loop gave the model next
  std::string created_at;
};

// One proven kernel's entry in the full-text index: a candidate with a
// finished 'correct' evaluation. The text columns are what search matches.
struct ProvenKernelIndexEntry {
  int64_t candidate_id = 0, evaluation_id = 0;
  std::string task_name, backend;
  std::string dtypes;    // "f32 f16 bf16"
  std::string op_kinds;  // "softmax reduction elementwise matmul ..." (task/op_kinds.h)
  std::string summary;   // the task's description and formula (or module file name)
};

struct KernelSearchQuery {
  // Words matched against task name, backend, dtypes, op kinds and summary
  // (FTS5, porter stemming). Any word may match; kernels matching more and
  // rarer words rank first. Punctuation separates words and is never FTS
  // syntax. "" (or no word in it) = no text condition.
  std::string text;
  // Filters: backend exact; dtype and op_kind one whole word of the entry's
  // space-separated field ("f16" does not match "bf16").
  std::optional<std::string> backend, dtype, op_kind;
  bool saved_only = false;  // only kernels with a saved_kernels row
  int limit = 10;           // <= 0: all
};

struct KernelHit {
  int64_t candidate_id = 0, evaluation_id = 0;
  std::string task_name, backend, dtypes, op_kinds, summary, provenance, source;
  // Eager / candidate geometric mean (EvaluationRow) of the newest correct,
  // timed evaluation of the candidate; nullopt when it was never timed.
  std::optional<double> speedup;
  bool saved = false;
  double rank = 0;  // bm25, lower is better; 0 without a text condition
};

// A suite run (`anvil suite run`, suite/suite_runner.h): its identity and
// state; its tasks are SuiteTaskRows.
struct SuiteRunRow {
  int64_t id = 0;
  int64_t run_id = 0;             // the runs row of the invocation that started (or last resumed) it
  std::string suite, target, generator;
  std::string options_json;       // JSON object: the task files in run order, jobs, ...
  std::string device, software;   // "" until the first worker said hello
  std::string status;             // "" while running; ok | failed | interrupted
  std::string started_at, finished_at;
};

// One finished task of a suite run; result_json is a suite::TaskResult document.
struct SuiteTaskRow {
  int64_t suite_run_id = 0;
  std::string task_name, task_path;
  std::string status;       // suite::TaskStatusName
  std::string result_json;  // JSON object
  std::string finished_at;
};

struct StoreOptions {
  // synchronous=FULL instead of NORMAL: survive power loss, not only a killed
  // process, at the price of an fsync per commit. Default false.
  bool full_sync = false;
  // How long a call waits for another process's write lock. Default 5000.
  int busy_timeout_ms = 5000;
};

class Store {
 public:
  // Opens or creates the database at `path` (parent directories created),
  // sets the pragmas above and applies pending migrations. ":memory:" opens a
  // private in-memory store (journal mode "memory"; for tests and dry runs).
  // Refuses a database whose schema is newer than LatestSchemaVersion().
  static Result<std::unique_ptr<Store>> Open(const std::string& path, const StoreOptions& options = {});

  int SchemaVersion() const { return schema_version_; }
  static int LatestSchemaVersion();
  const std::string& path() const { return db_.path(); }
  // The value of `PRAGMA <name>` on this connection ("journal_mode",
  // "synchronous", "integrity_check", ...), for diagnostics and tests.
  Result<std::string> Pragma(const std::string& name) const;

  // Runs: one per CLI invocation that evaluates something. Records the
  // anvil version, host name and process id; started_at is now.
  Result<int64_t> BeginRun(const std::string& command, const std::string& args_json);
  // status: 'ok', 'failed' or 'interrupted'. kNotFound for an unknown run.
  Status FinishRun(int64_t run_id, const std::string& status);
  Result<RunRow> GetRun(int64_t run_id) const;
  // Marks 'interrupted' every unfinished run started on this host by a
  // process that no longer exists, and that run's sessions still 'running'
  // and unfinished suite runs (those first: a process killed between the
  // updates leaves the run open, so the next call finishes all). Returns how
  // many runs it marked.
  Result<int> MarkAbandonedRuns();

  // Returns the id of the task with this (name, content_hash), inserting it
  // if new. An existing row keeps its first source_path and text.
  Result<int64_t> UpsertTask(const std::string& name, const std::string& source_path,
                             const std::string& content_hash, const std::string& text);
  Result<TaskRow> GetTask(int64_t task_id) const;
  // Returns the id of the candidate with this (task_id, backend, source_hash),
  // inserting it if new; an existing row keeps its first path and provenance.
  // backend: 'cpu', 'cuda' or 'triton'.
  Result<int64_t> UpsertCandidate(int64_t task_id, const std::string& backend, const std::string& source_path,
                                  const std::string& source_hash, const std::string& source,
                                  const std::string& provenance);
  Result<CandidateRow> GetCandidate(int64_t candidate_id) const;

  Result<int64_t> RecordBuild(int64_t candidate_id, const BuildRecord& build);
  Result<std::vector<BuildRecord>> QueryBuilds(int64_t candidate_id) const;  // oldest first

  // kind: 'verify' or 'bench'. The evaluation stays unfinished (NULL verdict)
  // until FinishEvaluation.
  Result<int64_t> BeginEvaluation(int64_t run_id, int64_t candidate_id, const std::string& kind);
  Status RecordCase(int64_t evaluation_id, const CaseRecord& record);
  Status RecordTiming(int64_t evaluation_id, const TimingRecord& record);
  // verdict must be non-empty; detail_json empty or a JSON document.
  Status FinishEvaluation(int64_t evaluation_id, const std::string& verdict, const std::string& reason,
                          const std::string& detail_json, int cases_total, int cases_passed);

  Result<std::vector<EvaluationRow>> QueryEvaluations(const EvaluationFilter& filter) const;
  // One evaluation by id, finished or not; kNotFound when there is none.
  Result<EvaluationRow> GetEvaluation(int64_t evaluation_id) const;
  Result<std::vector<CaseRecord>> QueryCases(int64_t evaluation_id) const;      // by case_index
  Result<std::vector<TimingRecord>> QueryTimings(int64_t evaluation_id) const;  // insertion order

  // Device ceilings (the measured copy bandwidth and matmul peaks that
  // speed-of-light fractions are computed from, verify/roofline.h), one JSON
  // document per device key. The store keeps the text as given: json must be
  // a JSON document (kInvalidInput otherwise) and key non-empty. Put replaces
  // an existing entry of the same key. measured_at: ISO-8601 UTC of the
  // measurement, not of the write.
  Status PutDeviceCeilings(const std::string& key, const std::string& json, const std::string& measured_at);
  // The stored JSON text for `key`; nullopt when this device was never measured.
  Result<std::optional<std::string>> GetDeviceCeilings(const std::string& key) const;

  // The built-in compiler's tuning cache (one row per key; a new tuning replaces the old).
  struct TunedKernel {
    std::string params_json;
    int64_t evaluation_id = 0;
    std::string tuned_at;
  };
  Status PutTunedKernel(const std::string& kernel_key, const std::string& device_key, const std::string& dtypes,
                        const std::string& shape_bucket, const std::string& params_json, int64_t evaluation_id);
  Result<std::optional<TunedKernel>> GetTunedKernel(const std::string& kernel_key, const std::string& device_key,
                                                    const std::string& dtypes, const std::string& shape_bucket) const;
  // Points an existing entry at a newer evaluation of the same parameters
  // (the cached configuration verified again), keeping params and tuned_at.
  // kNotFound when there is no such entry.
  Status SetTunedKernelEvaluation(const std::string& kernel_key, const std::string& device_key,
                                  const std::string& dtypes, const std::string& shape_bucket, int64_t evaluation_id);

  // Sessions of the agent loop (store_sessions.cpp). BeginSession ignores
  // id, status (stored as 'running'), started_at and finished_at; run_id and
  // task_id must exist, replay_of and best_evaluation_id are 0 or existing
  // ids. FinishSession sets a final status (not 'running'), finished_at =
  // now; kNotFound for an unknown session.
  Result<int64_t> BeginSession(const SessionRow& row);
  Status FinishSession(int64_t session_id, const std::string& status, const std::string& stop_reason,
                       int64_t best_evaluation_id, long long input_tokens, long long output_tokens,
                       std::optional<double> cost_usd);
  Result<SessionRow> GetSession(int64_t session_id) const;         // kNotFound
  Result<std::vector<SessionRow>> QuerySessions(int limit) const;  // newest first; limit <= 0: all
  // request_json must be a JSON document. Returns the exchange's id.
  Result<int64_t> RecordExchange(const ExchangeRecord& record);
  Result<std::vector<ExchangeRecord>> QueryExchanges(int64_t session_id) const;  // insertion order
  Status RecordSessionCandidate(const SessionCandidateRecord& record);
  Result<std::vector<SessionCandidateRecord>> QuerySessionCandidates(int64_t session_id) const;  // insertion order

  // Proven and saved kernels (store_kernels.cpp). IndexProvenKernel replaces
  // the entry of the same candidate (the evaluator calls it for every
  // correct verdict, so the entry names the newest correct evaluation).
  Status IndexProvenKernel(const ProvenKernelIndexEntry& entry);
  // Best first: bm25 rank, then speedup (fastest first, untimed last), then newest.
  Result<std::vector<KernelHit>> SearchKernels(const KernelSearchQuery& query) const;
  // Keeps a kernel: a saved_kernels row pointing at the evaluation, with
  // the path it was written to ("" when none) and a note. Saving the same
  // (evaluation, path) again updates the note and returns the same id.
  // kInvalidInput unless the evaluation finished with verdict 'correct'
  // (kNotFound when it does not exist).
  Result<int64_t> SaveKernel(int64_t evaluation_id, const std::string& path, const std::string& note);

  // Suite runs (tables suite_runs, suite_tasks; store_suites.cpp). A resumed
  // run is reopened: status and finished_at cleared, run_id set to the
  // resuming invocation's run. PutSuiteTask replaces the row of the same
  // (suite run, task path): a retried 'error' task keeps one row.
  Result<int64_t> BeginSuiteRun(const SuiteRunRow& row);  // id, status, times ignored
  Status ReopenSuiteRun(int64_t suite_run_id, int64_t run_id);
  Status SetSuiteRunDevice(int64_t suite_run_id, const std::string& device, const std::string& software);
  Status FinishSuiteRun(int64_t suite_run_id, const std::string& status);
  Result<SuiteRunRow> GetSuiteRun(int64_t suite_run_id) const;       // kNotFound
  Result<std::vector<SuiteRunRow>> QuerySuiteRuns(int limit) const;  // newest first; <= 0: all
  Status PutSuiteTask(const SuiteTaskRow& row);
  Result<std::vector<SuiteTaskRow>> QuerySuiteTasks(int64_t suite_run_id) const;  // in the order first recorded

 private:
  Store(sqlite::Db db, int schema_version) : db_(std::move(db)), schema_version_(schema_version) {}
  Result<sqlite::Statement> Prepare(const std::string& sql, const std::string& purpose) const;
  // Sets candidate_median_ns and eager_median_ns of each row from its timings.
  Status FillMedians(std::vector<EvaluationRow>& rows) const;

  // mutable: queries prepare statements on the connection, which SQLite
  // does not treat as a change to the database.
  mutable sqlite::Db db_;
  int schema_version_;
};

}  // namespace anvil
