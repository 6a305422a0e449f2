// Killing `anvil` in the middle of an evaluation loses nothing it recorded:
// the cases judged so far stay in the store, the evaluation stays without a
// verdict, the worker dies with the orchestrator, and the next run marks the
// killed run as interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_runner.h"
#include "store/store.h"

namespace anvil::testing {
namespace {

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0; }

// The pids of running anvil-worker processes whose parent is `parent`.
std::vector<pid_t> WorkersOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string pid, comm, state;
    pid_t ppid = 0;
    stat >> pid >> comm >> state >> ppid;
    if (ppid == parent && comm.find("anvil-worker") != std::string::npos) out.push_back(std::stoi(pid));
  }
  return out;
}

TEST(KillMidRun, RecordedCasesSurviveAndTheWorkerDiesToo) {
  CliWorkspace ws;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (chdir(ANVIL_SOURCE_DIR) != 0) _exit(127);
    execl(ANVIL_CLI_PATH, ANVIL_CLI_PATH, "--workspace", ws.dir().c_str(), "--no-progress", "bench",
          "examples/softmax/kernel.cpp", "--task", "examples/softmax/task.toml", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until some cases are recorded, then kill anvil outright.
  std::string db = ws.dir() + "/anvil.db";
  size_t recorded = 0;
  std::vector<pid_t> workers;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && recorded < 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!std::filesystem::exists(db)) continue;
    auto store = Store::Open(db);
    if (!store.ok()) continue;
    auto evals = (*store)->QueryEvaluations({});
    if (!evals.ok() || evals->empty()) continue;
    auto cases = (*store)->QueryCases(evals->front().id);
    if (cases.ok()) recorded = cases->size();
    if (workers.empty()) workers = WorkersOf(pid);
  }
  ASSERT_GE(recorded, 10u) << "anvil never recorded cases";
  ASSERT_FALSE(workers.empty()) << "no worker process found";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);

  // The worker follows its orchestrator.
  for (int i = 0; i < 100 && ProcessExists(workers[0]); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(ProcessExists(workers[0])) << "worker " << workers[0] << " outlived the orchestrator";

  auto store = Store::Open(db);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto evals = (*store)->QueryEvaluations({});
  ASSERT_TRUE(evals.ok());
  ASSERT_EQ(evals->size(), 1u);
  EXPECT_EQ(evals->front().verdict, "") << "a killed evaluation must not look finished";
  auto cases = (*store)->QueryCases(evals->front().id);
  ASSERT_TRUE(cases.ok());
  EXPECT_GE(cases->size(), recorded);

  // The next invocation notices the dead run.
  CliRun next = ws.Run({"results"});
  EXPECT_EQ(next.exit_code, 0) << next.output;
  CliRun verify = ws.Run({"verify", "tests/exploits/correct_scale.cpp", "--task", "tests/exploits/task_scale.toml"});
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  auto run = (*store)->GetRun(evals->front().run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, "interrupted");
}

}  // namespace
}  // namespace anvil::testing
