// The retry policy's pieces: Retry-After parsing, back-off bounds, which
// statuses are retried, server error messages, and the loop against a
// scripted transport (no sockets).
#include <deque>
#include <vector>

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

TEST(RetryTest, EqualJitterBackoffWaitsAtLeastHalfTheDoublingCeiling) {
  RetryPolicy p;
  p.backoff_base_s = 1;
  p.backoff_cap_s = 30;
  p.busy_backoff_base_s = 4;
  p.busy_backoff_cap_s = 60;
  // A failed connection: ceilings 1, 2, 4, ... 30; the wait is in [c/2, c].
  EXPECT_DOUBLE_EQ(BackoffDelay(1, RetryCause::kTransport, p, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(BackoffDelay(1, RetryCause::kTransport, p, 0.5), 0.75);
  EXPECT_DOUBLE_EQ(BackoffDelay(2, RetryCause::kTransport, p, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(3, RetryCause::kTransport, p, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(6, RetryCause::kTransport, p, 0.0), 15.0);  // 32 s ceiling cut to 30
  EXPECT_DOUBLE_EQ(BackoffDelay(100, RetryCause::kTransport, p, 1.0), 30.0);
  // A busy server: ceilings 4, 8, 16, 32, 60.
  EXPECT_DOUBLE_EQ(BackoffDelay(1, RetryCause::kBusy, p, 0.0), 2.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(2, RetryCause::kBusy, p, 0.5), 6.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(3, RetryCause::kBusy, p, 1.0), 16.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(5, RetryCause::kBusy, p, 0.0), 30.0);  // 64 s ceiling cut to 60
  // The defaults ride out a 10 s outage: the three waits of four attempts
  // add up to more than 10 s whatever the random draws.
  RetryPolicy defaults;
  double least = 0;
  for (int retry = 1; retry < defaults.max_attempts; ++retry)
    least += BackoffDelay(retry, RetryCause::kBusy, defaults, 0.0);
  EXPECT_GE(least, 10.0);
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
// Errors whose message starts with "sent:" are timeouts after the request went out.
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::deque<Result<HttpResponse>> outcomes) : outcomes_(std::move(outcomes)) {}
  Result<HttpResponse> Post(const HttpRequest&, const CancelToken&, PostFailure* failure) override {
    ++posts;
    Result<HttpResponse> next = outcomes_.front();
    if (outcomes_.size() > 1) outcomes_.pop_front();
    if (failure != nullptr)
      failure->timed_out_after_sending = !next.ok() && next.status().message().rfind("sent:", 0) == 0;
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

// Records the waits instead of sleeping.
struct RecordedWaits {
  std::vector<double> waits;
  RetrySleeper Sleeper() {
    return [this](double seconds) {
      waits.push_back(seconds);
      return false;
    };
  }
};

TEST(RetryTest, BusyServerWaitsFollowTheBusyScheduleAndRetryAfter) {
  RetryPolicy p;  // the defaults: busy back-off 4 s doubling
  CancelToken cancel;
  HttpResponse limited = Reply(429, R"({"error":{"message":"slow down","code":"rate_limit_exceeded"}})");
  limited.headers = {{"retry-after", "7"}};
  ScriptedTransport busy({Reply(503, "down"), Reply(529, "overloaded"), limited, Reply(200, "text:up")});
  RecordedWaits recorded;
  Result<ChatResponse> r =
      PostWithRetries(busy, HttpRequest{}, p, cancel, {"anthropic", "$K"}, ParseText, recorded.Sleeper());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->attempts, 4);
  ASSERT_EQ(recorded.waits.size(), 3u);
  EXPECT_GE(recorded.waits[0], 2.0);
  EXPECT_LE(recorded.waits[0], 4.0);
  EXPECT_GE(recorded.waits[1], 4.0);
  EXPECT_LE(recorded.waits[1], 8.0);
  EXPECT_DOUBLE_EQ(recorded.waits[2], 7.0);  // the server's Retry-After wins

  // A failed connection uses the short schedule.
  ScriptedTransport reset({Unavailable("POST x: Connection reset by peer"), Reply(200, "text:ok")});
  RecordedWaits short_waits;
  ASSERT_TRUE(PostWithRetries(reset, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText, short_waits.Sleeper()).ok());
  ASSERT_EQ(short_waits.waits.size(), 1u);
  EXPECT_GE(short_waits.waits[0], 0.5);
  EXPECT_LE(short_waits.waits[0], 1.0);
}

TEST(RetryTest, InsufficientQuotaIsRefusedNotRetried) {
  RetryPolicy p;
  CancelToken cancel;
  ScriptedTransport broke({Reply(429,
                                 R"({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})")});
  RecordedWaits recorded;
  Result<ChatResponse> r =
      PostWithRetries(broke, HttpRequest{}, p, cancel, {"openai", "$OPENAI_API_KEY"}, ParseText, recorded.Sleeper());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.status().message().find("You exceeded your current quota"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("$OPENAI_API_KEY has no quota or credit left"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(broke.posts, 1);
  EXPECT_TRUE(recorded.waits.empty());
  EXPECT_TRUE(IsPermanentRateLimit(R"({"error":{"code":"insufficient_quota"}})"));
  EXPECT_FALSE(IsPermanentRateLimit(R"({"error":{"code":"rate_limit_exceeded","type":"requests"}})"));
  EXPECT_FALSE(IsPermanentRateLimit("not json"));
}

TEST(RetryTest, ATimeoutAfterSendingIsRetriedOnceOthersUpToTheLimit) {
  RetryPolicy p;  // max_attempts 4
  CancelToken cancel;
  ScriptedTransport slow({Unavailable("sent: POST x: timed out")});
  RecordedWaits recorded;
  Result<ChatResponse> r =
      PostWithRetries(slow, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText, recorded.Sleeper());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(slow.posts, 2);
  EXPECT_NE(r.status().message().find("gave up after 2 attempts (a request that timed out after it was sent is "
                                      "retried once"),
            std::string::npos)
      << r.status().message();

  // Timeouts before the request went out (connect) are retried like any failed connection.
  ScriptedTransport unreachable({Unavailable("POST x: Connection timed out")});
  Result<ChatResponse> u =
      PostWithRetries(unreachable, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText, recorded.Sleeper());
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(unreachable.posts, 4);

  // One timeout after sending between other failures still allows the others.
  ScriptedTransport mixed({Unavailable("sent: POST x: timed out"), Reply(503, "busy"), Reply(200, "text:done")});
  Result<ChatResponse> m = PostWithRetries(mixed, HttpRequest{}, p, cancel, {"openai", "$K"}, ParseText,
                                           recorded.Sleeper());
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->attempts, 3);
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
