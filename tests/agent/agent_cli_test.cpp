// End-to-end: the real `anvil gen --llm` and `anvil session replay` against
// the loopback stand-in LLM server (tests/llm/stand_in_server.h), speaking the
// real OpenAI and Anthropic wire formats with scripted replies. No real LLM
// endpoint is called. The task (tests/agent/scale_add.toml) is small and
// untimed, so a session stops at its first correct candidate.
#include <sqlite3.h>
#include <stdlib.h>

#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/cli_runner.h"
#include "llm/stand_in_server.h"
#include "store/store.h"

namespace anvil {
namespace {

using llm::testing::AnthropicReplyBody;
using llm::testing::OpenAiReplyBody;
using llm::testing::ScriptedReply;
using llm::testing::StandInServer;
using testing::CliRun;
using testing::CliWorkspace;

const char* kPlan = "Plan: one pass over the rows; read x and y through their strides, write out contiguously.";

std::string Kernel(const std::string& body, const std::string& prelude = "") {
  return prelude + R"(#include "anvil/cpu_tensor.h"

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->inputs[1];
  const DLTensor& out = call->outputs[0];
  const int64_t rows = out.shape[0], cols = out.shape[1];
  const float* xp = anvil::DataPtr<const float>(x);
  const float* yp = anvil::DataPtr<const float>(y);
  float* op = anvil::DataPtr<float>(out);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float xv = xp[r * anvil::Stride(x, 0) + c * anvil::Stride(x, 1)];
      const float yv = yp[r * anvil::Stride(y, 0) + c * anvil::Stride(y, 1)];
      )" + body + R"(
    }
  return ANVIL_OK;
}
)";
}

const std::string kCorrect = Kernel("op[r * cols + c] = xv * 2.0f + yv;");
const std::string kWrong = Kernel("op[r * cols + c] = xv * 3.0f + yv;");
const std::string kNoCompile = Kernel("op[r * cols + c] = undeclared_value;");
const std::string kTorch = Kernel("op[r * cols + c] = xv * 2.0f + yv;", "#include <torch/torch.h>\n");

std::string Fenced(const std::string& code) { return "Here is the kernel.\n```cpp\n" + code + "```\n"; }

ScriptedReply OpenAi(const std::string& text) { return {200, OpenAiReplyBody(text, 1000, 200), {}, 0}; }

std::string TaskPath() { return std::string(ANVIL_TEST_DATA_DIR) + "/agent/scale_add.toml"; }

class AgentCli : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<StandInServer>();
    setenv("ANVIL_LLM_BASE_URL", server_->Url().c_str(), 1);
    setenv("OPENAI_API_KEY", "dummy-key", 1);
    setenv("ANTHROPIC_API_KEY", "dummy-key", 1);
    unsetenv("ANVIL_LLM");
    // Short back-offs: the failure tests retry, and nothing here needs patience.
    const std::string config = ws_.dir() + "/llm.toml";
    std::ofstream(config) << "max_attempts = 2\nbackoff_base_s = 0.05\nbackoff_cap_s = 0.1\n"
                          << "busy_backoff_base_s = 0.05\nbusy_backoff_cap_s = 0.1\n";
    setenv("ANVIL_LLM_CONFIG", config.c_str(), 1);
  }

  CliRun Gen(const std::string& llm, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"gen", "--task", TaskPath(), "--target", "cpu", "--llm", llm,
                                     "--out", ws_.dir() + "/kernel.cpp"};
    for (const std::string& e : extra) {
      if (e == "--json") args.insert(args.begin(), e);  // a global option: before the command
      else args.push_back(e);
    }
    return ws_.Run(args, 300);
  }

  std::unique_ptr<Store> OpenStore() {
    auto store = Store::Open(ws_.dir() + "/anvil.db");
    EXPECT_TRUE(store.ok()) << store.status().message();
    return std::move(*store);
  }

  std::vector<SessionCandidateRecord> Candidates(Store& store, int64_t session) {
    auto c = store.QuerySessionCandidates(session);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return c.ok() ? *c : std::vector<SessionCandidateRecord>{};
  }

  // The user turn of the n-th request the server received (OpenAI format).
  std::string Prompt(size_t n) {
    auto received = server_->Received();
    if (n >= received.size()) return "";
    auto body = nlohmann::json::parse(received[n].body, nullptr, false);
    if (body.is_discarded()) return "";
    return body["messages"].back()["content"].get<std::string>();
  }

  CliWorkspace ws_;
  std::unique_ptr<StandInServer> server_;
};

TEST_F(AgentCli, ConvergesFromBuildErrorThroughWrongToCorrectAndReplaysExactly) {
  server_->Script({OpenAi(kPlan), OpenAi(Fenced(kNoCompile)), OpenAi(Fenced(kWrong)), OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.json["status"], "converged");
  EXPECT_EQ(run.json["tokens"]["input"], 4000);
  EXPECT_EQ(run.json["candidates"].size(), 3u);
  const std::string kernel = testing::ReadTextFile(ws_.dir() + "/kernel.cpp");
  EXPECT_NE(kernel.find("session 1"), std::string::npos) << kernel;
  EXPECT_NE(kernel.find("openai:test-model"), std::string::npos);
  EXPECT_NE(kernel.find("xv * 2.0f + yv"), std::string::npos);

  auto store = OpenStore();
  auto session = store->GetSession(1);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->status, "converged");
  EXPECT_EQ(session->provider, "openai");
  EXPECT_EQ(session->model, "test-model");
  EXPECT_EQ(session->input_form, "task");
  EXPECT_NE(session->best_evaluation_id, 0);
  EXPECT_EQ(session->input_tokens, 4000);
  EXPECT_EQ(session->output_tokens, 800);
  auto c = Candidates(*store, 1);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].action, "design");
  EXPECT_EQ(c[0].verdict, "build_error");
  EXPECT_EQ(c[1].action, "repair");
  EXPECT_EQ(c[1].verdict, "wrong");
  EXPECT_EQ(c[2].action, "repair");
  EXPECT_EQ(c[2].verdict, "correct");
  EXPECT_EQ(c[2].evaluation_id, session->best_evaluation_id);
  for (const auto& x : c) EXPECT_EQ(x.outcome, "evaluated");
  auto exchanges = store->QueryExchanges(1);
  ASSERT_TRUE(exchanges.ok());
  ASSERT_EQ(exchanges->size(), 4u);
  EXPECT_EQ((*exchanges)[0].role, "designer");
  EXPECT_EQ((*exchanges)[3].role, "coder");
  EXPECT_EQ((*exchanges)[3].round, 3);

  // The prompts carried the distilled feedback: the compiler's error line,
  // then the worst failing case with values.
  ASSERT_EQ(server_->Received().size(), 4u);
  EXPECT_NE(Prompt(1).find(kPlan), std::string::npos);
  const std::string repair1 = Prompt(2);
  EXPECT_NE(repair1.find("r1-s0.cpp:15:"), std::string::npos) << repair1;  // the line of the error
  EXPECT_NE(repair1.find("undeclared_value"), std::string::npos) << repair1;
  EXPECT_NE(repair1.find("was not declared"), std::string::npos) << repair1;
  const std::string repair2 = Prompt(3);
  EXPECT_NE(repair2.find("Verdict: wrong"), std::string::npos) << repair2;
  EXPECT_NE(repair2.find("Worst case"), std::string::npos) << repair2;
  EXPECT_NE(repair2.find("expected"), std::string::npos) << repair2;
  EXPECT_NE(repair2.find("xv * 3.0f"), std::string::npos) << repair2;

  // Replay offline: the server is gone.
  server_.reset();
  CliRun replay = ws_.Run({"session", "replay", "1"}, 300);
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_NE(replay.output.find("identical"), std::string::npos) << replay.output;
  auto replayed = OpenStore()->GetSession(2);
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(replayed->replay_of, 1);
  EXPECT_EQ(replayed->status, "converged");

  // A doctored recording: the last reply is now the wrong kernel.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((ws_.dir() + "/anvil.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "UPDATE llm_exchanges SET response_text = ? WHERE session_id = 1 AND round = 3 "
                               "AND role = 'coder'",
                               -1, &st, nullptr),
            SQLITE_OK);
  const std::string doctored = Fenced(kWrong);
  sqlite3_bind_text(st, 1, doctored.c_str(), -1, SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  EXPECT_EQ(sqlite3_changes(db), 1);
  sqlite3_close(db);
  CliRun diverged = ws_.Run({"session", "replay", "1"}, 300);
  EXPECT_EQ(diverged.exit_code, 1) << diverged.output;
  EXPECT_NE(diverged.output.find("DIFFERENT: candidate 3"), std::string::npos) << diverged.output;
  EXPECT_NE(diverged.output.find("replay diverged: the recorded session has no designer call for round 4 slot 0"),
            std::string::npos)
      << diverged.output;
}

TEST_F(AgentCli, AReplyWithoutCodeGetsToldSo) {
  server_->Script({OpenAi(kPlan), OpenAi("I would loop over rows and columns and scale x by two."),
                   OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto store = OpenStore();
  auto c = Candidates(*store, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].outcome, "no_code");
  EXPECT_EQ(c[0].source_hash, "");
  EXPECT_EQ(c[1].outcome, "evaluated");
  EXPECT_EQ(c[1].verdict, "correct");
  EXPECT_NE(Prompt(2).find("your reply had no ```cpp code block"), std::string::npos) << Prompt(2);
  EXPECT_NE(Prompt(2).find(kPlan), std::string::npos);
}

TEST_F(AgentCli, TorchIsRejectedBeforeBuilding) {
  server_->Script({OpenAi(kPlan), OpenAi(Fenced(kTorch)), OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto store = OpenStore();
  auto c = Candidates(*store, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].outcome, "rejected");
  EXPECT_EQ(c[0].evaluation_id, 0);  // never built
  EXPECT_NE(c[0].reason.find("line 1"), std::string::npos) << c[0].reason;
  EXPECT_NE(c[0].reason.find("compute the result itself"), std::string::npos) << c[0].reason;
  EXPECT_EQ(c[1].verdict, "correct");
  EXPECT_NE(Prompt(2).find("Rejected before building"), std::string::npos) << Prompt(2);
}

TEST_F(AgentCli, RidesThroughA429WithRetryAfter) {
  server_->Script({{429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "1"}}, 0}, OpenAi(kPlan),
                   OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(server_->Received().size(), 3u);
  auto store = OpenStore();
  auto exchanges = store->QueryExchanges(1);
  ASSERT_TRUE(exchanges.ok());
  ASSERT_EQ(exchanges->size(), 2u);
  EXPECT_EQ((*exchanges)[0].attempts, 2);
  EXPECT_GE((*exchanges)[0].latency_s, 0.9);
}

TEST_F(AgentCli, ProviderDownFailsTheSessionWithoutBurningRounds) {
  server_->Script({{500, R"({"error":{"message":"upstream exploded"}})", {}, 0}});
  CliRun run = Gen("openai:test-model", {"--no-seed", "--rounds", "5"});
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_EQ(server_->Received().size(), 2u);  // one call, max_attempts = 2; no further rounds
  auto store = OpenStore();
  auto session = store->GetSession(1);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->status, "failed");
  EXPECT_NE(session->stop_reason.find("upstream exploded"), std::string::npos) << session->stop_reason;
  EXPECT_TRUE(Candidates(*store, 1).empty());
  auto exchanges = store->QueryExchanges(1);
  ASSERT_TRUE(exchanges.ok());
  ASSERT_EQ(exchanges->size(), 1u);
  EXPECT_NE((*exchanges)[0].error.find("upstream exploded"), std::string::npos);
}

// A crashing candidate prints bytes that are not UTF-8 to stderr; the crash's
// feedback quotes the worker's stderr, so the next prompt carries them. They
// must reach the server as U+FFFD in valid JSON, not end the process.
TEST_F(AgentCli, InvalidUtf8InFeedbackReachesTheServerReplaced) {
  const std::string crashes = Kernel(R"(if (r == 0 && c == 0) { fprintf(stderr, "error: bad bytes \xff\xfe\n"); abort(); }
      op[r * cols + c] = xv * 2.0f + yv;)",
                                     "#include <stdio.h>\n#include <stdlib.h>\n");
  server_->Script({OpenAi(kPlan), OpenAi(Fenced(crashes)), OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed", "--rounds", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto received = server_->Received();
  ASSERT_EQ(received.size(), 3u);
  // nlohmann's parser refuses invalid UTF-8: a body that parses is valid.
  nlohmann::json body = nlohmann::json::parse(received[2].body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(body.is_discarded()) << "the repair request is not valid UTF-8 JSON";
  const std::string repair = body["messages"].back()["content"].get<std::string>();
  EXPECT_NE(repair.find("Verdict: crash"), std::string::npos) << repair;
  EXPECT_NE(repair.find("error: bad bytes \xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos) << repair;
  auto c = Candidates(*OpenStore(), 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].verdict, "crash");
  EXPECT_EQ(c[1].verdict, "correct");
}

TEST_F(AgentCli, AnthropicProviderConverges) {
  server_->Script({{200, AnthropicReplyBody(kPlan, 800, 100), {}, 0},
                   {200, AnthropicReplyBody(Fenced(kCorrect), 900, 300), {}, 0}});
  CliRun run = Gen("anthropic:test-model", {"--no-seed", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto received = server_->Received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].path, "/v1/messages");
  auto body = nlohmann::json::parse(received[1].body);
  EXPECT_NE(body["system"].get<std::string>().find("anvil_kernel"), std::string::npos);
  auto store = OpenStore();
  auto session = store->GetSession(1);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->provider, "anthropic");
  EXPECT_EQ(session->input_tokens, 1700);
  EXPECT_EQ(session->output_tokens, 400);
}

TEST_F(AgentCli, FormulaWithTheBuiltInSeed) {
  server_->Script({OpenAi(kPlan), OpenAi(Fenced(kCorrect))});
  CliRun run = ws_.Run({"gen", "out = x * 2.0 + y", "-i", "x: f32[R, C]", "-i", "y: f32[R, C]", "--perf",
                        "R=16, C=64", "--target", "cpu", "--llm", "openai:test-model", "--rounds", "1", "--out",
                        ws_.dir() + "/kernel.cpp"},
                       300);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto store = OpenStore();
  auto session = store->GetSession(1);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->input_form, "formula");
  auto c = Candidates(*store, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].action, "seed");
  EXPECT_EQ(c[0].round, 0);
  EXPECT_EQ(c[0].verdict, "correct");
  EXPECT_EQ(c[1].action, "design");
  EXPECT_EQ(c[1].verdict, "correct");
  EXPECT_TRUE(c[1].speedup.has_value());
  EXPECT_NE(Prompt(1).find("built-in compiler generated this kernel"), std::string::npos) << Prompt(1);
}

TEST_F(AgentCli, ParallelSlotsAreRecordedPerSlotAndReplay) {
  // Replies arrive in whatever order the slots' threads ask, so every reply
  // is the same: a plan that happens to hold the kernel, and the kernel.
  server_->Script({OpenAi(Fenced(kCorrect))});
  CliRun run = Gen("openai:test-model", {"--no-seed", "--parallel", "2", "--rounds", "1"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(server_->Received().size(), 4u);
  auto store = OpenStore();
  auto c = Candidates(*store, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].slot, 0);
  EXPECT_EQ(c[1].slot, 1);
  EXPECT_EQ(c[0].verdict, "correct");
  EXPECT_EQ(c[1].verdict, "correct");
  auto exchanges = store->QueryExchanges(1);
  ASSERT_TRUE(exchanges.ok());
  ASSERT_EQ(exchanges->size(), 4u);
  int per_slot[2] = {0, 0};
  for (const auto& e : *exchanges) ++per_slot[e.slot];
  EXPECT_EQ(per_slot[0], 2);
  EXPECT_EQ(per_slot[1], 2);
  server_.reset();
  CliRun replay = ws_.Run({"session", "replay", "1"}, 300);
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
}

TEST_F(AgentCli, TokenBudgetStopsStartingRounds) {
  server_->Script({OpenAi(kPlan), OpenAi(Fenced(kWrong))});  // 1200 tokens per call
  CliRun run = Gen("openai:test-model", {"--no-seed", "--max-tokens-total", "2500", "--rounds", "6"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  auto store = OpenStore();
  auto session = store->GetSession(1);
  ASSERT_TRUE(session.ok());
  EXPECT_EQ(session->status, "exhausted");
  EXPECT_NE(session->stop_reason.find("token budget used (3600 of 2500 tokens)"), std::string::npos)
      << session->stop_reason;
  EXPECT_EQ(Candidates(*store, 1).size(), 2u);  // round 1 (2400 tokens) and round 2; no round 3
}

TEST_F(AgentCli, PlainWordsTaskIsWrittenByTheModelConfirmedAndLabelled) {
  const std::string task_reply = "The task:\n```toml\n" + testing::ReadTextFile(TaskPath()) + "```\n";
  server_->Script({OpenAi(task_reply), OpenAi(kPlan), OpenAi(Fenced(kCorrect))});
  // Without a terminal and without --yes the model's task is shown and refused.
  CliRun refused = ws_.Run({"gen", "scale x by two and add y", "--target", "cpu", "--llm", "openai:test-model"}, 60);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("formula = \"out = x * 2.0 + y\""), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("--yes"), std::string::npos) << refused.output;

  server_->Script({OpenAi(task_reply), OpenAi(kPlan), OpenAi(Fenced(kCorrect))});
  CliRun run = ws_.Run({"gen", "scale x by two and add y", "--target", "cpu", "--llm", "openai:test-model", "--yes",
                        "--no-seed", "--out", ws_.dir() + "/kernel.cpp"},
                       300);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto store = OpenStore();
  auto sessions = store->QuerySessions(10);
  ASSERT_TRUE(sessions.ok());
  ASSERT_EQ(sessions->size(), 1u);
  const SessionRow& s = sessions->front();
  EXPECT_EQ(s.input_form, "words");
  EXPECT_EQ(s.reference_author, "model:openai:test-model");
  auto exchanges = store->QueryExchanges(s.id);
  ASSERT_TRUE(exchanges.ok());
  ASSERT_EQ(exchanges->size(), 3u);
  EXPECT_EQ((*exchanges)[0].role, "reference_writer");
  EXPECT_EQ((*exchanges)[0].round, 0);
  const std::string kernel = testing::ReadTextFile(ws_.dir() + "/kernel.cpp");
  EXPECT_NE(kernel.find("written by a language model"), std::string::npos) << kernel;
}

TEST_F(AgentCli, PlainWordsWithoutAModelNameWhatToSet) {
  CliRun run = ws_.Run({"gen", "row-wise softmax with temperature t", "--target", "cpu"}, 60);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("ANVIL_LLM"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("--llm"), std::string::npos) << run.output;
  EXPECT_TRUE(server_->Received().empty());
}

}  // namespace
}  // namespace anvil
