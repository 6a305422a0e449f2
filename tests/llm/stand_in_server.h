// StandInServer: a scripted LLM endpoint on 127.0.0.1 for the client tests.
//
// No real LLM endpoint is reachable from the development and CI machines, so
// the clients are tested over real HTTP against this server, which answers
// with replies written in the real OpenAI and Anthropic wire formats. Each
// test scripts the replies (status, headers, body, an optional delay before
// answering) and afterwards inspects the requests the server received.
//
// Threading: the server runs on its own threads (cpp-httplib's pool); Script
// and Received may be called from the test thread at any time. The destructor
// wakes handlers still sleeping in a delay, so a stalled-connection test does
// not hold up the next one.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace anvil::llm::testing {

struct ScriptedReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  double delay_s = 0;  // sleep before answering (a slow or stalled server)
};

struct ReceivedRequest {
  std::string path;
  httplib::Headers headers;  // case-insensitive multimap
  std::string body;

  std::string Header(const std::string& name) const;
};

class StandInServer {
 public:
  StandInServer();  // listens on an ephemeral port before returning
  ~StandInServer();
  StandInServer(const StandInServer&) = delete;
  StandInServer& operator=(const StandInServer&) = delete;

  // Replies served in order to successive requests; the last one repeats.
  void Script(std::vector<ScriptedReply> replies);
  std::vector<ReceivedRequest> Received() const;
  std::string Url() const;  // "http://127.0.0.1:PORT"
  int port() const { return port_; }

 private:
  void Handle(const httplib::Request& request, httplib::Response& response);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable released_cv_;
  bool released_ = false;
  std::vector<ScriptedReply> script_;
  size_t next_ = 0;
  std::vector<ReceivedRequest> received_;
};

// Reply bodies in the providers' real formats.
std::string OpenAiReplyBody(const std::string& text, long long prompt_tokens, long long completion_tokens,
                            const std::string& finish_reason = "stop");
std::string AnthropicReplyBody(const std::string& text, long long input_tokens, long long output_tokens,
                               const std::string& stop_reason = "end_turn");

}  // namespace anvil::llm::testing
