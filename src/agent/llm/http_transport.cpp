// CurlTransport: a JSON POST through libcurl's multi interface.
//
// Why the multi interface for a single transfer: curl_easy_perform only lets
// us look at the transfer from its progress callback, which libcurl may call
// as rarely as once a second while the server is silent — too slow for a
// prompt cancel. Driving the transfer ourselves with a 50 ms poll lets us check
// the CancelToken and the stall clock on every turn. The connect and total
// timeouts stay with libcurl (CURLOPT_CONNECTTIMEOUT_MS, CURLOPT_TIMEOUT_MS).
#include "agent/llm/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

#include <fmt/format.h>

namespace anvil::llm {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPollMs = 50;

// curl_global_init is not thread-safe and must run once before any handle.
Status GlobalInit() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) return IoError(fmt::format("libcurl failed to initialise: {}", curl_easy_strerror(rc)));
  return Status::Ok();
}

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const { curl_multi_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

// Removes the easy handle from the multi handle before either is cleaned up
// (libcurl requires that order).
class Attachment {
 public:
  Attachment(CURLM* multi, CURL* easy) : multi_(multi), easy_(easy) { curl_multi_add_handle(multi_, easy_); }
  ~Attachment() { curl_multi_remove_handle(multi_, easy_); }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

 private:
  CURLM* multi_;
  CURL* easy_;
};

struct Sink {
  HttpResponse* response;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  if (sink->response->body.size() + n > CurlTransport::kMaxReplyBytes) {
    sink->too_large = true;
    return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
  }
  sink->response->body.append(data, n);
  return n;
}

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear();  // a new header block (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string::npos) return n;  // the blank line ending the block
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  sink->response->headers.emplace_back(Trim(name), Trim(line.substr(colon + 1)));
  return n;
}

// Bytes moved so far in either direction: the stall clock restarts whenever it grows.
curl_off_t BytesMoved(CURL* easy) {
  curl_off_t up = 0, down = 0;
  curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up);
  curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
  long header_bytes = 0;
  curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &header_bytes);
  return up + down + header_bytes;
}

// Whether every byte of the request body has gone out.
bool RequestSent(CURL* easy, const HttpRequest& request) {
  curl_off_t up = 0;
  curl_easy_getinfo(easy, CURLINFO_SIZE_UPLOAD_T, &up);
  return up >= static_cast<curl_off_t>(request.body.size());
}

Status TransferError(CURLcode rc, const char* errbuf, const HttpRequest& request, bool too_large) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (too_large)
    return IoError(fmt::format("POST {}: the reply exceeds {} MiB; refusing it", request.url,
                               CurlTransport::kMaxReplyBytes >> 20));
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return Unavailable(fmt::format("POST {}: timed out ({}; connect_timeout_s = {}, total_timeout_s = {})",
                                     request.url, detail, request.connect_timeout_s, request.total_timeout_s));
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Unavailable(fmt::format("POST {}: {}", request.url, detail));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidInput(fmt::format("POST {}: {} (check the base URL: base_url in the LLM config or "
                                      "ANVIL_LLM_BASE_URL)",
                                      request.url, detail));
    default:
      return IoError(fmt::format("POST {}: {}", request.url, detail));
  }
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_case_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_case_name) return value;
  return "";
}

Result<HttpResponse> CurlTransport::Post(const HttpRequest& request, const CancelToken& cancel, PostFailure* failure) {
  PostFailure ignored;
  if (failure == nullptr) failure = &ignored;
  *failure = PostFailure{};
  ANVIL_RETURN_IF_ERROR(GlobalInit());
  if (cancel.cancelled()) return Cancelled("cancelled before the request was sent");

  EasyHandle easy(curl_easy_init());
  MultiHandle multi(curl_multi_init());
  if (!easy || !multi) return IoError("libcurl could not allocate a handle");

  HeaderList headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown) {
      (void)headers.release();
      headers.reset(grown);
    }
  };
  add_header("Content-Type: application/json");
  add_header("Accept: application/json");
  add_header("Expect:");  // no "100 Continue" round trip before large prompts
  for (const auto& [name, value] : request.headers) add_header(name + ": " + value);

  HttpResponse response;
  Sink sink{&response};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  // Signals cannot be used for timeouts in a multi-threaded program.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_s * 1000));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout_s * 1000));
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever this libcurl can decode
  curl_easy_setopt(h, CURLOPT_USERAGENT, "anvil");

  Clock::time_point start = Clock::now();
  Clock::time_point last_progress = start;
  curl_off_t moved = 0;
  {
    Attachment attached(multi.get(), h);
    while (true) {
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi.get(), &running);
      if (mc != CURLM_OK) return IoError(fmt::format("POST {}: libcurl: {}", request.url, curl_multi_strerror(mc)));
      if (running == 0) break;
      if (cancel.cancelled()) return Cancelled(fmt::format("POST {}: cancelled", request.url));
      Clock::time_point now = Clock::now();
      curl_off_t now_moved = BytesMoved(h);
      if (now_moved != moved) {
        moved = now_moved;
        last_progress = now;
      } else if (std::chrono::duration<double>(now - last_progress).count() >= request.stall_timeout_s) {
        failure->timed_out_after_sending = RequestSent(h, request);
        return Unavailable(fmt::format("POST {}: stalled: no byte sent or received for {} s (stall_timeout_s)",
                                       request.url, request.stall_timeout_s));
      }
      mc = curl_multi_poll(multi.get(), nullptr, 0, kPollMs, nullptr);
      if (mc != CURLM_OK) return IoError(fmt::format("POST {}: libcurl: {}", request.url, curl_multi_strerror(mc)));
    }
    int queued = 0;
    CURLcode rc = CURLE_OK;
    bool seen = false;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == h) {
        rc = msg->data.result;
        seen = true;
      }
    }
    if (!seen) return InternalError(fmt::format("POST {}: libcurl finished without a result", request.url));
    if (rc != CURLE_OK) {
      // A connect timeout is a timeout too, but then nothing was sent.
      failure->timed_out_after_sending = rc == CURLE_OPERATION_TIMEDOUT && RequestSent(h, request);
      return TransferError(rc, errbuf, request, sink.too_large);
    }
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  response.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return response;
}

}  // namespace anvil::llm
