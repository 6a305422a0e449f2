// The scripted loopback LLM server (see stand_in_server.h).
#include "stand_in_server.h"

#include <chrono>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace anvil::llm::testing {

std::string ReceivedRequest::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

StandInServer::StandInServer() {
  server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("stand-in server: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // listen_after_bind sets is_running once it accepts; the socket is already
  // bound and listening, so connections made before then simply wait.
  for (int i = 0; i < 200 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

StandInServer::~StandInServer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
  }
  released_cv_.notify_all();
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

void StandInServer::Script(std::vector<ScriptedReply> replies) {
  std::lock_guard<std::mutex> lock(mu_);
  script_ = std::move(replies);
  next_ = 0;
}

std::vector<ReceivedRequest> StandInServer::Received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

std::string StandInServer::Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void StandInServer::Handle(const httplib::Request& request, httplib::Response& response) {
  ScriptedReply reply;
  {
    std::unique_lock<std::mutex> lock(mu_);
    received_.push_back({request.path, request.headers, request.body});
    if (script_.empty()) {
      reply = {500, R"({"error":{"message":"stand-in server: no reply scripted"}})", {}, 0};
    } else {
      reply = script_[std::min(next_, script_.size() - 1)];
      ++next_;
    }
    if (reply.delay_s > 0)
      released_cv_.wait_for(lock, std::chrono::duration<double>(reply.delay_s), [this] { return released_; });
  }
  response.status = reply.status;
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  response.set_content(reply.body, "application/json");
}

std::string OpenAiReplyBody(const std::string& text, long long prompt_tokens, long long completion_tokens,
                            const std::string& finish_reason) {
  nlohmann::json j = {
      {"id", "chatcmpl-standin"},
      {"object", "chat.completion"},
      {"created", 1700000000},
      {"model", "stand-in-model"},
      {"choices",
       {{{"index", 0},
         {"message", {{"role", "assistant"}, {"content", text}}},
         {"logprobs", nullptr},
         {"finish_reason", finish_reason}}}},
      {"usage",
       {{"prompt_tokens", prompt_tokens},
        {"completion_tokens", completion_tokens},
        {"total_tokens", prompt_tokens + completion_tokens}}},
  };
  return j.dump();
}

std::string AnthropicReplyBody(const std::string& text, long long input_tokens, long long output_tokens,
                               const std::string& stop_reason) {
  nlohmann::json j = {
      {"id", "msg_standin"},
      {"type", "message"},
      {"role", "assistant"},
      {"model", "stand-in-claude"},
      {"content", {{{"type", "text"}, {"text", text}}}},
      {"stop_reason", stop_reason},
      {"stop_sequence", nullptr},
      {"usage", {{"input_tokens", input_tokens}, {"output_tokens", output_tokens}}},
  };
  return j.dump();
}

}  // namespace anvil::llm::testing
