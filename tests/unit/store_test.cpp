// Store: round trips of every record kind, query filters and error messages.
#include "store/store.h"

#include <unistd.h>

#include <cmath>
#include <regex>

#include <gtest/gtest.h>

#include "store/sqlite_handle.h"
#include "store_test_util.h"

namespace anvil {
namespace {

using anvil::testing::ScratchDir;

const std::regex kIsoUtc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

std::unique_ptr<Store> OpenOrDie(const std::string& path) {
  auto store = Store::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().message();
  return std::move(store).value();
}

template <typename T>
T ValueOrDie(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

TEST(StoreTest, OpenCreatesParentDirectoriesAndUsesWal) {
  ScratchDir dir;
  const std::string path = dir.File("ws/.anvil/anvil.db");
  auto store = OpenOrDie(path);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(store->SchemaVersion(), Store::LatestSchemaVersion());
  EXPECT_EQ(store->path(), path);

  // WAL is a property of the file: a second connection sees it.
  auto db = ValueOrDie(sqlite::Db::Open(path));
  EXPECT_EQ(ValueOrDie(db.QueryText("PRAGMA journal_mode", "test")), "wal");

  // Per-connection settings, read through the store's own connection.
  EXPECT_EQ(ValueOrDie(store->Pragma("journal_mode")), "wal");
  EXPECT_EQ(ValueOrDie(store->Pragma("synchronous")), "1");  // NORMAL
  EXPECT_EQ(ValueOrDie(store->Pragma("foreign_keys")), "1");
  EXPECT_EQ(ValueOrDie(store->Pragma("busy_timeout")), "5000");
  EXPECT_EQ(store->Pragma("journal_mode; DROP TABLE runs").status().code(), ErrorCode::kInvalidInput);
}

TEST(StoreTest, OptionsSetSynchronousAndBusyTimeout) {
  ScratchDir dir;
  StoreOptions options;
  options.full_sync = true;
  options.busy_timeout_ms = 250;
  auto store = ValueOrDie(Store::Open(dir.File("anvil.db"), options));
  EXPECT_EQ(ValueOrDie(store->Pragma("synchronous")), "2");  // FULL
  EXPECT_EQ(ValueOrDie(store->Pragma("busy_timeout")), "250");
}

TEST(StoreTest, RunRoundTrip) {
  ScratchDir dir;
  auto store = OpenOrDie(dir.File("anvil.db"));
  int64_t run = ValueOrDie(store->BeginRun("verify", R"({"task":"relu.toml","seeds":3})"));
  RunRow row = ValueOrDie(store->GetRun(run));
  EXPECT_EQ(row.id, run);
  EXPECT_EQ(row.command, "verify");
  EXPECT_EQ(row.args_json, R"({"task":"relu.toml","seeds":3})");
  EXPECT_EQ(row.anvil_version, ANVIL_VERSION);
  EXPECT_FALSE(row.host.empty());
  EXPECT_EQ(row.pid, getpid());
  EXPECT_TRUE(std::regex_match(row.started_at, kIsoUtc)) << row.started_at;
  EXPECT_EQ(row.finished_at, "");
  EXPECT_EQ(row.status, "");

  ASSERT_TRUE(store->FinishRun(run, "ok").ok());
  row = ValueOrDie(store->GetRun(run));
  EXPECT_EQ(row.status, "ok");
  EXPECT_TRUE(std::regex_match(row.finished_at, kIsoUtc)) << row.finished_at;
  EXPECT_GE(row.finished_at, row.started_at);

  Status missing = store->FinishRun(run + 100, "ok");
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("no such run"), std::string::npos) << missing.message();
  EXPECT_EQ(store->GetRun(run + 100).status().code(), ErrorCode::kNotFound);

  Status bad_status = store->FinishRun(run, "exploded");
  EXPECT_EQ(bad_status.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad_status.message().find("CHECK constraint failed"), std::string::npos) << bad_status.message();

  auto bad_json = store->BeginRun("verify", "{not json");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_EQ(bad_json.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad_json.status().message().find("args_json is not valid JSON"), std::string::npos);
}

TEST(StoreTest, TaskAndCandidateUpsertsReturnExistingIds) {
  ScratchDir dir;
  auto store = OpenOrDie(dir.File("anvil.db"));
  int64_t t1 = ValueOrDie(store->UpsertTask("relu", "tasks/relu.toml", "h1", "name = 'relu'"));
  int64_t t1_again = ValueOrDie(store->UpsertTask("relu", "elsewhere/relu.toml", "h1", "other text"));
  int64_t t2 = ValueOrDie(store->UpsertTask("relu", "tasks/relu.toml", "h2", "name = 'relu' # edited"));
  EXPECT_EQ(t1, t1_again);
  EXPECT_NE(t1, t2);
  TaskRow task = ValueOrDie(store->GetTask(t1));
  EXPECT_EQ(task.name, "relu");
  EXPECT_EQ(task.source_path, "tasks/relu.toml");  // the first row is kept
  EXPECT_EQ(task.content_hash, "h1");
  EXPECT_EQ(task.text, "name = 'relu'");
  EXPECT_TRUE(std::regex_match(task.created_at, kIsoUtc));
  EXPECT_EQ(store->GetTask(t2 + 5).status().code(), ErrorCode::kNotFound);

  int64_t c1 = ValueOrDie(store->UpsertCandidate(t1, "cpu", "k/relu.cpp", "s1", "void f(){}", "file"));
  int64_t c1_again = ValueOrDie(store->UpsertCandidate(t1, "cpu", "k/copy.cpp", "s1", "void f(){}", "llm"));
  int64_t c2 = ValueOrDie(store->UpsertCandidate(t1, "cuda", "k/relu.cu", "s1", "void f(){}", "builtin"));
  EXPECT_EQ(c1, c1_again);
  EXPECT_NE(c1, c2);
  CandidateRow cand = ValueOrDie(store->GetCandidate(c1));
  EXPECT_EQ(cand.task_id, t1);
  EXPECT_EQ(cand.backend, "cpu");
  EXPECT_EQ(cand.source_path, "k/relu.cpp");
  EXPECT_EQ(cand.source_hash, "s1");
  EXPECT_EQ(cand.source, "void f(){}");
  EXPECT_EQ(cand.provenance, "file");
  EXPECT_EQ(ValueOrDie(store->GetCandidate(c2)).backend, "cuda");

  auto bad_backend = store->UpsertCandidate(t1, "opencl", "k.cl", "s9", "", "file");
  EXPECT_EQ(bad_backend.status().code(), ErrorCode::kInvalidInput);
  auto bad_task = store->UpsertCandidate(t2 + 5, "cpu", "k.cpp", "s9", "", "file");
  EXPECT_EQ(bad_task.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad_task.status().message().find("FOREIGN KEY constraint failed"), std::string::npos)
      << bad_task.status().message();
}

TEST(StoreTest, BuildRoundTrip) {
  ScratchDir dir;
  auto store = OpenOrDie(dir.File("anvil.db"));
  int64_t task = ValueOrDie(store->UpsertTask("add", "add.toml", "h", "t"));
  int64_t cand = ValueOrDie(store->UpsertCandidate(task, "cpu", "add.cpp", "s", "src", "file"));
  BuildRecord failed{"key1", "g++ 12.2", "-O3 -march=native", false, "add.cpp:3:1: error: expected ';'", 1.25, false};
  BuildRecord cached{"key2", "g++ 12.2", "-O3", true, "", 0.001, true};
  int64_t b1 = ValueOrDie(store->RecordBuild(cand, failed));
  int64_t b2 = ValueOrDie(store->RecordBuild(cand, cached));
  EXPECT_LT(b1, b2);
  auto builds = ValueOrDie(store->QueryBuilds(cand));
  ASSERT_EQ(builds.size(), 2u);
  EXPECT_EQ(builds[0].cache_key, "key1");
  EXPECT_EQ(builds[0].compiler, "g++ 12.2");
  EXPECT_EQ(builds[0].flags, "-O3 -march=native");
  EXPECT_FALSE(builds[0].ok);
  EXPECT_EQ(builds[0].log, failed.log);
  EXPECT_DOUBLE_EQ(builds[0].seconds, 1.25);
  EXPECT_FALSE(builds[0].cached);
  EXPECT_TRUE(builds[1].ok);
  EXPECT_TRUE(builds[1].cached);
  EXPECT_EQ(builds[1].log, "");
  EXPECT_TRUE(ValueOrDie(store->QueryBuilds(cand + 1)).empty());
}

struct Fixture {
  std::unique_ptr<Store> store;
  int64_t run = 0, task = 0, cand = 0;
};

Fixture MakeFixture(const ScratchDir& dir) {
  Fixture f;
  f.store = OpenOrDie(dir.File("anvil.db"));
  f.run = ValueOrDie(f.store->BeginRun("verify", "{}"));
  f.task = ValueOrDie(f.store->UpsertTask("gelu", "gelu.toml", "h", "t"));
  f.cand = ValueOrDie(f.store->UpsertCandidate(f.task, "cpu", "gelu.cpp", "s", "src", "file"));
  return f;
}

TEST(StoreTest, CaseRoundTripKeepsNaNAndInfinity) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  int64_t eval = ValueOrDie(f.store->BeginEvaluation(f.run, f.cand, "verify"));
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CaseRecord c2{2, "bf16", R"({"N":7})", "transposed", "normal", -42, "mismatch", nan, inf,
                R"({"worst_index":[3,1]})"};
  CaseRecord c0{0, "f32", R"({"N":1024})", "contiguous", "uniform", 1234567890123, "pass", 1.5e-7, 3e-6, ""};
  ASSERT_TRUE(f.store->RecordCase(eval, c2).ok());  // out of order on purpose
  ASSERT_TRUE(f.store->RecordCase(eval, c0).ok());

  auto cases = ValueOrDie(f.store->QueryCases(eval));
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].case_index, 0);
  EXPECT_EQ(cases[0].dtype, "f32");
  EXPECT_EQ(cases[0].bindings_json, R"({"N":1024})");
  EXPECT_EQ(cases[0].layout, "contiguous");
  EXPECT_EQ(cases[0].distribution, "uniform");
  EXPECT_EQ(cases[0].seed, 1234567890123);
  EXPECT_EQ(cases[0].verdict, "pass");
  EXPECT_DOUBLE_EQ(cases[0].max_abs_err, 1.5e-7);
  EXPECT_DOUBLE_EQ(cases[0].max_rel_err, 3e-6);
  EXPECT_EQ(cases[0].detail_json, "");
  EXPECT_EQ(cases[1].case_index, 2);
  EXPECT_EQ(cases[1].seed, -42);
  EXPECT_TRUE(std::isnan(cases[1].max_abs_err));
  EXPECT_EQ(cases[1].max_rel_err, inf);
  EXPECT_EQ(cases[1].detail_json, R"({"worst_index":[3,1]})");

  CaseRecord bad = c0;
  bad.bindings_json = "N=3";
  Status s = f.store->RecordCase(eval, bad);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("bindings_json is not valid JSON"), std::string::npos) << s.message();

  Status orphan = f.store->RecordCase(eval + 999, c0);
  EXPECT_EQ(orphan.code(), ErrorCode::kInvalidInput);
  // The message names the file, the purpose and SQLite's reason.
  EXPECT_NE(orphan.message().find(dir.File("anvil.db")), std::string::npos) << orphan.message();
  EXPECT_NE(orphan.message().find("recording case 0 of evaluation " + std::to_string(eval + 999)), std::string::npos)
      << orphan.message();
  EXPECT_NE(orphan.message().find("FOREIGN KEY constraint failed"), std::string::npos) << orphan.message();
}

TEST(StoreTest, TimingRoundTrip) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  int64_t eval = ValueOrDie(f.store->BeginEvaluation(f.run, f.cand, "bench"));
  TimingRecord cand{"N=1M", "candidate", 4, 1200.5, 1100, 1300.25, {1100, 1200.5, 1300.25, 0.125},
                    R"({"l2_flushed":true,"host_median_ns":1500,"sol_fraction":0.62})"};
  TimingRecord eager{"N=1M", "eager", 4, 2400, 2300, 2500, {}, ""};
  TimingRecord odd{"N=1", "compiled", 1, 10, 9, 11, {std::numeric_limits<double>::quiet_NaN(), 10}, ""};
  ASSERT_TRUE(f.store->RecordTiming(eval, cand).ok());
  ASSERT_TRUE(f.store->RecordTiming(eval, eager).ok());
  ASSERT_TRUE(f.store->RecordTiming(eval, odd).ok());
  auto timings = ValueOrDie(f.store->QueryTimings(eval));
  ASSERT_EQ(timings.size(), 3u);
  EXPECT_EQ(timings[0].case_label, "N=1M");
  EXPECT_EQ(timings[0].subject, "candidate");
  EXPECT_EQ(timings[0].threads, 4);
  EXPECT_DOUBLE_EQ(timings[0].median_ns, 1200.5);
  EXPECT_DOUBLE_EQ(timings[0].q1_ns, 1100);
  EXPECT_DOUBLE_EQ(timings[0].q3_ns, 1300.25);
  EXPECT_EQ(timings[0].samples_ns, cand.samples_ns);
  EXPECT_EQ(timings[0].detail_json, cand.detail_json);
  EXPECT_EQ(timings[1].subject, "eager");
  EXPECT_EQ(timings[1].detail_json, "");  // stored as NULL
  EXPECT_TRUE(timings[1].samples_ns.empty());
  ASSERT_EQ(timings[2].samples_ns.size(), 2u);
  EXPECT_TRUE(std::isnan(timings[2].samples_ns[0]));
  EXPECT_EQ(timings[2].samples_ns[1], 10);

  TimingRecord negative = cand;
  negative.median_ns = -1;
  EXPECT_EQ(f.store->RecordTiming(eval, negative).code(), ErrorCode::kInvalidInput);
  negative.median_ns = std::numeric_limits<double>::infinity();
  EXPECT_EQ(f.store->RecordTiming(eval, negative).code(), ErrorCode::kInvalidInput);

  TimingRecord bad_detail = cand;
  bad_detail.detail_json = "{l2_flushed: yes}";
  Status bad = f.store->RecordTiming(eval, bad_detail);
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad.message().find("detail_json is not valid JSON"), std::string::npos) << bad.message();
  EXPECT_EQ(ValueOrDie(f.store->QueryTimings(eval)).size(), 3u);
}

TEST(StoreTest, DeviceCeilingsPutGetAndOverwrite) {
  ScratchDir dir;
  const std::string path = dir.File("anvil.db");
  const std::string key = "NVIDIA H100 80GB HBM3|driver 580.65|torch 2.11.0|cuda 13.0";
  const std::string first = R"({"copy_gbps":2900.5,"matmul_tflops":{"f16":650}})";
  const std::string second = R"({"copy_gbps":3010,"matmul_tflops":{"f16":700,"f64":55}})";
  {
    auto store = OpenOrDie(path);
    EXPECT_FALSE(ValueOrDie(store->GetDeviceCeilings(key)).has_value());
    ASSERT_TRUE(store->PutDeviceCeilings(key, first, "2025-01-01T00:00:00Z").ok());
    EXPECT_EQ(ValueOrDie(store->GetDeviceCeilings(key)), first);
    ASSERT_TRUE(store->PutDeviceCeilings("other|driver 1", "{}", "2025-01-01T00:00:00Z").ok());
    ASSERT_TRUE(store->PutDeviceCeilings(key, second, "2025-02-01T00:00:00Z").ok());
  }
  // The newest measurement replaced the first, survives reopening and left
  // the other device's entry alone.
  auto store = OpenOrDie(path);
  EXPECT_EQ(ValueOrDie(store->GetDeviceCeilings(key)), second);
  EXPECT_EQ(ValueOrDie(store->GetDeviceCeilings("other|driver 1")), "{}");
  auto db = std::move(sqlite::Db::Open(path)).value();
  EXPECT_EQ(*db.QueryText("SELECT count(*) || ' ' || max(measured_at) FROM device_ceilings", "t"),
            "2 2025-02-01T00:00:00Z");

  Status bad_json = store->PutDeviceCeilings(key, "{copy_gbps:", "2025-03-01T00:00:00Z");
  EXPECT_EQ(bad_json.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad_json.message().find("json is not valid JSON"), std::string::npos) << bad_json.message();
  EXPECT_EQ(store->PutDeviceCeilings("", "{}", "2025-03-01T00:00:00Z").code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(ValueOrDie(store->GetDeviceCeilings(key)), second);
}

TEST(StoreTest, FinishEvaluationAndQueryFilters) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  Store& s = *f.store;
  int64_t run2 = ValueOrDie(s.BeginRun("bench", "{}"));
  int64_t other_task = ValueOrDie(s.UpsertTask("softmax", "softmax.toml", "h", "t"));
  int64_t cuda_cand = ValueOrDie(s.UpsertCandidate(other_task, "cuda", "softmax.cu", "s", "src", "llm"));

  int64_t e1 = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "verify"));
  ASSERT_TRUE(s.FinishEvaluation(e1, "fail", "case 3 mismatch", R"({"first_failure":3})", 10, 7).ok());
  int64_t e2 = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "verify"));
  ASSERT_TRUE(s.FinishEvaluation(e2, "pass", "", "", 10, 10).ok());
  int64_t e3 = ValueOrDie(s.BeginEvaluation(run2, f.cand, "bench"));
  ASSERT_TRUE(s.RecordTiming(e3, {"a", "candidate", 1, 100, 90, 110, {}}).ok());
  ASSERT_TRUE(s.RecordTiming(e3, {"b", "candidate", 1, 400, 390, 410, {}}).ok());
  ASSERT_TRUE(s.RecordTiming(e3, {"a", "eager", 1, 300, 290, 310, {}}).ok());
  ASSERT_TRUE(s.RecordTiming(e3, {"a", "compiled", 1, 1, 1, 1, {}}).ok());  // not in the summaries
  ASSERT_TRUE(s.FinishEvaluation(e3, "pass", "", "", 2, 2).ok());
  int64_t e4 = ValueOrDie(s.BeginEvaluation(run2, cuda_cand, "verify"));  // left unfinished

  EXPECT_EQ(s.FinishEvaluation(e4 + 10, "pass", "", "", 0, 0).code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.FinishEvaluation(e4, "pass", "", "{bad", 0, 0).code(), ErrorCode::kInvalidInput);

  auto ids = [&](const EvaluationFilter& filter) {
    std::vector<int64_t> out;
    for (const EvaluationRow& row : ValueOrDie(s.QueryEvaluations(filter))) out.push_back(row.id);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<int64_t>{e4, e3, e2, e1}));  // newest first
  EvaluationFilter by_task;
  by_task.task_name = "softmax";
  EXPECT_EQ(ids(by_task), (std::vector<int64_t>{e4}));
  EvaluationFilter by_verdict;
  by_verdict.verdict = "pass";
  EXPECT_EQ(ids(by_verdict), (std::vector<int64_t>{e3, e2}));
  EvaluationFilter by_kind;
  by_kind.kind = "bench";
  EXPECT_EQ(ids(by_kind), (std::vector<int64_t>{e3}));
  EvaluationFilter by_backend;
  by_backend.backend = "cuda";
  EXPECT_EQ(ids(by_backend), (std::vector<int64_t>{e4}));
  EvaluationFilter by_run;
  by_run.run_id = f.run;
  EXPECT_EQ(ids(by_run), (std::vector<int64_t>{e2, e1}));
  EvaluationFilter combined;
  combined.task_name = "gelu";
  combined.kind = "verify";
  combined.verdict = "fail";
  EXPECT_EQ(ids(combined), (std::vector<int64_t>{e1}));
  EvaluationFilter limited;
  limited.limit = 2;
  EXPECT_EQ(ids(limited), (std::vector<int64_t>{e4, e3}));
  EvaluationFilter unlimited;
  unlimited.limit = 0;
  EXPECT_EQ(ids(unlimited).size(), 4u);
  EvaluationFilter latest;
  latest.latest_only = true;  // e1 is superseded by e2; e4 is unfinished
  EXPECT_EQ(ids(latest), (std::vector<int64_t>{e3, e2}));

  auto rows = ValueOrDie(s.QueryEvaluations({}));
  ASSERT_EQ(rows.size(), 4u);
  const EvaluationRow& unfinished = rows[0];
  EXPECT_EQ(unfinished.task_name, "softmax");
  EXPECT_EQ(unfinished.backend, "cuda");
  EXPECT_EQ(unfinished.candidate_path, "softmax.cu");
  EXPECT_EQ(unfinished.verdict, "");
  EXPECT_EQ(unfinished.finished_at, "");
  EXPECT_FALSE(unfinished.candidate_median_ns.has_value());
  const EvaluationRow& bench = rows[1];
  EXPECT_EQ(bench.run_id, run2);
  EXPECT_EQ(bench.kind, "bench");
  ASSERT_TRUE(bench.candidate_median_ns.has_value());
  // Case "b" has no eager time: both means are over case "a", timed for both.
  EXPECT_NEAR(*bench.candidate_median_ns, 100.0, 1e-9);
  ASSERT_TRUE(bench.eager_median_ns.has_value());
  EXPECT_NEAR(*bench.eager_median_ns, 300.0, 1e-9);
  const EvaluationRow& failed = rows[3];
  EXPECT_EQ(failed.verdict, "fail");
  EXPECT_EQ(failed.reason, "case 3 mismatch");
  EXPECT_EQ(failed.cases_total, 10);
  EXPECT_EQ(failed.cases_passed, 7);
  EXPECT_TRUE(std::regex_match(failed.started_at, kIsoUtc));
  EXPECT_TRUE(std::regex_match(failed.finished_at, kIsoUtc));
}

TEST(StoreTest, GetEvaluationReadsOneEvaluationWithItsCandidateAndDetail) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  Store& s = *f.store;
  int64_t done = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "bench"));
  ASSERT_TRUE(s.RecordTiming(done, {"a", "candidate", 1, 100, 90, 110, {}}).ok());
  ASSERT_TRUE(s.FinishEvaluation(done, "correct", "", R"({"speedup":2.5})", 4, 4).ok());
  int64_t running = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "verify"));

  EvaluationRow row = ValueOrDie(s.GetEvaluation(done));
  EXPECT_EQ(row.id, done);
  EXPECT_EQ(row.run_id, f.run);
  EXPECT_EQ(row.candidate_id, f.cand);
  EXPECT_EQ(row.task_name, "gelu");
  EXPECT_EQ(row.backend, "cpu");
  EXPECT_EQ(row.candidate_path, "gelu.cpp");
  EXPECT_EQ(row.kind, "bench");
  EXPECT_EQ(row.verdict, "correct");
  EXPECT_EQ(row.detail_json, R"({"speedup":2.5})");
  EXPECT_EQ(row.cases_total, 4);
  EXPECT_EQ(row.cases_passed, 4);
  EXPECT_TRUE(std::regex_match(row.finished_at, kIsoUtc));
  ASSERT_TRUE(row.candidate_median_ns.has_value());
  EXPECT_DOUBLE_EQ(*row.candidate_median_ns, 100);

  EvaluationRow unfinished = ValueOrDie(s.GetEvaluation(running));
  EXPECT_EQ(unfinished.verdict, "");
  EXPECT_EQ(unfinished.finished_at, "");
  EXPECT_EQ(unfinished.detail_json, "");
  EXPECT_EQ(s.GetEvaluation(running + 1).status().code(), ErrorCode::kNotFound);
  // The list carries the same columns.
  auto rows = ValueOrDie(s.QueryEvaluations({}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].candidate_id, f.cand);
  EXPECT_EQ(rows[1].detail_json, row.detail_json);
}

TEST(StoreTest, TunedKernelCanBePointedAtANewerEvaluation) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  Store& s = *f.store;
  int64_t tuned = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "bench"));
  int64_t again = ValueOrDie(s.BeginEvaluation(f.run, f.cand, "bench"));
  EXPECT_EQ(s.SetTunedKernelEvaluation("k", "cpu|x", "f32", "R~64", again).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(s.PutTunedKernel("k", "cpu|x", "f32", "R~64", R"({"block":2048})", tuned).ok());
  auto before = ValueOrDie(s.GetTunedKernel("k", "cpu|x", "f32", "R~64"));
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(s.SetTunedKernelEvaluation("k", "cpu|x", "f32", "R~64", again).ok());
  auto after = ValueOrDie(s.GetTunedKernel("k", "cpu|x", "f32", "R~64"));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->evaluation_id, again);
  EXPECT_EQ(after->params_json, before->params_json);
  EXPECT_EQ(after->tuned_at, before->tuned_at);  // when it was tuned, not when it was verified again
  EXPECT_EQ(s.SetTunedKernelEvaluation("k", "cpu|x", "f32", "R~128", again).code(), ErrorCode::kNotFound);
}

TEST(StoreTest, InMemoryStoreWorks) {
  auto store = OpenOrDie(":memory:");
  int64_t run = ValueOrDie(store->BeginRun("verify", "[]"));
  int64_t task = ValueOrDie(store->UpsertTask("t", "t.toml", "h", ""));
  int64_t cand = ValueOrDie(store->UpsertCandidate(task, "triton", "t.py", "s", "", "builtin"));
  int64_t eval = ValueOrDie(store->BeginEvaluation(run, cand, "verify"));
  ASSERT_TRUE(store->FinishEvaluation(eval, "pass", "", "", 1, 1).ok());
  EXPECT_EQ(ValueOrDie(store->QueryEvaluations({})).size(), 1u);
}

}  // namespace
}  // namespace anvil

namespace anvil {
namespace {

// Eager could not run one case (no f16 kernel in LibTorch 1.13 on the CPU):
// the summary means pair the cases timed for both, so their ratio is the
// speedup on those cases, not skewed by the candidate's extra case.
TEST(StoreTest, MediansPairTheCasesTimedForBoth) {
  ScratchDir dir;
  Fixture f = MakeFixture(dir);
  int64_t eval = ValueOrDie(f.store->BeginEvaluation(f.run, f.cand, "bench"));
  ASSERT_TRUE(f.store->RecordTiming(eval, {"f32 N=1M", "candidate", 2, 100, 90, 110, {}, ""}).ok());
  ASSERT_TRUE(f.store->RecordTiming(eval, {"f32 N=1M", "eager", 2, 400, 390, 410, {}, ""}).ok());
  ASSERT_TRUE(f.store->RecordTiming(eval, {"f16 N=1M", "candidate", 2, 1000, 900, 1100, {}, ""}).ok());
  ASSERT_TRUE(f.store->FinishEvaluation(eval, "correct", "", "", 1, 1).ok());
  EvaluationRow row = ValueOrDie(f.store->GetEvaluation(eval));
  ASSERT_TRUE(row.candidate_median_ns && row.eager_median_ns);
  EXPECT_NEAR(*row.candidate_median_ns, 100, 1e-9);
  EXPECT_NEAR(*row.eager_median_ns / *row.candidate_median_ns, 4.0, 1e-12);

  // No eager at all: the candidate's mean over all its cases, no eager mean.
  int64_t only = ValueOrDie(f.store->BeginEvaluation(f.run, f.cand, "bench"));
  ASSERT_TRUE(f.store->RecordTiming(only, {"f16 N=1M", "candidate", 2, 100, 90, 110, {}, ""}).ok());
  ASSERT_TRUE(f.store->RecordTiming(only, {"bf16 N=1M", "candidate", 2, 400, 390, 410, {}, ""}).ok());
  ASSERT_TRUE(f.store->FinishEvaluation(only, "correct", "", "", 1, 1).ok());
  row = ValueOrDie(f.store->GetEvaluation(only));
  ASSERT_TRUE(row.candidate_median_ns);
  EXPECT_NEAR(*row.candidate_median_ns, 200, 1e-9);
  EXPECT_FALSE(row.eager_median_ns);
}

}  // namespace
}  // namespace anvil

