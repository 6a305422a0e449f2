// Retries of one LLM call: which failures are worth another attempt, how long
// to wait before it, and the loop that sends, classifies and waits.
//
// Retried (up to RetryPolicy::max_attempts requests in all):
//   * HTTP 408, 429 and every 5xx (including Anthropic's 529 "overloaded"),
//     except OpenAI's 429 "insufficient_quota" (the account's credit is used
//     up: no wait helps, so it is refused like a 401);
//   * transport failures: refused/reset connections, DNS failures, connect
//     and total timeouts, stalls (HttpTransport's kUnavailable) — but a
//     timeout after the whole request was sent only once: without streaming
//     it is what a generation longer than the timeout looks like, and each
//     try is billed and ends the same way;
//   * a 2xx reply that is not valid JSON or lacks an expected field — once
//     only: a server that sends garbage twice will keep doing so.
// Not retried: other 4xx (bad key, unknown model, bad request: the server's
// own error message is shown), cancellation, unusable URLs, TLS errors.
//
// Waits: the server's Retry-After (delta-seconds or an HTTP-date; OpenAI's
// retry-after-ms when present) when it sends one, cut to retry_after_cap_s;
// otherwise exponential back-off with equal jitter: with ceiling
// c = min(cap, base * 2^(retry - 1)), a wait uniform in [c/2, c]. The fixed
// half makes the waits add up to something an outage can end within (with
// the busy defaults, three retries wait at least 2 + 4 + 8 = 14 s, 21 s on
// average, so a 10 s burst of 503/529 does not fail a session — full jitter
// averaged 3.5 s); the random half keeps the parallel candidates of one round
// from retrying in lock-step. A busy server (408/429/5xx) gets the longer
// busy_backoff schedule, a failed connection the short one. Waits end early
// when the CancelToken is raised.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "agent/llm/cancel_token.h"
#include "agent/llm/chat.h"
#include "agent/llm/http_transport.h"
#include "util/status.h"

namespace anvil::llm {

struct RetryPolicy {
  int max_attempts = 4;             // HTTP requests per call, the first included (>= 1)
  // After a transport failure (reset, refused, timeout): the ceiling of the
  // first back-off, doubling per retry, and the largest ceiling.
  double backoff_base_s = 1.0;
  double backoff_cap_s = 30.0;
  // After 408/429/5xx without Retry-After: the same for a busy server, longer
  // because overloads and rate limits last seconds, not milliseconds.
  double busy_backoff_base_s = 4.0;
  double busy_backoff_cap_s = 60.0;
  double retry_after_cap_s = 120.0; // the longest server-requested wait honoured; longer ones are cut to it
};

// Why an attempt failed, for its back-off schedule.
enum class RetryCause {
  kTransport,  // no reply: connection refused or reset, timeout, stall; or a malformed reply
  kBusy,       // HTTP 408, 429 or 5xx
};

// 408, 429 and 5xx.
bool IsRetryableHttpStatus(long status);

// A 429 that no wait will cure: OpenAI's error.code / error.type
// "insufficient_quota" (the account is out of credit).
bool IsPermanentRateLimit(const std::string& body);

// Seconds to wait from a Retry-After value: delta-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", also the RFC 850 and asctime
// forms), relative to `now`; a date in the past gives 0. nullopt when the
// value is neither.
std::optional<double> ParseRetryAfter(const std::string& value, std::chrono::system_clock::time_point now);

// The equal-jitter back-off before retry number `retry` (1 = the first
// retry) after a failure of kind `cause`, for a uniform sample `unit_random`
// in [0, 1): c/2 + c/2 * unit_random with c = min(cap, base * 2^(retry - 1)).
double BackoffDelay(int retry, RetryCause cause, const RetryPolicy& policy, double unit_random);

// The human-readable error in an error reply's body: error.message (OpenAI,
// Anthropic, vLLM), error as a string, or message (Ollama-style); else the
// body itself cut to 500 characters.
std::string ServerErrorMessage(const std::string& body);

// Reads a 2xx reply's body. Errors (kProtocol) say which field was missing or
// malformed; they are retried once.
using ReplyParser = std::function<Result<ChatResponse>(const std::string& body)>;

// Who is being called, for error messages.
struct Endpoint {
  std::string provider;  // "openai", "anthropic": prefixes every message
  std::string key_hint;  // where the key came from, shown with 401/403 ("$OPENAI_API_KEY")
};

// Waits `seconds` before a retry; true when cancelled meanwhile. The default
// is the CancelToken's WaitFor; tests pass one that records and returns at once.
using RetrySleeper = std::function<bool(double seconds)>;

// Sends `request` until a reply parses or the policy gives up. On success the
// response carries attempts, latency_s (all attempts and waits) and raw_json.
// On failure the Status is the last attempt's (kUnavailable, kProtocol), or
// kInvalidInput for a refused request, or kCancelled; its message says how
// many attempts were made. `sleep` may be empty (cancel.WaitFor).
Result<ChatResponse> PostWithRetries(HttpTransport& transport, const HttpRequest& request, const RetryPolicy& policy,
                                     const CancelToken& cancel, const Endpoint& endpoint, const ReplyParser& parse,
                                     const RetrySleeper& sleep = {});

}  // namespace anvil::llm
