// Store migrations: old databases are upgraded in place, reopening is
// idempotent, newer databases are refused, the file is in WAL mode.
#include "store/migrations.h"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "store/sqlite_handle.h"
#include "store/store.h"
#include "store_test_util.h"

namespace anvil {
namespace {

using anvil::testing::ScratchDir;

int64_t CountRows(sqlite::Db& db, const std::string& table) {
  auto stmt = db.Prepare("SELECT count(*) FROM " + table, "test count");
  EXPECT_TRUE(stmt.ok()) << stmt.status().message();
  auto row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row);
  return stmt->ColumnInt64(0);
}

TEST(StoreMigrationsTest, VersionsAreContiguousFromOne) {
  const auto& all = store::AllMigrations();
  ASSERT_GE(all.size(), 2u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].version, static_cast<int>(i + 1));
  EXPECT_EQ(Store::LatestSchemaVersion(), static_cast<int>(all.size()));
}

TEST(StoreMigrationsTest, NewDatabaseRecordsEveryMigration) {
  ScratchDir dir;
  const std::string path = dir.File("anvil.db");
  ASSERT_TRUE(Store::Open(path).ok());
  auto db = std::move(sqlite::Db::Open(path)).value();
  auto stmt = std::move(db.Prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version", "t")).value();
  int expected = 1;
  while (*stmt.Step()) {
    EXPECT_EQ(stmt.ColumnInt(0), expected++);
    EXPECT_FALSE(stmt.ColumnText(1).empty());
  }
  EXPECT_EQ(expected - 1, Store::LatestSchemaVersion());
  EXPECT_EQ(*db.QueryText("PRAGMA journal_mode", "t"), "wal");
  EXPECT_EQ(*db.QueryText("PRAGMA integrity_check", "t"), "ok");
}

TEST(StoreMigrationsTest, Version1DatabaseIsMigratedAndKeepsRows) {
  ScratchDir dir;
  const std::string path = dir.File("old.db");
  {
    // Build the database an anvil with only migration 1 would have made.
    auto db = std::move(sqlite::Db::Open(path)).value();
    ASSERT_TRUE(store::Migrate(db, 1).ok());
    EXPECT_EQ(*store::ReadSchemaVersion(db), 1);
    ASSERT_TRUE(db.Exec(R"sql(
      INSERT INTO tasks(id, name, source_path, content_hash, text) VALUES (1, 'relu', 'relu.toml', 'h', 't');
      INSERT INTO candidates(id, task_id, backend, source_path, source_hash, source, provenance)
        VALUES (1, 1, 'cpu', 'relu.cpp', 's', 'src', 'file');
      INSERT INTO runs(id, command, args_json, anvil_version, host, pid) VALUES (1, 'verify', '{}', '0.0.1', 'h', 1);
      INSERT INTO evaluations(id, run_id, candidate_id, kind, verdict, reason, cases_total, cases_passed, finished_at)
        VALUES (1, 1, 1, 'verify', 'fail', 'old', 4, 3, '2024-01-01T00:00:00.000Z'),
               (2, 1, 1, 'verify', 'pass', '', 4, 4, '2024-01-02T00:00:00.000Z');
      INSERT INTO case_results(evaluation_id, case_index, dtype, bindings_json, layout, distribution, seed, verdict,
                               max_abs_err, max_rel_err)
        VALUES (2, 0, 'f32', '{}', 'contiguous', 'normal', 7, 'pass', 0.0, 0.0);
    )sql",
                        "seeding a version 1 database")
                    .ok());
    // Version 2's view does not exist yet.
    EXPECT_FALSE(db.Exec("SELECT * FROM latest_evaluations", "t").ok());
  }

  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->SchemaVersion(), Store::LatestSchemaVersion());
  auto rows = (*store)->QueryEvaluations({});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].reason, "old");
  EXPECT_EQ((*rows)[1].task_name, "relu");
  auto cases = (*store)->QueryCases(2);
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 1u);
  EXPECT_EQ((*cases)[0].seed, 7);

  // Migration 2's view works on the migrated rows.
  EvaluationFilter latest;
  latest.latest_only = true;
  auto latest_rows = (*store)->QueryEvaluations(latest);
  ASSERT_TRUE(latest_rows.ok()) << latest_rows.status().message();
  ASSERT_EQ(latest_rows->size(), 1u);
  EXPECT_EQ((*latest_rows)[0].id, 2);

  // New rows go on after the old ones.
  auto run = (*store)->BeginRun("verify", "{}");
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(*run, 2);
}

TEST(StoreMigrationsTest, Version2DatabaseIsMigratedAndKeepsRows) {
  ScratchDir dir;
  const std::string path = dir.File("v2.db");
  {
    // Build the database an anvil with migrations 1 and 2 would have made.
    auto db = std::move(sqlite::Db::Open(path)).value();
    ASSERT_TRUE(store::Migrate(db, 2).ok());
    EXPECT_EQ(*store::ReadSchemaVersion(db), 2);
    ASSERT_TRUE(db.Exec(R"sql(
      INSERT INTO tasks(id, name, source_path, content_hash, text) VALUES (1, 'relu', 'relu.toml', 'h', 't');
      INSERT INTO candidates(id, task_id, backend, source_path, source_hash, source, provenance)
        VALUES (1, 1, 'cuda', 'relu.cu', 's', 'src', 'file');
      INSERT INTO runs(id, command, args_json, anvil_version, host, pid) VALUES (1, 'bench', '{}', '0.0.1', 'h', 1);
      INSERT INTO evaluations(id, run_id, candidate_id, kind, verdict, reason, cases_total, cases_passed, finished_at)
        VALUES (1, 1, 1, 'bench', 'pass', '', 4, 4, '2024-01-02T00:00:00.000Z');
      INSERT INTO timings(evaluation_id, case_label, subject, threads, median_ns, q1_ns, q3_ns, samples_json)
        VALUES (1, 'N=1M', 'candidate', 1, 1200, 1100, 1300, '[1100,1200,1300]');
    )sql",
                        "seeding a version 2 database")
                    .ok());
    // Version 3's table does not exist yet.
    EXPECT_FALSE(db.Exec("SELECT * FROM device_ceilings", "t").ok());
  }

  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->SchemaVersion(), Store::LatestSchemaVersion());
  // The old timing row reads back with an empty detail.
  auto timings = (*store)->QueryTimings(1);
  ASSERT_TRUE(timings.ok()) << timings.status().message();
  ASSERT_EQ(timings->size(), 1u);
  EXPECT_EQ((*timings)[0].median_ns, 1200);
  EXPECT_EQ((*timings)[0].samples_ns, (std::vector<double>{1100, 1200, 1300}));
  EXPECT_EQ((*timings)[0].detail_json, "");
  auto rows = (*store)->QueryEvaluations({});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].candidate_median_ns, 1200);

  // Migration 3's column and table work on the migrated file.
  TimingRecord t{"N=2M", "candidate", 1, 2400, 2300, 2500, {2400}, R"({"l2_flushed":true})"};
  ASSERT_TRUE((*store)->RecordTiming(1, t).ok());
  timings = (*store)->QueryTimings(1);
  ASSERT_TRUE(timings.ok());
  ASSERT_EQ(timings->size(), 2u);
  EXPECT_EQ((*timings)[1].detail_json, t.detail_json);
  ASSERT_TRUE((*store)->PutDeviceCeilings("dev", R"({"copy_gbps":1})", "2025-01-01T00:00:00Z").ok());
  EXPECT_EQ(*(*store)->GetDeviceCeilings("dev"), R"({"copy_gbps":1})");
  auto db = std::move(sqlite::Db::Open(path)).value();
  // The schema refuses malformed detail from any writer, not only through Store.
  EXPECT_FALSE(db.Exec("UPDATE timings SET detail_json = '{x' WHERE id = 1", "t").ok());
  EXPECT_EQ(*db.QueryText("PRAGMA integrity_check", "t"), "ok");
}

TEST(StoreMigrationsTest, Version4DatabaseIsMigratedKeepsRowsAndIndexesProvenKernels) {
  ScratchDir dir;
  const std::string path = dir.File("v4.db");
  {
    // Build the database an anvil with migrations 1 to 4 would have made:
    // candidate 1's newest finished evaluation is correct (an unfinished
    // one after it does not count), candidate 2 was correct once and then
    // wrong, candidate 3 was never finished.
    auto db = std::move(sqlite::Db::Open(path)).value();
    ASSERT_TRUE(store::Migrate(db, 4).ok());
    EXPECT_EQ(*store::ReadSchemaVersion(db), 4);
    ASSERT_TRUE(db.Exec(R"sql(
      INSERT INTO tasks(id, name, source_path, content_hash, text)
        VALUES (1, 'softmax_temperature', 's.toml', 'h', 'description = "softmax with temperature"'),
               (2, 'relu', 'relu.toml', 'h', 'formula = "out = relu(x)"');
      INSERT INTO candidates(id, task_id, backend, source_path, source_hash, source, provenance)
        VALUES (1, 1, 'cuda', 's.cu', 'a', 'softmax source', 'builtin'),
               (2, 2, 'cpu', 'relu.cpp', 'b', 'relu source', 'file'),
               (3, 2, 'cpu', 'relu2.cpp', 'c', 'relu2 source', 'file');
      INSERT INTO runs(id, command, args_json, anvil_version, host, pid) VALUES (1, 'bench', '{}', '0.0.1', 'h', 1);
      INSERT INTO evaluations(id, run_id, candidate_id, kind, verdict, reason, cases_total, cases_passed, finished_at)
        VALUES (1, 1, 1, 'bench', 'correct', '', 4, 4, '2024-01-02T00:00:00.000Z'),
               (2, 1, 1, 'verify', NULL, NULL, NULL, NULL, NULL),
               (3, 1, 2, 'verify', 'correct', '', 4, 4, '2024-01-02T00:00:00.000Z'),
               (4, 1, 2, 'verify', 'wrong', 'case 3', 4, 3, '2024-01-03T00:00:00.000Z'),
               (5, 1, 3, 'verify', NULL, NULL, NULL, NULL, NULL);
      INSERT INTO timings(evaluation_id, case_label, subject, threads, median_ns, q1_ns, q3_ns, samples_json)
        VALUES (1, 'R=4096', 'candidate', 1, 500, 490, 510, '[500]'),
               (1, 'R=4096', 'eager', 1, 1000, 990, 1010, '[1000]');
      INSERT INTO tuned_kernels(kernel_key, device_key, dtypes, shape_bucket, params_json, evaluation_id)
        VALUES ('k', 'd', 'f32', 'R=4096', '{"block":256}', 1);
    )sql",
                        "seeding a version 4 database")
                    .ok());
    // Version 5's tables do not exist yet.
    EXPECT_FALSE(db.Exec("SELECT * FROM sessions", "t").ok());
  }

  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->SchemaVersion(), Store::LatestSchemaVersion());
  auto rows = (*store)->QueryEvaluations({});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_EQ(rows->size(), 5u);
  auto tuned = (*store)->GetTunedKernel("k", "d", "f32", "R=4096");
  ASSERT_TRUE(tuned.ok() && tuned->has_value());
  EXPECT_EQ((*tuned)->params_json, R"({"block":256})");

  // The backfill indexed the one candidate whose newest finished evaluation is correct.
  auto hits = (*store)->SearchKernels({});
  ASSERT_TRUE(hits.ok()) << hits.status().message();
  ASSERT_EQ(hits->size(), 1u);
  const KernelHit& h = (*hits)[0];
  EXPECT_EQ(h.candidate_id, 1);
  EXPECT_EQ(h.evaluation_id, 1);
  EXPECT_EQ(h.task_name, "softmax_temperature");
  EXPECT_EQ(h.backend, "cuda");
  EXPECT_EQ(h.dtypes, "");
  EXPECT_EQ(h.op_kinds, "");
  EXPECT_EQ(h.summary, R"(description = "softmax with temperature")");
  EXPECT_EQ(h.source, "softmax source");
  EXPECT_EQ(h.provenance, "builtin");
  ASSERT_TRUE(h.speedup.has_value());
  EXPECT_DOUBLE_EQ(*h.speedup, 2.0);
  KernelSearchQuery words;
  words.text = "temperature";
  EXPECT_EQ((*store)->SearchKernels(words)->size(), 1u);
  words.text = "relu";
  EXPECT_TRUE((*store)->SearchKernels(words)->empty());

  // Migration 5's tables work on the migrated file.
  SessionRow session;
  session.run_id = 1;
  session.task_id = 2;
  session.backend = "cpu";
  session.input_form = "task";
  session.provider = "openai";
  session.model = "m";
  auto id = (*store)->BeginSession(session);
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_TRUE((*store)->SaveKernel(1, "", "kept").ok());
  EXPECT_EQ((*store)->SaveKernel(4, "", "").status().code(), ErrorCode::kInvalidInput);
  auto db = std::move(sqlite::Db::Open(path)).value();
  EXPECT_EQ(*db.QueryText("PRAGMA integrity_check", "t"), "ok");
  EXPECT_TRUE(db.Exec("INSERT INTO proven_kernels_fts(proven_kernels_fts) VALUES ('integrity-check')", "t").ok());
}

TEST(StoreMigrationsTest, ReopeningIsIdempotent) {
  ScratchDir dir;
  const std::string path = dir.File("anvil.db");
  int64_t task = 0;
  {
    auto store = std::move(Store::Open(path)).value();
    task = *store->UpsertTask("relu", "relu.toml", "h", "t");
  }
  for (int i = 0; i < 3; ++i) {
    auto store = Store::Open(path);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ((*store)->SchemaVersion(), Store::LatestSchemaVersion());
    auto row = (*store)->GetTask(task);
    ASSERT_TRUE(row.ok());
    EXPECT_EQ(row->name, "relu");
  }
  auto db = std::move(sqlite::Db::Open(path)).value();
  EXPECT_EQ(CountRows(db, "schema_migrations"), Store::LatestSchemaVersion());
  EXPECT_EQ(CountRows(db, "tasks"), 1);
  // Migrating an up-to-date database directly is a no-op too.
  EXPECT_TRUE(store::Migrate(db, Store::LatestSchemaVersion()).ok());
  EXPECT_EQ(CountRows(db, "schema_migrations"), Store::LatestSchemaVersion());
}

TEST(StoreMigrationsTest, NewerDatabaseIsRefusedWithClearMessage) {
  ScratchDir dir;
  const std::string path = dir.File("future.db");
  const int future = Store::LatestSchemaVersion() + 3;
  {
    auto db = std::move(sqlite::Db::Open(path)).value();
    ASSERT_TRUE(store::Migrate(db, Store::LatestSchemaVersion()).ok());
    ASSERT_TRUE(db.Exec("INSERT INTO schema_migrations(version) VALUES (" + std::to_string(future) + ")", "t").ok());
  }
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(store.status().message(), "store " + path + " has schema version " + std::to_string(future) +
                                          " but this anvil knows up to " +
                                          std::to_string(Store::LatestSchemaVersion()) + "; upgrade anvil");
}

TEST(StoreMigrationsTest, NewerDatabaseIsNotTouched) {
  ScratchDir dir;
  const std::string path = dir.File("future.db");
  {
    auto db = std::move(sqlite::Db::Open(path)).value();
    ASSERT_TRUE(db.Exec("CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY, applied_at TEXT);"
                        "INSERT INTO schema_migrations VALUES (99, 'later');",
                        "t")
                    .ok());
  }
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("has schema version 99"), std::string::npos) << store.status().message();
  auto db = std::move(sqlite::Db::Open(path)).value();
  EXPECT_EQ(CountRows(db, "sqlite_master WHERE name = 'tasks'"), 0);  // migration 1 was not applied
}

TEST(StoreMigrationsTest, NonDatabaseFileIsAnErrorNamingIt) {
  ScratchDir dir;
  const std::string path = dir.File("notes.db");
  {
    std::ofstream out(path);
    out << "these are my notes, not a database, and they are long enough to fill a header page......";
  }
  auto store = Store::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos) << store.status().message();
}

TEST(StoreMigrationsTest, ConcurrentOpensOfANewFileMigrateOnce) {
  ScratchDir dir;
  const std::string path = dir.File("shared.db");
  constexpr int kProcesses = 4;
  int gate[2];
  ASSERT_EQ(pipe(gate), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // Wait at the gate so that all processes open the file together.
      close(gate[1]);
      char c;
      (void)read(gate[0], &c, 1);
      auto store = Store::Open(path);
      if (!store.ok()) {
        fprintf(stderr, "child %d: %s\n", i, store.status().message().c_str());
        _exit(1);
      }
      _exit((*store)->SchemaVersion() == Store::LatestSchemaVersion() ? 0 : 3);
    }
    children.push_back(pid);
  }
  close(gate[0]);
  close(gate[1]);  // opens the gate: every read returns 0
  for (pid_t pid : children) {
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "status " << wstatus;
  }
  auto db = std::move(sqlite::Db::Open(path)).value();
  EXPECT_EQ(CountRows(db, "schema_migrations"), Store::LatestSchemaVersion());
}

}  // namespace
}  // namespace anvil
