// WorkerClient under a launcher (WorkerOptions::launcher): the protocol pipes,
// the hello handshake, the environment and the process-group kill must work
// through a process that execs or forks the worker, as compute-sanitizer
// does. The "worker" is a small shell script speaking the protocol, so these
// tests need neither LibTorch nor a GPU.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "orchestrator/worker_client.h"
#include "util/cpu_set.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;

class WorkerLauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::path("anvil-launcher-" + std::to_string(getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // Says hello with what it sees (its pid, ANVIL_X, TMPDIR, its first
    // argument, the CPUs it may run on); with ANVIL_SLEEP set it then
    // sleeps, deaf to its stdin; else it answers one request with a case and
    // done, then waits for the shutdown line.
    worker_ = (dir_ / "fake-worker").string();
    std::ofstream(worker_) << "#!/bin/sh\n"
                              "echo \"{\\\"type\\\":\\\"hello\\\",\\\"device\\\":{\\\"pid\\\":$$,\\\"x\\\":\\\"$ANVIL_X\\\","
                              "\\\"tmp\\\":\\\"$TMPDIR\\\",\\\"arg1\\\":\\\"$1\\\","
                              "\\\"cpus\\\":\\\"$(awk '/^Cpus_allowed_list/{print $2}' /proc/$$/status)\\\"}}\"\n"
                              "[ -n \"$ANVIL_SLEEP\" ] && exec sleep 60\n"
                              "read request\n"
                              "echo '{\"type\":\"begin\",\"phase\":\"correctness\",\"index\":0}'\n"
                              "echo '{\"type\":\"case\",\"index\":0,\"verdict\":\"correct\"}'\n"
                              "echo '{\"type\":\"done\"}'\n"
                              "read shutdown\n";
    fs::permissions(worker_, fs::perms::owner_all);
  }
  void TearDown() override { fs::remove_all(dir_); }

  WorkerOptions Options(std::vector<std::string> launcher) const {
    WorkerOptions o;
    o.worker_path = worker_;
    o.scratch_dir = (dir_ / "scratch").string();
    o.launcher = std::move(launcher);
    o.startup_timeout_s = 20;
    return o;
  }

  fs::path dir_;
  std::string worker_;
};

// True when `pid` is gone or a zombie (dead, waiting for a parent to reap it).
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string p, comm, state;
  stat >> p >> comm >> state;
  return state == "Z" || state == "X";
}

TEST_F(WorkerLauncherTest, HelloAndOneRequestThroughEnvWithVariables) {
  WorkerOptions o = Options({"env", "ANVIL_X=1"});
  o.environment = {{"TMPDIR", o.scratch_dir}};
  auto client = WorkerClient::Start(o);
  ASSERT_TRUE(client.ok()) << client.status().message();
  WorkerClient& w = **client;
  EXPECT_EQ(w.device().value("x", ""), "1");
  EXPECT_EQ(w.device().value("tmp", ""), o.scratch_dir);
  // The worker's own command line follows the launcher's.
  EXPECT_EQ(w.device().value("arg1", ""), "--scratch-dir");

  ASSERT_TRUE(w.Send({{"type", "evaluate"}}).ok());
  std::vector<std::string> types;
  for (int i = 0; i < 3; ++i) {
    WorkerEvent e = w.Next(10);
    ASSERT_EQ(e.kind, WorkerEvent::Kind::kMessage);
    types.push_back(e.message.value("type", ""));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"begin", "case", "done"}));
  ASSERT_TRUE(w.Send({{"type", "shutdown"}}).ok());
  WorkerEvent end = w.Next(10);
  EXPECT_EQ(end.kind, WorkerEvent::Kind::kExited);
  EXPECT_EQ(end.exit_code, 0);
}

// The CPUs a suite job gives its worker (util/cpu_set.h): set before exec,
// so the worker and its OpenMP runtime see only those; no list, no change.
TEST_F(WorkerLauncherTest, TheWorkerRunsOnTheCpusItWasGiven) {
  WorkerOptions o = Options({});
  const std::vector<std::vector<int>> cores = AllowedCores();
  const int last = cores.back().back();
  o.cpus = {last};
  auto pinned = WorkerClient::Start(o);
  ASSERT_TRUE(pinned.ok()) << pinned.status().message();
  EXPECT_EQ((*pinned)->device().value("cpus", ""), std::to_string(last));
  (*pinned)->Kill();

  o.cpus.clear();
  auto free = WorkerClient::Start(o);
  ASSERT_TRUE(free.ok()) << free.status().message();
  std::ifstream status("/proc/self/status");
  std::string line, mine;
  while (std::getline(status, line))
    if (line.rfind("Cpus_allowed_list:", 0) == 0) mine = line.substr(line.find_first_not_of(" \t", 18));
  EXPECT_EQ((*free)->device().value("cpus", ""), mine);
  (*free)->Kill();
}

// Jobs get contiguous runs of whole cores; with fewer cores than jobs they share.
TEST(CpusForJob, SplitsWholeCoresBetweenJobs) {
  const std::vector<std::vector<int>> cores = {{0, 4}, {1, 5}, {2, 6}, {3, 7}};
  EXPECT_EQ(CpusForJob(cores, 2, 0), (std::vector<int>{0, 4, 1, 5}));
  EXPECT_EQ(CpusForJob(cores, 2, 1), (std::vector<int>{2, 6, 3, 7}));
  EXPECT_EQ(CpusForJob(cores, 3, 0), (std::vector<int>{0, 4}));
  EXPECT_EQ(CpusForJob(cores, 3, 2), (std::vector<int>{2, 6, 3, 7}));
  EXPECT_EQ(CpusForJob(cores, 1, 0), (std::vector<int>{0, 4, 1, 5, 2, 6, 3, 7}));
  EXPECT_EQ(CpusForJob(cores, 6, 5), (std::vector<int>{1, 5}));
  const std::vector<std::vector<int>> mine = AllowedCores();
  std::vector<int> seen;
  for (int j = 0; j < 3; ++j)
    for (int cpu : CpusForJob(mine, 3, j)) seen.push_back(cpu);
  if (mine.size() >= 3) {
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(static_cast<int>(seen.size()), AllowedCpuCount());
    EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "a CPU given to two jobs";
  }
}

TEST_F(WorkerLauncherTest, ForkingLauncherWithABannerIsSkippedAndKillEndsTheWorkerToo) {
  // Like compute-sanitizer: prints on stdout, then runs the worker as its child.
  // The worker then sleeps: only the process-group kill ends it (closing its stdin would not).
  WorkerOptions o = Options({"sh", "-c", "echo 'banner, not JSON'; \"$@\"; exit 0", "launcher"});
  o.environment = {{"ANVIL_SLEEP", "1"}};
  auto client = WorkerClient::Start(o);
  ASSERT_TRUE(client.ok()) << client.status().message();
  WorkerClient& w = **client;
  pid_t worker_pid = w.device().value("pid", 0);
  ASSERT_GT(worker_pid, 0);
  EXPECT_NE(worker_pid, w.pid()) << "the launcher was expected to fork, not exec";
  w.Kill();
  bool dead = false;
  for (int i = 0; i < 200 && !(dead = Dead(worker_pid)); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(dead) << "the worker (pid " << worker_pid << ") outlived the launcher's kill";
}

TEST_F(WorkerLauncherTest, AMissingLauncherIsAClearError) {
  auto client = WorkerClient::Start(Options({"no-such-launcher-anvil"}));
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("launcher 'no-such-launcher-anvil'"), std::string::npos)
      << client.status().message();
}

TEST_F(WorkerLauncherTest, AWorkerThatNeverSaysHelloNamesTheLauncher) {
  auto client = WorkerClient::Start(Options({"sh", "-c", "echo not json; exit 3", "launcher"}));
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("(under "), std::string::npos) << client.status().message();
  EXPECT_NE(client.status().message().find("exited with code 3"), std::string::npos) << client.status().message();
}

}  // namespace
}  // namespace anvil
