// HttpTransport: one HTTP POST, the only place the LLM clients touch the network.
//
// It sits behind an interface (as LevelDB's Env does) so the retry logic can be
// tested against scripted outcomes; CurlTransport is the real one (libcurl).
//
// Failure model — what Post returns:
//   * any HTTP reply, whatever its status (429, 500, 401 are replies, not
//     transport errors: the retry policy decides about them);
//   * kUnavailable when no complete reply came: connection refused or reset,
//     DNS failure, connect timeout, total timeout, or a stall (no byte in
//     either direction for stall_timeout_s). These are worth retrying — but
//     a timeout or stall after the whole request was sent (PostFailure) means
//     the server took it and was still working: sending it again costs as
//     much and likely ends the same way, so the retry policy limits those;
//   * kCancelled when the CancelToken was raised (noticed within ~50 ms);
//   * kInvalidInput for a URL libcurl cannot use, kIo for anything else
//     (TLS certificate problems, a reply over the size limit): not retried.
//
// Threading: one CurlTransport may serve Post calls from many threads; each
// call has its own curl handles. libcurl's global state is initialised once,
// thread-safely, on first use.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent/llm/cancel_token.h"
#include "util/status.h"

namespace anvil::llm {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;                                          // sent as application/json
  double connect_timeout_s = 10;  // TCP + TLS handshake
  double total_timeout_s = 600;   // the whole exchange
  // No byte sent or received for this long. Without streaming the server
  // sends nothing until the reply is complete, so this must not be shorter
  // than the longest generation: by default it equals total_timeout_s.
  double stall_timeout_s = 600;
};

// What Post knows about a failed exchange beyond its Status.
struct PostFailure {
  // The whole request was sent, then the total timeout or the stall limit
  // ended the wait for the reply (not a connect timeout, not a reset).
  bool timed_out_after_sending = false;
};

struct HttpResponse {
  long status = 0;
  // Header names lower-cased; the last header block only (after a redirect
  // or "100 Continue" the earlier blocks are dropped).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double seconds = 0;  // wall time of this exchange

  // The value of header `lower_case_name`, "" when absent.
  std::string Header(const std::string& lower_case_name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // `failure` (may be null) is filled when the result is an error.
  virtual Result<HttpResponse> Post(const HttpRequest& request, const CancelToken& cancel, PostFailure* failure) = 0;
};

// The libcurl transport. Replies larger than kMaxReplyBytes are refused (kIo).
class CurlTransport : public HttpTransport {
 public:
  static constexpr size_t kMaxReplyBytes = 64u << 20;
  Result<HttpResponse> Post(const HttpRequest& request, const CancelToken& cancel, PostFailure* failure) override;
};

}  // namespace anvil::llm
