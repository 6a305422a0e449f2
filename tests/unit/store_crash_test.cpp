// Store crash safety: a writer killed with SIGKILL at an arbitrary moment
// loses none of the rows it had been told were committed, and leaves an
// intact database whose unfinished run can be marked interrupted.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>

#include <gtest/gtest.h>

#include "store/sqlite_handle.h"
#include "store/store.h"
#include "store_test_util.h"

namespace anvil {
namespace {

using anvil::testing::ScratchDir;

// The child: records cases forever, writing the count of committed rows to
// `fd` after each one. Never returns; exits 2 on any store error.
[[noreturn]] void WriteUntilKilled(const std::string& path, int fd) {
  auto opened = Store::Open(path);
  if (!opened.ok()) _exit(2);
  Store& store = **opened;
  auto run = store.BeginRun("verify", "{}");
  if (!run.ok()) _exit(2);
  auto task = store.UpsertTask("relu", "relu.toml", "h", "t");
  if (!task.ok()) _exit(2);
  auto cand = store.UpsertCandidate(*task, "cpu", "relu.cpp", "s", "src", "file");
  if (!cand.ok()) _exit(2);
  auto eval = store.BeginEvaluation(*run, *cand, "verify");
  if (!eval.ok()) _exit(2);
  for (int64_t i = 0;; ++i) {
    CaseRecord c{static_cast<int>(i), "f32", R"({"N":1})", "contiguous", "normal", i, "pass", 0.0, 0.0, ""};
    if (!store.RecordCase(*eval, c).ok()) _exit(2);
    int64_t committed = i + 1;
    if (write(fd, &committed, sizeof(committed)) != static_cast<ssize_t>(sizeof(committed))) _exit(2);
  }
}

TEST(StoreCrashTest, KilledWriterLosesNothingCommitted) {
  ScratchDir dir;
  const std::string path = dir.File("ws/anvil.db");
  constexpr int64_t kKillAfter = 1000;

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    WriteUntilKilled(path, fds[1]);
  }
  close(fds[1]);

  // Read progress reports until the child has committed kKillAfter rows, then
  // kill it straight away: it is writing the next row while we do.
  int64_t reported = 0;
  while (reported < kKillAfter) {
    int64_t n = 0;
    ssize_t got = read(fds[0], &n, sizeof(n));
    if (got != static_cast<ssize_t>(sizeof(n))) break;  // the child died early
    reported = n;
  }
  kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  close(fds[0]);
  ASSERT_EQ(reported, kKillAfter) << "child stopped early; exit status " << wstatus;
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL) << "child exited by itself: " << wstatus;

  {
    auto db = std::move(sqlite::Db::Open(path)).value();
    auto check = db.QueryText("PRAGMA integrity_check", "checking integrity");
    ASSERT_TRUE(check.ok()) << check.status().message();
    EXPECT_EQ(*check, "ok");
  }

  auto store = Store::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto evals = (*store)->QueryEvaluations({});
  ASSERT_TRUE(evals.ok());
  ASSERT_EQ(evals->size(), 1u);
  EXPECT_EQ((*evals)[0].verdict, "");  // never finished
  auto cases = (*store)->QueryCases((*evals)[0].id);
  ASSERT_TRUE(cases.ok());
  ASSERT_GE(static_cast<int64_t>(cases->size()), kKillAfter);
  for (size_t i = 0; i < cases->size(); ++i) EXPECT_EQ((*cases)[i].case_index, static_cast<int>(i));

  // The dead child's run is unfinished until someone notices it is gone.
  const int64_t run_id = (*evals)[0].run_id;
  EXPECT_EQ((*store)->GetRun(run_id)->status, "");
  auto marked = (*store)->MarkAbandonedRuns();
  ASSERT_TRUE(marked.ok()) << marked.status().message();
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ((*store)->GetRun(run_id)->status, "interrupted");
  EXPECT_FALSE((*store)->GetRun(run_id)->finished_at.empty());
  EXPECT_EQ(*(*store)->MarkAbandonedRuns(), 0);
}

TEST(StoreCrashTest, LiveRunsAreNotMarkedAbandoned) {
  ScratchDir dir;
  auto store = std::move(Store::Open(dir.File("anvil.db"))).value();
  auto run = store->BeginRun("verify", "{}");
  ASSERT_TRUE(run.ok());
  auto marked = store->MarkAbandonedRuns();
  ASSERT_TRUE(marked.ok());
  EXPECT_EQ(*marked, 0);  // our own process is alive
  EXPECT_EQ(store->GetRun(*run)->status, "");
}

}  // namespace
}  // namespace anvil
