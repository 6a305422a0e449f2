// Retries of one LLM call: which failures are worth another attempt, how long
// to wait before it, and the loop that sends, classifies and waits.
//
// Retried (up to RetryPolicy::max_attempts requests in all):
//   * HTTP 408, 429 and every 5xx (including Anthropic's 529 "overloaded");
//   * transport failures: refused/reset connections, DNS failures, connect
//     and total timeouts, stalls (HttpTransport's kUnavailable);
//   * a 2xx reply that is not valid JSON or lacks an expected field — once
//     only: a server that sends garbage twice will keep doing so.
// Not retried: other 4xx (bad key, unknown model, bad request: the server's
// own error message is shown), cancellation, unusable URLs, TLS errors.
//
// Waits: the server's Retry-After (delta-seconds or an HTTP-date; OpenAI's
// retry-after-ms when present) when it sends one, cut to retry_after_cap_s;
// otherwise exponential back-off with full jitter: uniform in
// [0, min(backoff_cap_s, backoff_base_s * 2^(retry - 1))]. Jitter keeps the
// parallel candidates of one round from retrying in lock-step. Waits end early
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
  double backoff_base_s = 1.0;      // upper bound of the first back-off; doubles per retry
  double backoff_cap_s = 30.0;      // upper bound of any back-off
  double retry_after_cap_s = 120.0; // the longest server-requested wait honoured; longer ones are cut to it
};

// 408, 429 and 5xx.
bool IsRetryableHttpStatus(long status);

// Seconds to wait from a Retry-After value: delta-seconds ("120") or an
// HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", also the RFC 850 and asctime
// forms), relative to `now`; a date in the past gives 0. nullopt when the
// value is neither.
std::optional<double> ParseRetryAfter(const std::string& value, std::chrono::system_clock::time_point now);

// The full-jitter back-off before retry number `retry` (1 = the first retry),
// for a uniform sample `unit_random` in [0, 1).
double BackoffDelay(int retry, const RetryPolicy& policy, double unit_random);

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

// Sends `request` until a reply parses or the policy gives up. On success the
// response carries attempts, latency_s (all attempts and waits) and raw_json.
// On failure the Status is the last attempt's (kUnavailable, kProtocol), or
// kInvalidInput for a refused request, or kCancelled; its message says how
// many attempts were made.
Result<ChatResponse> PostWithRetries(HttpTransport& transport, const HttpRequest& request, const RetryPolicy& policy,
                                     const CancelToken& cancel, const Endpoint& endpoint, const ReplyParser& parse);

}  // namespace anvil::llm
