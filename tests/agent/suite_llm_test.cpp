// End-to-end: `anvil suite run SUITE --generator llm` (agent/suite_generator.h)
// against the loopback stand-in LLM server (tests/llm/stand_in_server.h) with
// scripted OpenAI-format replies. The suite is tests/agent/suite_llm/: two
// small untimed CPU tasks, run in file order by one job, so the script's
// replies reach the tasks in a known order and each session stops at its
// first correct candidate.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/cli_runner.h"
#include "llm/stand_in_server.h"
#include "store/store.h"

namespace anvil {
namespace {

using llm::testing::OpenAiReplyBody;
using llm::testing::ScriptedReply;
using llm::testing::StandInServer;
using testing::CliRun;
using testing::CliWorkspace;

// out = x * `scale` + y over strided 2-D inputs (the tasks have transposed layouts).
std::string ScaleAddKernel(const std::string& scale) {
  return R"(#include "anvil/cpu_tensor.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const float* xp = anvil::DataPtr<const float>(x);
  const float* yp = anvil::DataPtr<const float>(y);
  float* op = anvil::DataPtr<float>(out);
  for (int64_t r = 0; r < out.shape[0]; ++r)
    for (int64_t c = 0; c < out.shape[1]; ++c)
      op[r * out.shape[1] + c] = xp[r * anvil::Stride(x, 0) + c * anvil::Stride(x, 1)] * )" +
         scale + R"(f + yp[r * anvil::Stride(y, 0) + c * anvil::Stride(y, 1)];
  return ANVIL_OK;
}
)";
}

const char* kPlan = "Plan: one pass over the rows, reading x and y through their strides.";

// Every reply costs 1000 input + 200 output tokens.
ScriptedReply Reply(const std::string& text) { return {200, OpenAiReplyBody(text, 1000, 200), {}, 0}; }
ScriptedReply Code(const std::string& scale) {
  return Reply("Here is the kernel.\n```cpp\n" + ScaleAddKernel(scale) + "```\n");
}

std::string SuiteDir() { return std::string(ANVIL_TEST_DATA_DIR) + "/agent/suite_llm"; }

class SuiteLlm : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<StandInServer>();
    setenv("ANVIL_LLM_BASE_URL", server_->Url().c_str(), 1);
    setenv("OPENAI_API_KEY", "dummy-key", 1);
    unsetenv("ANVIL_LLM");
    // No model in the file: each test names one with --llm, or none on purpose.
    const std::string config = ws_.dir() + "/llm.toml";
    std::ofstream(config) << "max_attempts = 2\nbackoff_base_s = 0.05\nbackoff_cap_s = 0.1\n"
                          << "busy_backoff_base_s = 0.05\nbusy_backoff_cap_s = 0.1\n";
    setenv("ANVIL_LLM_CONFIG", config.c_str(), 1);
  }

  CliRun Suite(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--json", "suite", "run", SuiteDir(), "--target", "cpu", "--generator", "llm",
                                     "--llm", "openai:test-model", "--no-seed"};
    args.insert(args.end(), extra.begin(), extra.end());
    return ws_.Run(args, 300);
  }

  std::unique_ptr<Store> OpenStore() {
    auto store = Store::Open(ws_.dir() + "/anvil.db");
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }

  CliWorkspace ws_;
  std::unique_ptr<StandInServer> server_;
};

TEST_F(SuiteLlm, OneTaskGetsACorrectKernelTheOtherOnlyWrongReplies) {
  // Task a: designer, coder (correct) -> converged after round 1.
  // Task b: designer, coder (wrong), then round 2's repair; the last reply repeats.
  server_->Script({Reply(kPlan), Code("2.0"), Reply(kPlan), Code("3.0")});
  CliRun run = Suite({"--rounds", "2"});
  ASSERT_EQ(run.exit_code, 1) << run.output;  // not every task correct
  ASSERT_TRUE(run.json.is_object()) << run.output;
  const nlohmann::json& tasks = run.json["run"]["tasks"];
  ASSERT_EQ(tasks.size(), 2u) << run.output;
  EXPECT_EQ(run.json["run"]["generator"], "llm");
  EXPECT_EQ(tasks[0]["task"], "suite_llm_scale_add_a");
  EXPECT_EQ(tasks[0]["status"], "correct");
  EXPECT_EQ(tasks[0]["verdict"], "correct");
  EXPECT_EQ(tasks[0]["tokens"], 2400);
  EXPECT_EQ(tasks[1]["task"], "suite_llm_scale_add_b");
  EXPECT_EQ(tasks[1]["status"], "no_kernel");
  EXPECT_NE(tasks[1]["reason"].get<std::string>().find("exhausted: 2 rounds used"), std::string::npos) << tasks[1];
  EXPECT_EQ(tasks[1]["tokens"], 3600);  // designer + coder, then one repair
  EXPECT_EQ(server_->Received().size(), 5u);
  const int64_t suite_id = run.json["run"]["id"].get<int64_t>();

  // The report reads the same rows back.
  CliRun report = ws_.Run({"--json", "report", "run", std::to_string(suite_id)}, 60);
  ASSERT_EQ(report.exit_code, 0) << report.output;
  ASSERT_TRUE(report.json.is_object()) << report.output;
  EXPECT_EQ(report.json["run"]["tasks"][0]["status"], "correct");
  EXPECT_GT(report.json["run"]["tasks"][0]["tokens"].get<long long>(), 0);

  // One session per task, under the suite's runs row, recorded like gen's.
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto suite_run = store->GetSuiteRun(suite_id);
  ASSERT_TRUE(suite_run.ok()) << suite_run.status().message();
  auto sessions = store->QuerySessions(10);
  ASSERT_TRUE(sessions.ok());
  ASSERT_EQ(sessions->size(), 2u);
  const SessionRow& b = (*sessions)[0];  // newest first
  const SessionRow& a = (*sessions)[1];
  for (const SessionRow* s : {&a, &b}) {
    EXPECT_EQ(s->run_id, suite_run->run_id);
    EXPECT_EQ(s->provider, "openai");
    EXPECT_EQ(s->model, "test-model");
    EXPECT_EQ(s->input_form, "task");
    auto options = nlohmann::json::parse(s->options_json);
    EXPECT_EQ(options["rounds"], 2);
    EXPECT_EQ(options["mode"], "verify");
  }
  EXPECT_EQ(a.status, "converged");
  EXPECT_NE(a.best_evaluation_id, 0);
  EXPECT_EQ(b.status, "exhausted");
  EXPECT_EQ(b.best_evaluation_id, 0);
  EXPECT_NE(tasks[1]["reason"].get<std::string>().find("anvil session show " + std::to_string(b.id)), std::string::npos);
  auto args = store->GetRun(suite_run->run_id);
  ASSERT_TRUE(args.ok());
  auto args_json = nlohmann::json::parse(args->args_json);
  EXPECT_EQ(args_json["llm"], "openai:test-model");
  EXPECT_EQ(args_json["rounds"], 2);
  EXPECT_EQ(args_json["seed"], false);
}

TEST_F(SuiteLlm, WithoutAModelFailsEarlyNamingWhatToSet) {
  CliRun run = ws_.Run({"suite", "run", SuiteDir(), "--target", "cpu", "--generator", "llm"}, 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("--generator llm"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("no LLM model chosen"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("ANVIL_LLM"), std::string::npos) << run.output;

  CliRun verify_only = Suite({"--verify-only"});
  EXPECT_EQ(verify_only.exit_code, 2) << verify_only.output;
  EXPECT_NE(verify_only.output.find("--verify-only cannot be combined with --generator llm"), std::string::npos)
      << verify_only.output;
  EXPECT_TRUE(server_->Received().empty());
  EXPECT_FALSE(std::ifstream(ws_.dir() + "/anvil.db").good());  // refused before the store was opened
}

TEST_F(SuiteLlm, AProviderFailingEveryCallIsAnEnvironmentErrorThatResumeRetries) {
  server_->Script({{500, R"({"error":{"message":"upstream exploded"}})", {}, 0}});
  CliRun run = Suite({"--rounds", "3"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  ASSERT_TRUE(run.json.is_object()) << run.output;
  for (const nlohmann::json& t : run.json["run"]["tasks"]) {
    EXPECT_EQ(t["status"], "error") << t;
    EXPECT_NE(t["reason"].get<std::string>().find("upstream exploded"), std::string::npos) << t;
  }
  EXPECT_EQ(server_->Received().size(), 4u);  // per task one call of two attempts; no further rounds
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto sessions = store->QuerySessions(10);
  ASSERT_TRUE(sessions.ok());
  ASSERT_EQ(sessions->size(), 2u);
  for (const SessionRow& s : *sessions) EXPECT_EQ(s.status, "failed");

  // The provider is back: --resume runs both tasks again.
  server_->Script({Code("2.0")});
  CliRun resumed = Suite({"--rounds", "3", "--resume", std::to_string(run.json["run"]["id"].get<int64_t>())});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

// The pid of the anvil CLI running in `workspace` (its argv names it), or 0.
pid_t FindCli(const std::string& workspace) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  pid_t found = 0;
  while (dirent* e = readdir(proc)) {
    const pid_t pid = static_cast<pid_t>(atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream in(std::string("/proc/") + e->d_name + "/cmdline");
    std::vector<std::string> argv;
    for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
    if (argv.size() > 2 && argv[0] == ANVIL_CLI_PATH && argv[1] == "--workspace" && argv[2] == workspace) {
      found = pid;
      break;
    }
  }
  closedir(proc);
  return found;
}

TEST_F(SuiteLlm, CtrlCCancelsTheSessionInFlightAndResumeFinishesTheSuite) {
  // The designer's reply for task a takes a minute: Ctrl-C arrives while it waits.
  server_->Script({{200, OpenAiReplyBody(kPlan, 1000, 200), {}, 60}});
  CliRun interrupted;
  std::thread cli([&] { interrupted = Suite({"--rounds", "2"}); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (server_->Received().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const pid_t pid = FindCli(ws_.dir());
  EXPECT_NE(pid, 0);
  if (pid != 0) kill(pid, SIGINT);
  const auto sent = std::chrono::steady_clock::now();
  cli.join();
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(20)) << "the call was not cancelled";
  ASSERT_TRUE(interrupted.json.is_object()) << interrupted.output;
  const nlohmann::json& tasks = interrupted.json["run"]["tasks"];
  ASSERT_EQ(tasks.size(), 2u) << interrupted.output;
  EXPECT_EQ(interrupted.exit_code, 130) << interrupted.output;
  EXPECT_EQ(tasks[0]["status"], "pending");  // stopped in flight: no row, --resume runs it
  EXPECT_EQ(tasks[1]["status"], "pending");
  EXPECT_NE(interrupted.output.find("--resume " + std::to_string(interrupted.json["run"]["id"].get<int64_t>())),
            std::string::npos)
      << interrupted.output;
  const int64_t suite_id = interrupted.json["run"]["id"].get<int64_t>();
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto session = store->GetSession(1);
    ASSERT_TRUE(session.ok());
    EXPECT_EQ(session->status, "cancelled");
    auto suite_run = store->GetSuiteRun(suite_id);
    ASSERT_TRUE(suite_run.ok());
    EXPECT_EQ(suite_run->status, "interrupted");
  }

  // Every call from here gets a correct kernel (also the designer's: a plan
  // that happens to hold code is still a plan).
  server_->Script({Code("2.0")});
  CliRun resumed = Suite({"--rounds", "2", "--resume", std::to_string(suite_id)});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  ASSERT_TRUE(resumed.json.is_object()) << resumed.output;
  EXPECT_EQ(resumed.json["run"]["id"], suite_id);
  for (const nlohmann::json& t : resumed.json["run"]["tasks"]) EXPECT_EQ(t["status"], "correct") << t;
}

}  // namespace
}  // namespace anvil
