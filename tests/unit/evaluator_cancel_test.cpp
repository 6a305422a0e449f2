// Cancelling an evaluation (EvaluatorOptions::cancel, raised on Ctrl-C by
// `anvil suite run`): a worker stuck in a case or still starting is killed
// within about a second and Evaluate says kCancelled, leaving the evaluation
// without a verdict; the silence timeout still gives its verdict when nobody
// cancels. The "worker" is a shell script speaking the protocol and the
// target is triton (nothing to build), so these tests need neither LibTorch,
// a compiler nor a GPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "orchestrator/evaluator.h"
#include "task/task_file.h"

namespace anvil {
namespace {

namespace fs = std::filesystem;

// Says hello with its pid; with ANVIL_SLOW_START it first sleeps. Then it
// begins case 0 of the first request and never finishes it.
constexpr const char* kHangingWorker =
    "#!/bin/sh\n"
    "[ -n \"$ANVIL_SLOW_START\" ] && sleep 60\n"
    "echo \"{\\\"type\\\":\\\"hello\\\",\\\"device\\\":{\\\"pid\\\":$$}}\"\n"
    "read request\n"
    "echo '{\"type\":\"begin\",\"phase\":\"correctness\",\"index\":0}'\n"
    "exec sleep 60\n";

// True when `pid` is gone or a zombie.
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string p, comm, state;
  stat >> p >> comm >> state;
  return state == "Z" || state == "X";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class EvaluatorCancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::path("anvil-cancel-" + std::to_string(getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    worker_ = (dir_ / "fake-worker").string();
    std::ofstream(worker_) << kHangingWorker;
    fs::permissions(worker_, fs::perms::owner_all);
    candidate_ = (dir_ / "candidate.py").string();
    std::ofstream(candidate_) << "# never run: the fake worker only pretends\n";
    auto task = LoadTaskFile(std::string(ANVIL_TEST_DATA_DIR) + "/exploits/task_scale.toml");
    ASSERT_TRUE(task.ok()) << task.status().message();
    task_ = std::move(*task);
    auto store = Store::Open((dir_ / "anvil.db").string());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto run = store_->BeginRun("test", "{}");
    ASSERT_TRUE(run.ok()) << run.status().message();
    run_id_ = *run;
  }
  void TearDown() override {
    unsetenv("ANVIL_SLOW_START");
    store_.reset();
    fs::remove_all(dir_);
  }

  EvaluatorOptions Options(double case_timeout_s) {
    EvaluatorOptions o;
    o.mode = EvalMode::kVerify;
    o.target = "triton";
    o.case_timeout_s = case_timeout_s;
    o.worker.worker_path = worker_;
    o.worker.scratch_dir = (dir_ / "scratch").string();
    o.worker.startup_timeout_s = 60;
    o.cancel = &cancel_;
    return o;
  }

  // Raises cancel_ after `seconds` on another thread.
  std::thread CancelAfter(double seconds) {
    return std::thread([this, seconds] {
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      cancel_.store(true);
    });
  }

  fs::path dir_;
  std::string worker_, candidate_;
  Task task_;
  std::unique_ptr<Store> store_;
  int64_t run_id_ = 0;
  std::atomic<bool> cancel_{false};
};

TEST_F(EvaluatorCancelTest, AHangingCaseStopsWithinASecondAndHasNoVerdict) {
  Evaluator evaluator(*store_, Options(/*case_timeout_s=*/60));
  auto device = evaluator.Device();  // starts the worker, to learn its pid
  ASSERT_TRUE(device.ok()) << device.status().message();
  const pid_t worker_pid = device->value("pid", 0);
  ASSERT_GT(worker_pid, 0);

  const auto start = std::chrono::steady_clock::now();
  std::thread canceller = CancelAfter(0.5);
  Result<CandidateReport> report = evaluator.Evaluate(task_, candidate_, run_id_);
  const double seconds = SecondsSince(start);
  canceller.join();
  ASSERT_FALSE(report.ok()) << "a cancelled evaluation must not be a verdict: " << VerdictName(report->verdict);
  EXPECT_EQ(report.status().code(), ErrorCode::kCancelled) << report.status().message();
  EXPECT_NE(report.status().message().find("correctness case 0"), std::string::npos) << report.status().message();
  EXPECT_LT(seconds, 3.0) << "the case timeout is 60 s; cancelling must not wait for it";
  EXPECT_TRUE(Dead(worker_pid)) << "the worker stuck in the case must be killed";

  // The evaluation was begun and stays without a verdict, as after a killed process.
  EvaluationFilter filter;
  filter.task_name = task_.name;
  auto rows = store_->QueryEvaluations(filter);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().verdict, "");

  // Once cancelled, a later evaluation stops before it starts anything.
  Result<CandidateReport> again = evaluator.Evaluate(task_, candidate_, run_id_);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kCancelled);
}

TEST_F(EvaluatorCancelTest, AWorkerStillStartingIsStopped) {
  setenv("ANVIL_SLOW_START", "1", 1);
  Evaluator evaluator(*store_, Options(/*case_timeout_s=*/60));
  const auto start = std::chrono::steady_clock::now();
  std::thread canceller = CancelAfter(0.5);
  Result<CandidateReport> report = evaluator.Evaluate(task_, candidate_, run_id_);
  const double seconds = SecondsSince(start);
  canceller.join();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), ErrorCode::kCancelled) << report.status().message();
  EXPECT_LT(seconds, 3.0) << "the start-up timeout is 60 s; cancelling must not wait for the hello";
}

// Waiting in slices for the cancel flag keeps the silence timeout: a case
// that hangs with nobody cancelling is still a timeout verdict.
TEST_F(EvaluatorCancelTest, WithoutCancellingAHangIsStillATimeout) {
  Evaluator evaluator(*store_, Options(/*case_timeout_s=*/1));
  Result<CandidateReport> report = evaluator.Evaluate(task_, candidate_, run_id_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->verdict, Verdict::kTimeout) << report->reason;
}

}  // namespace
}  // namespace anvil
