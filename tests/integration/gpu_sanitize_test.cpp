// `anvil verify --sanitize[=TOOL]` through the real CLI: a failing GPU case
// re-run under compute-sanitizer, its report in the JSON output and in the
// store. The GPU tests skip without an NVIDIA GPU or without
// compute-sanitizer; the usage errors need neither.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "cli_runner.h"
#include "gpu_available.h"
#include "orchestrator/sanitizer_run.h"

namespace anvil::testing {
namespace {

// Why the GPU sanitizer tests cannot run here; "" when they can.
std::string SkipReason() {
  if (!GpuAvailable()) return "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  if (auto found = FindComputeSanitizer(); !found.ok()) return found.status().message() + ": GPU test skipped";
  return "";
}

// The detail_json of the newest evaluation in the workspace's store.
nlohmann::json LatestEvaluationDetail(const CliWorkspace& ws) {
  sqlite3* db = nullptr;
  nlohmann::json detail;
  if (sqlite3_open_v2((ws.dir() + "/anvil.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT detail_json FROM evaluations ORDER BY id DESC LIMIT 1", -1, &st, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr)
      detail = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), nullptr, false);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return detail;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A write 256 GiB past the output: memcheck names the invalid global write
// and the kernel; the verdict stays crash.
TEST(GpuSanitize, MemcheckLocatesTheIllegalWrite) {
  if (std::string skip = SkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "verify", "tests/gpu_exploits/illegal_address.cu", "--task",
                       "tests/gpu_exploits/task_scale.toml", "--target", "cuda", "--sanitize"},
                      1800);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "crash") << r.value("reason", "");
  ASSERT_TRUE(r.contains("sanitizer")) << r.dump(2);
  const auto& s = r["sanitizer"];
  EXPECT_EQ(s["tool"], "memcheck");
  const std::string log = s.value("log", "");
  EXPECT_TRUE(Contains(log, "Invalid __global__ write")) << "log:\n" << log << "\nnote: " << s.value("note", "");
  EXPECT_TRUE(Contains(log, "WriteFarAway")) << log;
  EXPECT_EQ(s["exit_code"], kSanitizerErrorExitCode) << s.dump(2);
  // The store keeps the same report with the evaluation.
  nlohmann::json detail = LatestEvaluationDetail(ws);
  ASSERT_TRUE(detail.is_object() && detail.contains("sanitizer")) << detail.dump();
  EXPECT_EQ(detail["sanitizer"]["log"], s["log"]);
}

// Shared-memory reductions without barriers between warps: racecheck
// reports the hazards; the verdict stays wrong. (racecheck reports a race
// as "Race reported between ..." and counts hazards in its summary.)
TEST(GpuSanitize, RacecheckReportsTheMissingBarrier) {
  if (std::string skip = SkipReason(); !skip.empty()) GTEST_SKIP() << skip;
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "verify", "tests/gpu_exploits/race_no_barrier.cu", "--task",
                       "tests/gpu_exploits/task_softmax.toml", "--target", "cuda", "--sanitize=racecheck"},
                      1800);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "wrong") << r.value("reason", "");
  ASSERT_TRUE(r.contains("sanitizer")) << r.dump(2);
  const auto& s = r["sanitizer"];
  EXPECT_EQ(s["tool"], "racecheck");
  const std::string log = s.value("log", "");
  EXPECT_TRUE(Contains(log, "Race reported") || Contains(log, "hazard"))
      << "log:\n" << log << "\nnote: " << s.value("note", "");
}

// No GPU needed: the CLI refuses what cannot work before doing anything.
TEST(SanitizeUsage, CpuTargetAndUnknownToolsAreUsageErrors) {
  CliWorkspace ws;
  CliRun cpu = ws.Run({"--no-progress", "verify", "examples/softmax/kernel.cpp", "--task", "examples/softmax/task.toml",
                       "--sanitize"});
  EXPECT_EQ(cpu.exit_code, 2) << cpu.output;
  EXPECT_TRUE(Contains(cpu.output, "--target cuda or triton")) << cpu.output;
  CliRun tool = ws.Run({"--no-progress", "verify", "tests/gpu_exploits/illegal_address.cu", "--task",
                        "tests/gpu_exploits/task_scale.toml", "--target", "cuda", "--sanitize=leakcheck"});
  EXPECT_EQ(tool.exit_code, 2) << tool.output;
  EXPECT_TRUE(Contains(tool.output, "'leakcheck' is not a compute-sanitizer tool")) << tool.output;
}

}  // namespace
}  // namespace anvil::testing
