// The OpenAI and Anthropic clients over real HTTP against the loopback
// stand-in server: wire format both ways, retries (429 with Retry-After, 5xx),
// timeouts (stall, total), malformed replies, refused requests, cancellation.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/llm/anthropic_client.h"
#include "agent/llm/cost.h"
#include "agent/llm/make_provider.h"
#include "agent/llm/openai_client.h"
#include "stand_in_server.h"

namespace anvil::llm {
namespace {

using testing::AnthropicReplyBody;
using testing::OpenAiReplyBody;
using testing::ScriptedReply;
using testing::StandInServer;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// A configuration pointing at the stand-in server, with timeouts and
// back-offs short enough for tests.
LlmConfig TestConfig(ProviderKind provider, const std::string& base_url) {
  LlmConfig c;
  c.provider = provider;
  c.model = "test-model";
  c.base_url = base_url;
  c.api_key_env = provider == ProviderKind::kOpenAi ? "OPENAI_API_KEY" : "ANTHROPIC_API_KEY";
  c.api_key = "sk-test-123";
  c.max_tokens = 256;
  c.connect_timeout_s = 2;
  c.total_timeout_s = 4;
  c.stall_timeout_s = 3;
  c.retry.max_attempts = 4;
  c.retry.backoff_base_s = 0.02;
  c.retry.backoff_cap_s = 0.05;
  c.retry.busy_backoff_base_s = 0.02;
  c.retry.busy_backoff_cap_s = 0.05;
  c.retry.retry_after_cap_s = 60;
  return c;
}

ChatRequest KernelRequest() {
  ChatRequest r;
  r.system = "You write CUDA kernels.";
  r.messages = {{Role::kUser, "Write a softmax."}, {Role::kAssistant, "```cuda\n...\n```"}, {Role::kUser, "Faster."}};
  r.temperature = 0.25;
  r.stop = {"</code>"};
  return r;
}

class LlmClientTest : public ::testing::Test {
 protected:
  StandInServer server_;
  CancelToken cancel_;
};

TEST_F(LlmClientTest, OpenAiReplyAndRequestOnTheWire) {
  server_.Script({{200, OpenAiReplyBody("__global__ void k() {}", 41, 17)}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url() + "/v1");
  config.prices["test-model"] = Price{2.0, 8.0};
  auto provider = MakeProvider(config);
  ASSERT_EQ(provider->Name(), "openai");

  Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "__global__ void k() {}");
  EXPECT_EQ(r->finish_reason, "stop");
  EXPECT_EQ(r->usage.input_tokens, 41);
  EXPECT_EQ(r->usage.output_tokens, 17);
  EXPECT_EQ(r->model, "stand-in-model");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_GT(r->latency_s, 0);
  ASSERT_TRUE(r->cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*r->cost_usd, (41 * 2.0 + 17 * 8.0) / 1e6);
  EXPECT_EQ(r->raw_json, OpenAiReplyBody("__global__ void k() {}", 41, 17));

  auto received = server_.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].path, "/v1/chat/completions");
  EXPECT_EQ(received[0].Header("Authorization"), "Bearer sk-test-123");
  EXPECT_EQ(received[0].Header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(received[0].body);
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["max_tokens"], 256);
  EXPECT_EQ(body["stream"], false);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.25);
  EXPECT_EQ(body["stop"], nlohmann::json::array({"</code>"}));
  ASSERT_EQ(body["messages"].size(), 4u);
  EXPECT_EQ(body["messages"][0], nlohmann::json({{"role", "system"}, {"content", "You write CUDA kernels."}}));
  EXPECT_EQ(body["messages"][1], nlohmann::json({{"role", "user"}, {"content", "Write a softmax."}}));
  EXPECT_EQ(body["messages"][2]["role"], "assistant");
  EXPECT_EQ(body["messages"][3]["content"], "Faster.");
}

TEST_F(LlmClientTest, AnthropicReplyAndRequestOnTheWire) {
  // Two text blocks and a thinking block: the text blocks are joined, the rest skipped.
  nlohmann::json reply = nlohmann::json::parse(AnthropicReplyBody("part one, ", 30, 12));
  reply["content"].push_back({{"type", "thinking"}, {"thinking", "hmm"}, {"signature", "x"}});
  reply["content"].push_back({{"type", "text"}, {"text", "part two"}});
  server_.Script({{200, reply.dump()}});
  LlmConfig config = TestConfig(ProviderKind::kAnthropic, server_.Url());
  auto provider = MakeProvider(config);
  ASSERT_EQ(provider->Name(), "anthropic");

  ChatRequest request = KernelRequest();
  request.model = "claude-test";
  request.max_tokens = 1000;
  Result<ChatResponse> r = provider->Complete(request, cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "part one, part two");
  EXPECT_EQ(r->finish_reason, "end_turn");
  EXPECT_EQ(r->usage.input_tokens, 30);
  EXPECT_EQ(r->usage.output_tokens, 12);
  EXPECT_EQ(r->model, "stand-in-claude");
  EXPECT_EQ(r->attempts, 1);
  EXPECT_FALSE(r->cost_usd.has_value());  // no price configured: unknown, not zero

  auto received = server_.Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].path, "/v1/messages");
  EXPECT_EQ(received[0].Header("x-api-key"), "sk-test-123");
  EXPECT_EQ(received[0].Header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(received[0].Header("Authorization"), "");
  auto body = nlohmann::json::parse(received[0].body);
  EXPECT_EQ(body["model"], "claude-test");
  EXPECT_EQ(body["max_tokens"], 1000);
  EXPECT_EQ(body["system"], "You write CUDA kernels.");
  EXPECT_EQ(body["stop_sequences"], nlohmann::json::array({"</code>"}));
  ASSERT_EQ(body["messages"].size(), 3u);  // no system message among them
  EXPECT_EQ(body["messages"][0], nlohmann::json({{"role", "user"}, {"content", "Write a softmax."}}));
  EXPECT_EQ(body["messages"][1]["role"], "assistant");
}

// Prompts quote worker stderr and compiler logs, which may hold any bytes.
TEST_F(LlmClientTest, InvalidUtf8InAPromptIsSentReplacedInValidJson) {
  server_.Script({{200, OpenAiReplyBody("ok", 1, 1)}});
  StandInServer anthropic_server;
  anthropic_server.Script({{200, AnthropicReplyBody("ok", 1, 1)}});
  ChatRequest request = KernelRequest();
  request.system = "stderr said: \xff\xfe";
  request.messages.back().content = "compiler: caf\xc3 \x80x";
  for (ProviderKind kind : {ProviderKind::kOpenAi, ProviderKind::kAnthropic}) {
    StandInServer& server = kind == ProviderKind::kOpenAi ? server_ : anthropic_server;
    Result<ChatResponse> r = MakeProvider(TestConfig(kind, server.Url()))->Complete(request, cancel_);
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto received = server.Received();
    ASSERT_EQ(received.size(), 1u);
    // nlohmann's parser refuses invalid UTF-8: a body that parses is valid.
    nlohmann::json body = nlohmann::json::parse(received[0].body, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(body.is_discarded()) << received[0].body;
    const std::string system = kind == ProviderKind::kOpenAi ? body["messages"][0]["content"].get<std::string>()
                                                             : body["system"].get<std::string>();
    EXPECT_EQ(system, "stderr said: \xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(body["messages"].back()["content"], "compiler: caf\xEF\xBF\xBD \xEF\xBF\xBDx");
  }
}

// OpenAI's own API wants max_completion_tokens (o-series, GPT-5); other
// compatible servers may know only max_tokens.
TEST_F(LlmClientTest, TokenLimitFieldFollowsTheSettingElseTheHost) {
  server_.Script({{200, OpenAiReplyBody("ok", 1, 1)}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url() + "/v1");
  config.token_limit_field = TokenLimitField::kMaxCompletionTokens;
  ASSERT_TRUE(MakeProvider(config)->Complete(KernelRequest(), cancel_).ok());
  config.token_limit_field = TokenLimitField::kMaxTokens;
  ASSERT_TRUE(MakeProvider(config)->Complete(KernelRequest(), cancel_).ok());
  config.token_limit_field.reset();  // 127.0.0.1 is not OpenAI: max_tokens
  ASSERT_TRUE(MakeProvider(config)->Complete(KernelRequest(), cancel_).ok());
  auto received = server_.Received();
  ASSERT_EQ(received.size(), 3u);
  auto first = nlohmann::json::parse(received[0].body);
  EXPECT_EQ(first["max_completion_tokens"], 256);
  EXPECT_FALSE(first.contains("max_tokens"));
  for (size_t i : {1u, 2u}) {
    auto body = nlohmann::json::parse(received[i].body);
    EXPECT_EQ(body["max_tokens"], 256) << i;
    EXPECT_FALSE(body.contains("max_completion_tokens")) << i;
  }

  LlmConfig by_host;
  for (const char* url : {"https://api.openai.com/v1", "https://API.OpenAI.com:443/v1", "http://api.openai.com"}) {
    by_host.base_url = url;
    EXPECT_EQ(TokenLimitFieldFor(by_host), TokenLimitField::kMaxCompletionTokens) << url;
  }
  for (const char* url : {"https://api.deepseek.com/v1", "http://localhost:11434/v1", "https://api.openai.com.evil.example/v1",
                          "https://proxy.example/api.openai.com/v1"}) {
    by_host.base_url = url;
    EXPECT_EQ(TokenLimitFieldFor(by_host), TokenLimitField::kMaxTokens) << url;
  }
  by_host.base_url = "https://api.openai.com/v1";
  by_host.token_limit_field = TokenLimitField::kMaxTokens;  // the setting wins over the host
  EXPECT_EQ(TokenLimitFieldFor(by_host), TokenLimitField::kMaxTokens);
}

TEST_F(LlmClientTest, RateLimitHonoursRetryAfterThenSucceeds) {
  server_.Script({{429,
                   R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})",
                   {{"Retry-After", "1"}}},
                  {200, OpenAiReplyBody("ok", 5, 1)}});
  // The back-off without Retry-After would be at most 0.05 s: a wait of about
  // a second can only come from the header.
  auto provider = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()));
  Clock::time_point start = Clock::now();
  Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "ok");
  EXPECT_EQ(r->attempts, 2);
  EXPECT_EQ(server_.Received().size(), 2u);
  EXPECT_GE(elapsed, 0.95);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_GE(r->latency_s, 0.95);
}

TEST_F(LlmClientTest, ServerErrorsAreRetriedThenSucceed) {
  server_.Script({{500, R"({"type":"error","error":{"type":"api_error","message":"Internal server error"}})"},
                  {529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"},
                  {200, AnthropicReplyBody("third time", 9, 3)}});
  auto provider = MakeProvider(TestConfig(ProviderKind::kAnthropic, server_.Url()));
  Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "third time");
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server_.Received().size(), 3u);
}

TEST_F(LlmClientTest, GivesUpAfterMaxAttemptsWithTheLastError) {
  server_.Script({{503, R"({"error":{"message":"upstream unavailable"}})"}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.retry.max_attempts = 3;
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("gave up after 3 attempts"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("HTTP 503: upstream unavailable"), std::string::npos) << r.status().message();
  EXPECT_EQ(server_.Received().size(), 3u);
}

TEST_F(LlmClientTest, StalledServerIsATimeoutWithinTheStallLimit) {
  server_.Script({{200, OpenAiReplyBody("too late", 1, 1), {}, /*delay_s=*/20}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.stall_timeout_s = 1;
  config.total_timeout_s = 4;
  config.retry.max_attempts = 1;
  Clock::time_point start = Clock::now();
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("stalled: no byte sent or received for 1 s"), std::string::npos)
      << r.status().message();
  EXPECT_GE(elapsed, 0.95);
  EXPECT_LT(elapsed, 1.8);
}

TEST_F(LlmClientTest, TotalTimeoutEndsASlowReply) {
  server_.Script({{200, OpenAiReplyBody("too late", 1, 1), {}, /*delay_s=*/20}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.stall_timeout_s = 10;
  config.total_timeout_s = 1;
  config.retry.max_attempts = 1;
  Clock::time_point start = Clock::now();
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("timed out"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("total_timeout_s = 1"), std::string::npos) << r.status().message();
  EXPECT_LT(elapsed, 1.8);
}

TEST_F(LlmClientTest, AStallIsRetriedLikeAnyTimeout) {
  server_.Script({{200, OpenAiReplyBody("stalled", 1, 1), {}, /*delay_s=*/20}, {200, OpenAiReplyBody("fresh", 2, 2)}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.stall_timeout_s = 0.5;
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->text, "fresh");
  EXPECT_EQ(r->attempts, 2);
}

// Without streaming a long generation looks like a server that never
// answers; each try is billed, so the same request is sent at most twice.
TEST_F(LlmClientTest, AServerThatNeverAnswersGetsTheRequestTwiceNotMaxAttempts) {
  server_.Script({{200, OpenAiReplyBody("too late", 1, 1), {}, /*delay_s=*/20}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.total_timeout_s = 0.4;
  config.stall_timeout_s = 0.4;
  config.retry.max_attempts = 4;
  Clock::time_point start = Clock::now();
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("gave up after 2 attempts (a request that timed out after it was sent"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(server_.Received().size(), 2u);
  EXPECT_LT(elapsed, 2.0);

  // The total limit alone (stall limit longer) ends the same way.
  StandInServer second;
  second.Script({{200, OpenAiReplyBody("too late", 1, 1), {}, /*delay_s=*/20}});
  config = TestConfig(ProviderKind::kOpenAi, second.Url());
  config.total_timeout_s = 0.4;
  config.stall_timeout_s = 10;
  Result<ChatResponse> t = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("timed out"), std::string::npos) << t.status().message();
  EXPECT_EQ(second.Received().size(), 2u);
}

TEST_F(LlmClientTest, MalformedJsonIsRetriedOnceThenNamed) {
  server_.Script({{200, R"({"id": "chatcmpl-1", "choices": [{"message": )"}});
  Result<ChatResponse> r = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()))->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kProtocol);
  EXPECT_NE(r.status().message().find("not valid JSON"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("gave up after 2 attempts"), std::string::npos) << r.status().message();
  EXPECT_EQ(server_.Received().size(), 2u);  // once more, not max_attempts (4) times
}

TEST_F(LlmClientTest, MissingFieldIsNamedAndOneRetryMayRecover) {
  server_.Script({{200, R"({"id":"chatcmpl-1","object":"chat.completion","model":"m"})"}});
  Result<ChatResponse> r = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()))->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'choices' is missing or not an array"), std::string::npos)
      << r.status().message();

  // Anthropic: a null text, then a good reply.
  StandInServer second;
  second.Script({{200, R"({"type":"message","content":[{"type":"text","text":null}],"stop_reason":"end_turn"})"},
                 {200, AnthropicReplyBody("recovered", 1, 1)}});
  Result<ChatResponse> ok = MakeProvider(TestConfig(ProviderKind::kAnthropic, second.Url()))->Complete(KernelRequest(), cancel_);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->text, "recovered");
  EXPECT_EQ(ok->attempts, 2);
}

TEST_F(LlmClientTest, UnauthorizedIsNotRetriedAndShowsTheServersMessage) {
  server_.Script({{401,
                   R"({"error":{"message":"Incorrect API key provided: sk-test***123.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})"}});
  Result<ChatResponse> r = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()))->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("HTTP 401: Incorrect API key provided: sk-test***123. (invalid_request_error)"), std::string::npos) << m;
  EXPECT_NE(m.find("$OPENAI_API_KEY"), std::string::npos) << m;
  EXPECT_EQ(server_.Received().size(), 1u);
}

TEST_F(LlmClientTest, AnthropicBadRequestShowsItsErrorType) {
  server_.Script({{400,
                   R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: 100000 > 64000, which is the maximum allowed"}})"}});
  Result<ChatResponse> r = MakeProvider(TestConfig(ProviderKind::kAnthropic, server_.Url()))->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.status().message().find("HTTP 400: max_tokens: 100000 > 64000, which is the maximum allowed "
                                      "(invalid_request_error)"),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(server_.Received().size(), 1u);
}

TEST_F(LlmClientTest, CancellationStopsASlowRequestPromptly) {
  server_.Script({{200, OpenAiReplyBody("never", 1, 1), {}, /*delay_s=*/20}});
  auto provider = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()));
  Clock::time_point start = Clock::now();
  std::thread canceller([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel_.Cancel();
  });
  Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled) << r.status().message();
  EXPECT_GE(elapsed, 0.19);
  EXPECT_LT(elapsed, 0.6);
  EXPECT_EQ(server_.Received().size(), 1u);
}

TEST_F(LlmClientTest, CancellationEndsARetryAfterWait) {
  server_.Script({{429, R"({"error":{"message":"slow down"}})", {{"Retry-After", "30"}}}});
  auto provider = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()));
  Clock::time_point start = Clock::now();
  std::thread canceller([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel_.Cancel();
  });
  Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
  double elapsed = SecondsSince(start);
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled);
  EXPECT_NE(r.status().message().find("while waiting to retry"), std::string::npos) << r.status().message();
  EXPECT_LT(elapsed, 1.0);
}

TEST_F(LlmClientTest, RefusedConnectionIsRetriedThenReported) {
  int closed_port;
  {
    StandInServer gone;
    closed_port = gone.port();
  }
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, "http://127.0.0.1:" + std::to_string(closed_port));
  config.retry.max_attempts = 2;
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("gave up after 2 attempts"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("/chat/completions"), std::string::npos) << r.status().message();
}

TEST_F(LlmClientTest, NoKeyConfiguredSendsNoAuthorization) {
  server_.Script({{200, OpenAiReplyBody("local", 1, 1)}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url() + "/v1");
  config.api_key_env = "";
  config.api_key = "";
  Result<ChatResponse> r = MakeProvider(config)->Complete(KernelRequest(), cancel_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(server_.Received().size(), 1u);
  EXPECT_FALSE(server_.Received()[0].headers.count("Authorization"));
}

TEST_F(LlmClientTest, LedgerAccumulatesCallsFromSeveralThreads) {
  server_.Script({{200, OpenAiReplyBody("x", 100, 10)}});
  LlmConfig config = TestConfig(ProviderKind::kOpenAi, server_.Url());
  config.prices["test-model"] = Price{1.0, 4.0};
  auto provider = MakeProvider(config);
  UsageLedger ledger;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      Result<ChatResponse> r = provider->Complete(KernelRequest(), cancel_);
      if (r.ok()) ledger.Add(*r);
    });
  for (auto& t : threads) t.join();
  UsageTotals totals = ledger.Totals();
  EXPECT_EQ(totals.calls, 4);
  EXPECT_EQ(totals.attempts, 4);
  EXPECT_EQ(totals.usage.input_tokens, 400);
  EXPECT_EQ(totals.usage.output_tokens, 40);
  EXPECT_NEAR(totals.cost_usd, 4 * (100 * 1.0 + 10 * 4.0) / 1e6, 1e-12);
  EXPECT_EQ(totals.calls_without_price, 0);
}

TEST_F(LlmClientTest, EmptyRequestIsRefusedBeforeSending) {
  Result<ChatResponse> r = MakeProvider(TestConfig(ProviderKind::kOpenAi, server_.Url()))->Complete(ChatRequest{}, cancel_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(r.status().message(), "chat request has no messages");
  EXPECT_TRUE(server_.Received().empty());
}

}  // namespace
}  // namespace anvil::llm
