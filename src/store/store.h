// Store: the workspace's SQLite database of everything Anvil evaluated.
//
// One file per workspace (default `.anvil/anvil.db`) holding tasks,
// candidates, builds, runs, evaluations, per-case results, timings and
// measured device ceilings; the
// schema is in docs/store.md and store/migrations.cpp.
//
// Durability: every Record*/Begin*/Finish*/Upsert*/Put* call is one statement in
// its own committed transaction, so killing the process at any moment loses
// nothing that a call had already returned. The file is in WAL mode. By
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
  // Geometric mean of median_ns over every timing row of the evaluation whose
  // subject is 'candidate' (resp. 'eager'): one row per case label and thread
  // count. nullopt when the evaluation recorded no such timing.
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
  // process that no longer exists. Returns how many runs it marked.
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
