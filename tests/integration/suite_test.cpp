// `anvil suite run` end to end on the CPU: a suite whose kernels pass, are
// wrong, crash, hang, do not compile or are missing; every task ends with
// its own status and the run goes on. A runner killed mid-suite resumes with
// `--resume ID` and redoes none of the tasks it had finished. Cancelling
// (Ctrl-C) stops the task in flight within seconds, leaves it pending and
// exits 130 with the resume command; the resume finishes it. The report
// commands read the same run back (summary, JSON, HTML, compare).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "cli_runner.h"
#include "store/store.h"
#include "suite/existing_kernel_generator.h"
#include "suite/suite_runner.h"

namespace anvil::testing {
namespace {

namespace fs = std::filesystem;

// A suite folder of copies of the exploit suite's elementwise task, one per
// kernel behaviour, each with its own name and a small performance shape,
// and a kernels folder with the matching candidates (none for "f_missing").
// `only`: just these of them (all when empty).
struct MixedSuite {
  std::string suite_dir, kernels_dir;
};

MixedSuite WriteMixedSuite(const std::string& root, const std::set<std::string>& only = {}) {
  const std::string task = ReadTextFile(SourcePath("tests/exploits/task_scale.toml"));
  const std::vector<std::pair<std::string, std::string>> kernels = {
      {"a_ok", "correct_scale.cpp"}, {"b_wrong", "odd_size_bug.cpp"}, {"c_crash", "segfault.cpp"},
      {"d_hang", "hang.cpp"},        {"e_build", "syntax_error.cpp"}, {"f_missing", ""}};
  MixedSuite s{root + "/mix", root + "/mix_kernels"};
  fs::create_directories(s.suite_dir);
  fs::create_directories(s.kernels_dir);
  for (const auto& [name, kernel] : kernels) {
    if (!only.empty() && !only.count(name)) continue;
    std::string text = std::regex_replace(task, std::regex(R"(name = "exploit_scale")"), "name = \"mix." + name + "\"");
    text = std::regex_replace(text, std::regex(R"(shapes = \[\{R = 2048, C = 1024\}\])"), "shapes = [{R = 64, C = 64}]\ntrials = 5");
    std::ofstream(s.suite_dir + "/" + name + ".toml") << text;
    if (!kernel.empty()) fs::copy_file(SourcePath("tests/exploits/" + kernel), s.kernels_dir + "/" + name + ".cpp");
  }
  return s;
}

std::map<std::string, std::string> StatusByOp(const nlohmann::json& run) {
  std::map<std::string, std::string> out;
  for (const auto& t : run["tasks"]) out[t["op"].get<std::string>()] = t["status"].get<std::string>();
  return out;
}

TEST(SuiteRun, EveryKindOfKernelEndsInItsOwnStatus) {
  CliWorkspace ws;
  MixedSuite s = WriteMixedSuite(ws.dir());
  CliRun run = ws.Run({"--json", "--timeout", "3", "suite", "run", s.suite_dir, "--generator", "none", "--kernels",
                       s.kernels_dir, "--html", ws.dir() + "/report.html", "--perf-scale", "2"});
  EXPECT_EQ(run.exit_code, 1) << run.output;  // some tasks are not correct
  ASSERT_TRUE(run.json.contains("run")) << run.output;
  auto status = StatusByOp(run.json["run"]);
  EXPECT_EQ(status["a_ok"], "correct");
  EXPECT_EQ(status["b_wrong"], "incorrect");
  EXPECT_EQ(status["c_crash"], "incorrect");
  EXPECT_EQ(status["d_hang"], "incorrect");
  EXPECT_EQ(status["e_build"], "build_failed");
  EXPECT_EQ(status["f_missing"], "no_kernel");
  std::map<std::string, std::string> verdict;
  for (const auto& t : run.json["run"]["tasks"]) verdict[t["op"]] = t["verdict"];
  EXPECT_EQ(verdict["c_crash"], "crash");
  EXPECT_EQ(verdict["d_hang"], "timeout");
  // The correct kernel was timed against eager.
  for (const auto& t : run.json["run"]["tasks"])
    if (t["op"] == "a_ok") {
      ASSERT_FALSE(t["timings"].empty());
      EXPECT_GT(t["timings"][0]["candidate_ns"].get<double>(), 0);
      EXPECT_TRUE(t["timings"][0].contains("eager_ns"));
      // --perf-scale 2: the 64x64 performance shape was timed at 32x32.
      EXPECT_NE(t["timings"][0]["label"].get<std::string>().find("C=32, R=32"), std::string::npos) << t.dump();
    }
  const auto& m = run.json["metrics"];
  EXPECT_EQ(m["tasks"], 6);
  EXPECT_NEAR(m["correctness_rate"].get<double>(), 1.0 / 6, 1e-9);
  EXPECT_NEAR(m["build_rate"].get<double>(), 4.0 / 6, 1e-9);  // ok, wrong, crash, hang built
  const std::string html = ReadTextFile(ws.dir() + "/report.html");
  EXPECT_NE(html.find("d_hang"), std::string::npos);

  // The report commands read the same run back.
  const int64_t id = run.json["run"]["id"];
  CliRun report = ws.Run({"report", "run", std::to_string(id)});
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_NE(report.output.find("f_missing"), std::string::npos) << report.output;
  EXPECT_NE(report.output.find("fast_1"), std::string::npos) << report.output;
  CliRun list = ws.Run({"--json", "report", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  ASSERT_EQ(list.json.size(), 1u);
  EXPECT_EQ(list.json[0]["status"], "ok");
  CliRun same = ws.Run({"--json", "report", "compare", std::to_string(id), std::to_string(id)});
  ASSERT_EQ(same.exit_code, 0) << same.output;
  for (const auto& ch : same.json["changes"]) EXPECT_EQ(ch["change"], "same") << ch.dump();
}

TEST(SuiteRun, AKilledRunResumesWithoutRedoingFinishedTasks) {
  CliWorkspace ws;
  MixedSuite s = WriteMixedSuite(ws.dir());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (chdir(ANVIL_SOURCE_DIR) != 0) _exit(127);
    execl(ANVIL_CLI_PATH, ANVIL_CLI_PATH, "--workspace", ws.dir().c_str(), "--no-progress", "--timeout", "3", "suite",
          "run", s.suite_dir.c_str(), "--generator", "none", "--kernels", s.kernels_dir.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill the runner outright once two tasks are recorded.
  const std::string db = ws.dir() + "/anvil.db";
  std::vector<SuiteTaskRow> before;
  int64_t suite_id = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline && before.size() < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(db)) continue;
    auto store = Store::Open(db);
    if (!store.ok()) continue;
    auto runs = (*store)->QuerySuiteRuns(1);
    if (!runs.ok() || runs->empty()) continue;
    suite_id = runs->front().id;
    auto rows = (*store)->QuerySuiteTasks(suite_id);
    if (rows.ok()) before = *rows;
  }
  ASSERT_GE(before.size(), 2u) << "the runner never recorded two tasks";
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = Store::Open(db);
  ASSERT_TRUE(store.ok());
  auto recorded = (*store)->QuerySuiteTasks(suite_id);
  ASSERT_TRUE(recorded.ok());
  ASSERT_LT(recorded->size(), 6u) << "the runner finished before it was killed; the test needs a slower suite";
  std::map<std::string, std::string> kept;  // task path -> stored result, as the kill left them
  for (const SuiteTaskRow& r : *recorded) kept[r.task_path] = r.result_json;

  CliRun resumed = ws.Run({"--json", "--timeout", "3", "suite", "run", s.suite_dir, "--generator", "none", "--kernels",
                           s.kernels_dir, "--resume", std::to_string(suite_id)});
  EXPECT_EQ(resumed.exit_code, 1) << resumed.output;
  ASSERT_TRUE(resumed.json.contains("run")) << resumed.output;
  EXPECT_EQ(resumed.json["run"]["id"], suite_id);
  auto statuses = StatusByOp(resumed.json["run"]);
  EXPECT_EQ(statuses.size(), 6u);
  EXPECT_EQ(statuses["a_ok"], "correct");
  EXPECT_EQ(statuses["f_missing"], "no_kernel");
  for (const auto& [op, st] : statuses) EXPECT_NE(st, "pending") << op;
  // Tasks finished before the kill were not run again: their rows are untouched.
  auto after = (*store)->QuerySuiteTasks(suite_id);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 6u);
  for (const SuiteTaskRow& r : *after)
    if (kept.count(r.task_path)) EXPECT_EQ(r.result_json, kept[r.task_path]) << r.task_path << " was redone";

  // Resuming with another target is refused with the reason.
  CliRun wrong = ws.Run({"suite", "run", s.suite_dir, "--target", "cuda", "--generator", "none", "--resume",
                         std::to_string(suite_id)});
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;
  EXPECT_NE(wrong.output.find("--target cpu"), std::string::npos) << wrong.output;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What `anvil suite run <s.suite_dir> --generator none --kernels <s.kernels_dir>`
// hands the runner, for calling it in-process.
suite::SuiteRunOptions RunnerOptions(const CliWorkspace& ws, const MixedSuite& s, double case_timeout_s) {
  suite::SuiteRunOptions o;
  o.suite = "mix";
  for (const auto& e : fs::directory_iterator(s.suite_dir)) o.task_files.push_back(e.path().string());
  std::sort(o.task_files.begin(), o.task_files.end());
  o.generator = "none";
  o.store_path = ws.dir() + "/anvil.db";
  o.evaluator.target = "cpu";
  o.evaluator.case_timeout_s = case_timeout_s;
  o.evaluator.worker.worker_path = (fs::path(ANVIL_CLI_PATH).parent_path() / "anvil-worker").string();
  o.evaluator.worker.scratch_dir = ws.dir() + "/scratch";
  o.evaluator.build.include_dir = SourcePath("include");
  o.evaluator.build.cache_dir = ws.dir() + "/build-cache";
  return o;
}

// The runner, cancelled while a candidate hangs in a case whose timeout is
// minutes away: it returns within seconds, the hanging task is pending (no
// row, not a timeout), the run is interrupted; the resume runs that task and
// only that one.
TEST(SuiteRun, CancellingStopsTheTaskInFlightAndTheResumeRedoesOnlyIt) {
  CliWorkspace ws;
  MixedSuite s = WriteMixedSuite(ws.dir(), {"a_ok", "d_hang"});
  suite::SuiteRunOptions options = RunnerOptions(ws, s, /*case_timeout_s=*/300);
  suite::GeneratorFactory generators = [&](int job) -> std::unique_ptr<suite::TaskGenerator> {
    return std::make_unique<suite::ExistingKernelGenerator>("cpu", s.kernels_dir,
                                                            ws.dir() + "/work" + std::to_string(job));
  };
  std::atomic<bool> cancel{false};
  std::thread canceller;
  std::chrono::steady_clock::time_point cancelled_at;
  auto progress = [&](const suite::SuiteProgress& p) {
    // A second into the hanging task: its candidate is built or building, or hangs in case 0.
    if (!p.finished && p.task == "d_hang")
      canceller = std::thread([&] {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        cancelled_at = std::chrono::steady_clock::now();
        cancel.store(true);
      });
  };
  Result<suite::SuiteRun> run = suite::RunSuite(options, generators, progress, &cancel);
  ASSERT_TRUE(canceller.joinable()) << "the hanging task never started";
  canceller.join();
  const double stop_seconds = SecondsSince(cancelled_at);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_LT(stop_seconds, 15) << "the runner waited for the hanging task (case timeout 300 s)";
  nlohmann::json doc = suite::ToJson(*run);
  auto statuses = StatusByOp(doc);
  EXPECT_EQ(statuses["a_ok"], "correct") << doc.dump();
  EXPECT_EQ(statuses["d_hang"], "pending") << doc.dump();

  auto store = Store::Open(options.store_path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto rows = (*store)->QuerySuiteTasks(run->id);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 1u) << "only the task that finished has a row";
  const SuiteTaskRow finished = rows->front();
  EXPECT_EQ(finished.task_name, "mix.a_ok");
  auto row = (*store)->GetSuiteRun(run->id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "interrupted");

  options.resume_id = run->id;
  options.evaluator.case_timeout_s = 3;
  Result<suite::SuiteRun> resumed = suite::RunSuite(options, generators, nullptr, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(resumed->id, run->id);
  doc = suite::ToJson(*resumed);
  statuses = StatusByOp(doc);
  EXPECT_EQ(statuses["a_ok"], "correct") << doc.dump();
  EXPECT_EQ(statuses["d_hang"], "incorrect") << doc.dump();
  for (const auto& t : doc["tasks"])
    if (t["op"] == "d_hang") {
      EXPECT_EQ(t["verdict"], "timeout") << t.dump();
    }
  // The finished task was not run again: its row is untouched and it has one evaluation.
  rows = (*store)->QuerySuiteTasks(run->id);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  for (const SuiteTaskRow& r : *rows)
    if (r.task_path == finished.task_path) {
      EXPECT_EQ(r.result_json, finished.result_json) << "a_ok was redone";
    }
  EvaluationFilter filter;
  filter.task_name = "mix.a_ok";
  auto evaluations = (*store)->QueryEvaluations(filter);
  ASSERT_TRUE(evaluations.ok());
  EXPECT_EQ(evaluations->size(), 1u) << "a_ok was evaluated again on resume";
  row = (*store)->GetSuiteRun(run->id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->status, "ok");
}

// Ctrl-C on the CLI: `anvil --json suite run` stops within seconds, prints
// the JSON document of the run (the hanging task pending) on stdout, the
// resume command on stderr, and exits 130; that command finishes the run.
TEST(SuiteRun, CtrlCPrintsTheRunAndHowToResumeAndExits130) {
  CliWorkspace ws;
  MixedSuite s = WriteMixedSuite(ws.dir(), {"a_ok", "d_hang"});
  const std::string out_path = ws.dir() + "/stdout.json", err_path = ws.dir() + "/stderr.txt";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    dup2(err, 2);
    if (chdir(ANVIL_SOURCE_DIR) != 0) _exit(127);
    execl(ANVIL_CLI_PATH, ANVIL_CLI_PATH, "--workspace", ws.dir().c_str(), "--no-progress", "--json", "--timeout",
          "300", "suite", "run", s.suite_dir.c_str(), "--generator", "none", "--kernels", s.kernels_dir.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Once a_ok is recorded, d_hang is in flight: give it time to hang, then Ctrl-C.
  const std::string db = ws.dir() + "/anvil.db";
  size_t recorded = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (std::chrono::steady_clock::now() < deadline && recorded < 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(db)) continue;
    auto store = Store::Open(db);
    if (!store.ok()) continue;
    auto runs = (*store)->QuerySuiteRuns(1);
    if (!runs.ok() || runs->empty()) continue;
    auto rows = (*store)->QuerySuiteTasks(runs->front().id);
    if (rows.ok()) recorded = rows->size();
  }
  ASSERT_EQ(recorded, 1u) << "a_ok was never recorded";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto interrupted_at = std::chrono::steady_clock::now();
  kill(pid, SIGINT);
  int status = 0;
  pid_t waited = 0;
  while ((waited = waitpid(pid, &status, WNOHANG)) == 0 && SecondsSince(interrupted_at) < 60)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double stop_seconds = SecondsSince(interrupted_at);
  if (waited == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "anvil suite run did not stop within 60 s of Ctrl-C";
  }
  const std::string err = ReadTextFile(err_path);
  EXPECT_LT(stop_seconds, 15) << "it waited for the hanging task (case timeout 300 s)";
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(status), 130) << err;

  nlohmann::json doc = nlohmann::json::parse(ReadTextFile(out_path), nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << "stdout is not one JSON document:\n" << ReadTextFile(out_path);
  ASSERT_TRUE(doc.contains("run") && doc.contains("metrics")) << doc.dump();
  auto statuses = StatusByOp(doc["run"]);
  EXPECT_EQ(statuses["a_ok"], "correct");
  EXPECT_EQ(statuses["d_hang"], "pending");
  const int64_t id = doc["run"]["id"];

  // The resume line names this run and is a command that works as printed.
  const std::string marker = "resume with: anvil ";
  const size_t at = err.find(marker);
  ASSERT_NE(at, std::string::npos) << err;
  std::string command = err.substr(at + marker.size());
  command = command.substr(0, command.find('\n'));
  EXPECT_NE(command.find("--resume " + std::to_string(id)), std::string::npos) << command;
  std::vector<std::string> args = {"--json", "--timeout", "3"};
  std::istringstream words(command);
  for (std::string w; words >> w;) args.push_back(w);
  CliRun resumed = ws.Run(args);
  EXPECT_EQ(resumed.exit_code, 1) << resumed.output;  // d_hang is not correct
  ASSERT_TRUE(resumed.json.contains("run")) << resumed.output;
  EXPECT_EQ(resumed.json["run"]["id"], id);
  statuses = StatusByOp(resumed.json["run"]);
  EXPECT_EQ(statuses["a_ok"], "correct");
  EXPECT_EQ(statuses["d_hang"], "incorrect");
}

TEST(SuiteCli, ListsTheRepositorysSuites) {
  CliWorkspace ws;
  CliRun list = ws.Run({"--json", "suite", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  std::map<std::string, int> tasks;
  for (const auto& s : list.json) tasks[s["name"]] = s["tasks"];
  EXPECT_EQ(tasks["fused"], 46);
  EXPECT_EQ(tasks["gemm_epilogue"], 5);
  CliRun missing = ws.Run({"suite", "run", "no_such_suite"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("fused"), std::string::npos) << "the error should name the known suites: " << missing.output;
}

}  // namespace
}  // namespace anvil::testing
