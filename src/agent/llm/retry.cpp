// The retry loop and its pieces (see retry.h for the policy).
#include "agent/llm/retry.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace anvil::llm {
namespace {

using Clock = std::chrono::steady_clock;

double UnitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool IsSuccess(long status) { return status >= 200 && status < 300; }

// The server's requested wait for a retryable reply, if it gave one.
std::optional<double> ServerWait(const HttpResponse& response) {
  std::string ms = response.Header("retry-after-ms");
  if (!ms.empty()) {
    char* end = nullptr;
    double v = std::strtod(ms.c_str(), &end);
    if (end && *end == '\0' && v >= 0 && std::isfinite(v)) return v / 1000.0;
  }
  std::string value = response.Header("retry-after");
  if (value.empty()) return std::nullopt;
  return ParseRetryAfter(value, std::chrono::system_clock::now());
}

std::string RefusalHint(long status, const Endpoint& endpoint) {
  if (status == 401 || status == 403)
    return fmt::format(" (check the API key in {} and that it may use this model)", endpoint.key_hint);
  if (status == 404) return " (check base_url / ANVIL_LLM_BASE_URL and the model name)";
  return "";
}

}  // namespace

bool IsRetryableHttpStatus(long status) { return status == 408 || status == 429 || (status >= 500 && status < 600); }

bool IsPermanentRateLimit(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto error = j.find("error");
  if (error == j.end() || !error->is_object()) return false;
  for (const char* field : {"code", "type"}) {
    auto v = error->find(field);
    if (v != error->end() && v->is_string() && v->get<std::string>() == "insufficient_quota") return true;
  }
  return false;
}

std::optional<double> ParseRetryAfter(const std::string& value, std::chrono::system_clock::time_point now) {
  if (value.empty()) return std::nullopt;
  // delta-seconds; a fraction ("1.5") is not in the RFC but costs nothing to accept.
  if (std::isdigit(static_cast<unsigned char>(value[0]))) {
    char* end = nullptr;
    double seconds = std::strtod(value.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(seconds)) return seconds;
  }
  // HTTP-date: IMF-fixdate, then the two obsolete forms RFC 9110 still asks
  // recipients to accept.
  static const char* const kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                         "%a %b %d %H:%M:%S %Y"};
  for (const char* format : kFormats) {
    struct tm tm = {};
    const char* end = strptime(value.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    time_t when = timegm(&tm);
    double delta = std::chrono::duration<double>(std::chrono::system_clock::from_time_t(when) - now).count();
    return std::max(0.0, delta);
  }
  return std::nullopt;
}

double BackoffDelay(int retry, RetryCause cause, const RetryPolicy& policy, double unit_random) {
  const bool busy = cause == RetryCause::kBusy;
  const double base = busy ? policy.busy_backoff_base_s : policy.backoff_base_s;
  const double cap = busy ? policy.busy_backoff_cap_s : policy.backoff_cap_s;
  const double ceiling = std::min(cap, base * std::ldexp(1.0, std::clamp(retry, 1, 60) - 1));
  return ceiling / 2 + ceiling / 2 * unit_random;
}

std::string ServerErrorMessage(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto error = j.find("error");
    if (error != j.end()) {
      if (error->is_string()) return error->get<std::string>();
      if (error->is_object()) {
        auto message = error->find("message");
        if (message != error->end() && message->is_string()) {
          auto type = error->find("type");
          if (type != error->end() && type->is_string() && !type->get<std::string>().empty())
            return fmt::format("{} ({})", message->get<std::string>(), type->get<std::string>());
          return message->get<std::string>();
        }
      }
    }
    auto message = j.find("message");
    if (message != j.end() && message->is_string()) return message->get<std::string>();
  }
  constexpr size_t kMax = 500;
  if (body.empty()) return "(empty body)";
  return body.size() <= kMax ? body : body.substr(0, kMax) + "...";
}

Result<ChatResponse> PostWithRetries(HttpTransport& transport, const HttpRequest& request, const RetryPolicy& policy,
                                     const CancelToken& cancel, const Endpoint& endpoint, const ReplyParser& parse,
                                     const RetrySleeper& sleep) {
  const Clock::time_point start = Clock::now();
  const int max_attempts = std::max(1, policy.max_attempts);
  const std::string& who = endpoint.provider;
  Status last_error;
  bool malformed_before = false;
  bool timed_out_after_sending_before = false;
  std::string gave_up_hint;
  int attempt = 0;
  while (attempt < max_attempts) {
    ++attempt;
    if (cancel.cancelled()) return Cancelled(fmt::format("{}: cancelled", who));
    PostFailure failure;
    Result<HttpResponse> sent = transport.Post(request, cancel, &failure);
    std::optional<double> server_wait;
    RetryCause cause = RetryCause::kTransport;
    if (!sent.ok()) {
      if (sent.status().code() != ErrorCode::kUnavailable) return sent.status().Context(who);
      last_error = sent.status();
      if (failure.timed_out_after_sending) {
        // The server had the request and was still working: a second try may
        // meet a less busy server, a third would most likely pay again for
        // the same timeout.
        if (timed_out_after_sending_before) {
          gave_up_hint =
              " (a request that timed out after it was sent is retried once; for long generations raise "
              "total_timeout_s and stall_timeout_s in the LLM config)";
          break;
        }
        timed_out_after_sending_before = true;
      }
    } else if (IsSuccess(sent->status)) {
      Result<ChatResponse> parsed = parse(sent->body);
      if (parsed.ok()) {
        ChatResponse response = std::move(parsed).value();
        response.attempts = attempt;
        response.latency_s = std::chrono::duration<double>(Clock::now() - start).count();
        response.raw_json = std::move(sent->body);
        return response;
      }
      last_error = ProtocolError(fmt::format("HTTP {} reply from {} is not a valid reply: {}", sent->status,
                                             request.url, parsed.status().message()));
      if (malformed_before) break;
      malformed_before = true;
    } else if (sent->status == 429 && IsPermanentRateLimit(sent->body)) {
      return InvalidInput(fmt::format("{}: {} refused the request with HTTP 429: {} (the account behind {} has no "
                                      "quota or credit left; waiting will not help: check its plan and billing)",
                                      who, request.url, ServerErrorMessage(sent->body), endpoint.key_hint));
    } else if (IsRetryableHttpStatus(sent->status)) {
      last_error = Unavailable(fmt::format("{} answered HTTP {}: {}", request.url, sent->status,
                                           ServerErrorMessage(sent->body)));
      server_wait = ServerWait(*sent);
      cause = RetryCause::kBusy;
    } else {
      return InvalidInput(fmt::format("{}: {} refused the request with HTTP {}: {}{}", who, request.url,
                                      sent->status, ServerErrorMessage(sent->body), RefusalHint(sent->status, endpoint)));
    }
    if (attempt == max_attempts) break;
    double wait = server_wait ? std::min(*server_wait, policy.retry_after_cap_s)
                              : BackoffDelay(attempt, cause, policy, UnitRandom());
    const bool cancelled = sleep ? sleep(wait) : cancel.WaitFor(wait);
    if (cancelled) return Cancelled(fmt::format("{}: cancelled while waiting to retry", who));
  }
  return last_error.Context(
      fmt::format("{}: gave up after {} attempt{}{}", who, attempt, attempt == 1 ? "" : "s", gave_up_hint));
}

}  // namespace anvil::llm
