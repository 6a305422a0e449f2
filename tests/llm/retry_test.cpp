// The retry policy's pieces: Retry-After parsing, back-off bounds, which
// statuses are retried, server error messages, and the loop against a
// scripted transport (no sockets).
#include <deque>

#include <gtest/gtest.h>

#include "agent/llm/cost.h"
#include "agent/llm/retry.h"

namespace anvil::llm {
namespace {

using std::chrono::system_clock;

system_clock::time_point At(time_t t) { return system_clock::from_time_t(t); }

TEST(RetryTest, RetryAfterSecondsAndHttpDates) {
  const time_t now = 1445412480;  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("120", At(now)), 120.0);
  EXPECT_EQ(ParseRetryAfter("0", At(now)), 0.0);
  EXPECT_EQ(ParseRetryAfter("1.5", At(now)), 1.5);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", At(now)), 30.0);
  EXPECT_EQ(ParseRetryAfter("Wednesday, 21-Oct-15 07:29:00 GMT", At(now)), 60.0);
  EXPECT_EQ(ParseRetryAfter("Wed Oct 21 07:28:05 2015", At(now)), 5.0);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", At(now)), 0.0);  // past: retry now
  EXPECT_EQ(ParseRetryAfter("soon", At(now)), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("12s", At(now)), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", At(now)), std::nullopt);
}

TEST(RetryTest, FullJitterBackoffStaysUnderTheDoublingCeilingAndTheCap) {
  RetryPolicy p;
  p.backoff_base_s = 1;
  p.backoff_cap_s = 30;
  EXPECT_DOUBLE_EQ(BackoffDelay(1, p, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(BackoffDelay(2, p, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(3, p, 0.75), 3.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(6, p, 0.5), 15.0);  // 32 s ceiling cut to 30
  EXPECT_DOUBLE_EQ(BackoffDelay(100, p, 0.5), 15.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(4, p, 0.0), 0.0);
}

TEST(RetryTest, WhichStatusesAreRetried) {
  for (long s : {408L, 429L, 500L, 502L, 503L, 504L, 529L}) EXPECT_TRUE(IsRetryableHttpStatus(s)) << s;
  for (long s : {200L, 400L, 401L, 403L, 404L, 413L, 422L}) EXPECT_FALSE(IsRetryableHttpStatus(s)) << s;
}

TEST(RetryTest, ServerErrorMessageReadsEveryShape) {
  EXPECT_EQ(ServerErrorMessage(R"({"error":{"message":"bad key","type":"invalid_request_error"}})"),
            "bad key (invalid_request_error)");
  EXPECT_EQ(ServerErrorMessage(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
            "Overloaded (overloaded_error)");
  EXPECT_EQ(ServerErrorMessage(R"({"error":"model 'x' not found"})"), "model 'x' not found");
  EXPECT_EQ(ServerErrorMessage(R"({"object":"error","message":"context too long","code":400})"), "context too long");
  EXPECT_EQ(ServerErrorMessage("<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>");
  EXPECT_EQ(ServerErrorMessage(""), "(empty body)");
  EXPECT_EQ(ServerErrorMessage(std::string(2000, 'x')), std::string(500, 'x') + "...");
}

// Answers Post from a list of outcomes.
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<Result<HttpResponse>> outcomes) : outcomes_(std::move(outcomes)) {}
  Result<HttpResponse> Post(const HttpRequest&, const CancelToken&) override {
    ++posts;
    Result<HttpResponse> next = outcomes_.front();
    if (outcomes_.size() > 1) outcomes_.pop_front();
    return next;
  }
  int posts = 0;

 private:
  std::deque<Result<HttpResponse>> outcomes_;
};

HttpResponse Reply(long status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Result<ChatResponse> ParseText(const std::string& body) {
  if (body.rfind("text:", 0) != 0) return ProtocolError("no text: prefix");
  ChatResponse r;
  r.text = body.substr(5);
  return r;
}

TEST(RetryTest, TransportErrorsOtherThanUnavailableAreNotRetried) {
  RetryPolicy p;
  p.backoff_base_s = 0.001;
  CancelToken cancel;
  ScriptedTransport bad_url({InvalidInput("POST x: URL using bad/illegal format")});
  Result<ChatResponse> r = PostWithRetries(bad_url, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(r.status().message(), "openai: POST x: URL using bad/illegal format");
  EXPECT_EQ(bad_url.posts, 1);

  ScriptedTransport flaky({Unavailable("POST x: Connection reset by peer"), Reply(200, "text:hello")});
  Result<ChatResponse> ok = PostWithRetries(flaky, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->text, "hello");
  EXPECT_EQ(ok->attempts, 2);
  EXPECT_EQ(ok->raw_json, "text:hello");
}

TEST(RetryTest, OneAttemptPolicyNeverRetries) {
  RetryPolicy p;
  p.max_attempts = 1;
  CancelToken cancel;
  ScriptedTransport busy({Reply(429, R"({"error":{"message":"slow down"}})")});
  Result<ChatResponse> r = PostWithRetries(busy, HttpRequest{}, p, cancel, {"anthropic", "$K"}, ParseText);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.status().message().find("anthropic: gave up after 1 attempt: "), std::string::npos)
      << r.status().message();
  EXPECT_EQ(busy.posts, 1);
}

TEST(RetryTest, CostIsPricedPerMillionTokens) {
  EXPECT_DOUBLE_EQ(CostUsd(Usage{1'000'000, 500'000}, Price{0.27, 1.10}), 0.27 + 0.55);
  UsageLedger ledger;
  ChatResponse priced;
  priced.usage = {10, 5};
  priced.attempts = 2;
  priced.cost_usd = 0.5;
  ChatResponse unpriced;
  unpriced.usage = {1, 1};
  unpriced.attempts = 1;
  ledger.Add(priced);
  ledger.Add(unpriced);
  UsageTotals t = ledger.Totals();
  EXPECT_EQ(t.calls, 2);
  EXPECT_EQ(t.attempts, 3);
  EXPECT_EQ(t.usage.input_tokens, 11);
  EXPECT_EQ(t.usage.output_tokens, 6);
  EXPECT_DOUBLE_EQ(t.cost_usd, 0.5);
  EXPECT_EQ(t.calls_without_price, 1);
}

}  // namespace
}  // namespace anvil::llm
