// The sanitizer re-run (orchestrator/sanitizer_run.h) without a GPU: its
// pure parts (tools, which verdicts are re-run, the command, log trimming)
// and the whole run with a stand-in compute-sanitizer on PATH that writes a
// log and runs a shell-script "worker" speaking the protocol.
#include "orchestrator/sanitizer_run.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace anvil {
namespace {

namespace fs = std::filesystem;

TEST(SanitizerTools, KnownToolsPassOthersAreNamed) {
  for (const std::string& t : SanitizerTools()) EXPECT_TRUE(CheckSanitizerTool(t).ok()) << t;
  EXPECT_EQ(SanitizerTools().front(), "memcheck");
  Status bad = CheckSanitizerTool("leakcheck");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(bad.message().find("memcheck, racecheck, initcheck, synccheck"), std::string::npos) << bad.message();
}

TEST(SanitizerSkipReason, OnlyGpuCrashesRuntimeErrorsAndWrongResultsAreReRun) {
  for (const char* target : {"cuda", "triton"}) {
    EXPECT_FALSE(SanitizerSkipReason(target, Verdict::kCrash)) << target;
    EXPECT_FALSE(SanitizerSkipReason(target, Verdict::kRuntimeError)) << target;
    EXPECT_FALSE(SanitizerSkipReason(target, Verdict::kWrong)) << target;
    for (Verdict v : {Verdict::kCorrect, Verdict::kTimeout, Verdict::kBuildError, Verdict::kLoadError,
                      Verdict::kSuspicious})
      EXPECT_TRUE(SanitizerSkipReason(target, v)) << target << " " << VerdictName(v);
  }
  auto cpu = SanitizerSkipReason("cpu", Verdict::kCrash);
  ASSERT_TRUE(cpu);
  EXPECT_NE(cpu->find("GPU"), std::string::npos) << *cpu;
  EXPECT_NE(SanitizerSkipReason("cuda", Verdict::kTimeout)->find("hang"), std::string::npos);
}

TEST(SanitizerCommand, ToolLogAndErrorExitCodeComeBeforeTheWorker) {
  auto argv = SanitizerCommand("/opt/cs", "racecheck", "/w/racecheck.log", 599.2);
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[0], "/opt/cs");
  auto value_of = [&](const std::string& flag) {
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == flag) return argv[i + 1];
    return std::string("<missing>");
  };
  EXPECT_EQ(value_of("--tool"), "racecheck");
  EXPECT_EQ(value_of("--log-file"), "/w/racecheck.log");
  EXPECT_EQ(value_of("--error-exitcode"), std::to_string(kSanitizerErrorExitCode));
  EXPECT_EQ(value_of("--launch-timeout"), "600");
  // Every option takes a value: the worker's path can follow directly.
  EXPECT_EQ(argv.size() % 2, 1u);
}

TEST(TrimSanitizerLog, KeepsTheFirstLinesAndTheSummary) {
  std::string log;
  for (int i = 0; i < 100; ++i) log += "========= line " + std::to_string(i) + "\n";
  log += "========= ERROR SUMMARY: 7 errors\n";
  std::string t = TrimSanitizerLog(log, 10, 8192, "/w/memcheck.log");
  EXPECT_EQ(t.rfind("========= line 0\n", 0), 0u);
  EXPECT_NE(t.find("line 9\n"), std::string::npos);
  EXPECT_EQ(t.find("line 10\n"), std::string::npos);
  EXPECT_NE(t.find("91 more lines: the whole log is /w/memcheck.log"), std::string::npos) << t;
  EXPECT_NE(t.find("ERROR SUMMARY: 7 errors"), std::string::npos) << t;
  // The byte budget binds too; a short log is kept whole.
  EXPECT_LT(TrimSanitizerLog(log, 1000, 200, "x").size(), 200u + 200u);
  EXPECT_EQ(TrimSanitizerLog("a\nb\n", 10, 100, "x"), "a\nb\n");
}

TEST(SanitizerCaseTimeout, AtLeastTwoMinutesElseTwentyCaseTimeouts) {
  EXPECT_EQ(SanitizerCaseTimeout(1), 120);
  EXPECT_EQ(SanitizerCaseTimeout(20), 400);
}

// A temporary folder holding a stand-in compute-sanitizer first on PATH and
// a shell-script worker.
class FakeSanitizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("anvil-fake-sanitizer-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "bin");
    // Skips its options (each takes a value), remembers the log file, runs
    // the worker, then appends an error report and exits with the error code.
    Write(dir_ / "bin" / "compute-sanitizer",
          "#!/bin/sh\n"
          "while [ $# -gt 0 ]; do case \"$1\" in --log-file) log=\"$2\"; shift 2;; --*) shift 2;; *) break;; esac; done\n"
          "echo 'fake sanitizer banner'\n"
          "\"$@\"\n"
          "printf '========= Invalid __global__ write of size 4 bytes\\n=========     at WriteFarAway+0x70\\n"
          "========= TMPDIR=%s\\n========= ERROR SUMMARY: 1 error\\n' \"$TMPDIR\" >> \"$log\"\n"
          "exit 99\n");
    // Reports case 7 as a crash, says done, exits on shutdown.
    Write(dir_ / "worker",
          "#!/bin/sh\n"
          "echo '{\"type\":\"hello\"}'\n"
          "read request\n"
          "echo \"$request\" > \"$2/request.json\"\n"
          "echo '{\"type\":\"begin\",\"phase\":\"correctness\",\"index\":7}'\n"
          "echo '{\"type\":\"case\",\"index\":7,\"verdict\":\"runtime_error\",\"reason\":\"unspecified launch "
          "failure\"}'\n"
          "echo '{\"type\":\"done\"}'\n"
          "read shutdown\n");
    const char* path = std::getenv("PATH");
    saved_path_ = path ? path : "";
    setenv("PATH", ((dir_ / "bin").string() + ":" + saved_path_).c_str(), 1);
  }
  void TearDown() override {
    setenv("PATH", saved_path_.c_str(), 1);
    fs::remove_all(dir_);
  }
  static void Write(const fs::path& p, const std::string& text) {
    std::ofstream(p) << text;
    fs::permissions(p, fs::perms::owner_all);
  }
  SanitizerRunOptions Options() const {
    SanitizerRunOptions o;
    o.tool = "memcheck";
    o.target = "cuda";
    o.worker.worker_path = (dir_ / "worker").string();
    o.worker.device = "cuda";
    o.dir = (dir_ / "run").string();
    return o;
  }
  static EvaluateRequest OneCase() {
    EvaluateRequest r;
    r.mode = EvalMode::kBench;
    r.backend = "cuda";
    CaseSpec c;
    c.index = 7;
    c.variant_label = "f32";
    r.cases = {c};
    r.perf_cases = {c};
    return r;
  }

  fs::path dir_;
  std::string saved_path_;
};

TEST_F(FakeSanitizerTest, FindsItOnPath) {
  auto found = FindComputeSanitizer();
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(*found, (dir_ / "bin" / "compute-sanitizer").string());
}

TEST_F(FakeSanitizerTest, RunsTheOneCaseAndAttachesTheLog) {
  SanitizerReport r = SanitizeFailingCase(Options(), Verdict::kRuntimeError, OneCase());
  EXPECT_EQ(r.note, "");
  EXPECT_EQ(r.tool, "memcheck");
  EXPECT_EQ(r.case_index, 7);
  EXPECT_EQ(r.exit_code, kSanitizerErrorExitCode);
  EXPECT_EQ(r.outcome, "runtime_error: unspecified launch failure");
  EXPECT_NE(r.log.find("Invalid __global__ write of size 4 bytes"), std::string::npos) << r.log;
  // TMPDIR is the worker's scratch dir inside the run's own folder; the log is beside it.
  EXPECT_NE(r.log.find("TMPDIR=" + (dir_ / "run" / "worker").string()), std::string::npos) << r.log;
  EXPECT_NE(r.command.find("--tool memcheck"), std::string::npos) << r.command;
  EXPECT_NE(r.command.find("--no-network-isolation"), std::string::npos) << r.command;
  // Only that case, in verify mode.
  std::ifstream sent(dir_ / "run" / "worker" / "request.json");
  nlohmann::json request = nlohmann::json::parse(sent, nullptr, false);
  ASSERT_FALSE(request.is_discarded());
  EXPECT_EQ(request.value("mode", ""), "verify");
  ASSERT_EQ(request.at("cases").size(), 1u);
  EXPECT_EQ(request.at("cases")[0].value("index", -1), 7);
  EXPECT_TRUE(request.value("perf_cases", nlohmann::json::array()).empty());
}

TEST_F(FakeSanitizerTest, NotRunCasesSayWhyAndDoNotStartAnything) {
  SanitizerReport timeout = SanitizeFailingCase(Options(), Verdict::kTimeout, OneCase());
  EXPECT_EQ(timeout.command, "");
  EXPECT_NE(timeout.note.find("not run"), std::string::npos) << timeout.note;
  SanitizerReport no_case = SanitizeFailingCase(Options(), Verdict::kCrash, std::nullopt);
  EXPECT_EQ(no_case.command, "");
  EXPECT_NE(no_case.note.find("no correctness case"), std::string::npos) << no_case.note;
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

TEST_F(FakeSanitizerTest, AMissingSanitizerIsANote) {
  setenv("PATH", "/nonexistent-anvil-path", 1);
  if (access("/usr/local/cuda/bin/compute-sanitizer", X_OK) == 0)
    GTEST_SKIP() << "/usr/local/cuda/bin/compute-sanitizer exists on this machine";
  SanitizerReport r = SanitizeFailingCase(Options(), Verdict::kCrash, OneCase());
  EXPECT_EQ(r.command, "");
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_NE(r.note.find("compute-sanitizer not found"), std::string::npos) << r.note;
  EXPECT_NE(r.note.find("the verdict stands"), std::string::npos) << r.note;
}

}  // namespace
}  // namespace anvil
