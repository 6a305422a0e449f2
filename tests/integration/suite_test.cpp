// `anvil suite run` end to end on the CPU: a suite whose kernels pass, are
// wrong, crash, hang, do not compile or are missing; every task ends with
// its own status and the run goes on. A runner killed mid-suite resumes with
// `--resume ID` and redoes none of the tasks it had finished. The report
// commands read the same run back (summary, JSON, HTML, compare).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "cli_runner.h"
#include "store/store.h"

namespace anvil::testing {
namespace {

namespace fs = std::filesystem;

// A suite folder of copies of the exploit suite's elementwise task, one per
// kernel behaviour, each with its own name and a small performance shape,
// and a kernels folder with the matching candidates (none for "f_missing").
struct MixedSuite {
  std::string suite_dir, kernels_dir;
};

MixedSuite WriteMixedSuite(const std::string& root) {
  const std::string task = ReadTextFile(SourcePath("tests/exploits/task_scale.toml"));
  const std::vector<std::pair<std::string, std::string>> kernels = {
      {"a_ok", "correct_scale.cpp"}, {"b_wrong", "odd_size_bug.cpp"}, {"c_crash", "segfault.cpp"},
      {"d_hang", "hang.cpp"},        {"e_build", "syntax_error.cpp"}, {"f_missing", ""}};
  MixedSuite s{root + "/mix", root + "/mix_kernels"};
  fs::create_directories(s.suite_dir);
  fs::create_directories(s.kernels_dir);
  for (const auto& [name, kernel] : kernels) {
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
