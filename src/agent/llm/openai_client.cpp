// The OpenAI chat-completions wire format (see openai_client.h).
#include "agent/llm/openai_client.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <fmt/format.h>

#include "agent/llm/endpoint_call.h"
#include "agent/llm/reply_json.h"

namespace anvil::llm {

OpenAiClient::OpenAiClient(LlmConfig config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {}

TokenLimitField TokenLimitFieldFor(const LlmConfig& config) {
  if (config.token_limit_field) return *config.token_limit_field;
  // The host: after "scheme://", up to the port, path, query or fragment.
  std::string_view url = config.base_url;
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  std::string host(rest.substr(0, rest.find_first_of(":/?#")));
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return host == "api.openai.com" ? TokenLimitField::kMaxCompletionTokens : TokenLimitField::kMaxTokens;
}

nlohmann::json OpenAiRequestJson(const ChatRequest& request, TokenLimitField limit_field) {
  nlohmann::json messages = nlohmann::json::array();
  if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
  for (const Message& m : request.messages) messages.push_back({{"role", RoleName(m.role)}, {"content", m.content}});
  nlohmann::json body = {{"model", request.model},
                         {"messages", std::move(messages)},
                         {TokenLimitFieldName(limit_field), request.max_tokens},
                         {"stream", false}};
  if (request.temperature) body["temperature"] = *request.temperature;
  if (!request.stop.empty()) body["stop"] = request.stop;
  return body;
}

Result<ChatResponse> ParseOpenAiReply(const std::string& body) {
  ANVIL_ASSIGN_OR_RETURN(nlohmann::json reply, ParseReplyObject(body));
  auto choices = reply.find("choices");
  if (choices == reply.end() || !choices->is_array())
    return ProtocolError(fmt::format("'choices' is missing or not an array{}", ServerSaid(reply)));
  if (choices->empty()) return ProtocolError(fmt::format("'choices' is empty{}", ServerSaid(reply)));
  const nlohmann::json& choice = (*choices)[0];
  if (!choice.is_object()) return ProtocolError("'choices[0]' is not an object");
  auto message = choice.find("message");
  if (message == choice.end() || !message->is_object())
    return ProtocolError("'choices[0].message' is missing or not an object");

  ChatResponse response;
  ANVIL_ASSIGN_OR_RETURN(response.finish_reason,
                         StringField(choice, "finish_reason", "choices[0].finish_reason", /*required=*/false));
  Result<std::string> text = StringField(*message, "content", "choices[0].message.content", /*required=*/true);
  if (!text.ok()) {
    // A null content comes with a reason worth showing (content_filter, tool_calls).
    return ProtocolError(fmt::format("{}{}", text.status().message(),
                                     response.finish_reason.empty()
                                         ? ""
                                         : fmt::format(" (finish_reason '{}')", response.finish_reason)));
  }
  response.text = std::move(text).value();
  ANVIL_ASSIGN_OR_RETURN(response.model, StringField(reply, "model", "model", /*required=*/false));
  auto usage = reply.find("usage");
  if (usage != reply.end() && usage->is_object()) {
    ANVIL_ASSIGN_OR_RETURN(response.usage.input_tokens, CountField(*usage, "prompt_tokens", "usage.prompt_tokens"));
    ANVIL_ASSIGN_OR_RETURN(response.usage.output_tokens,
                           CountField(*usage, "completion_tokens", "usage.completion_tokens"));
  }
  return response;
}

Result<ChatResponse> OpenAiClient::Complete(const ChatRequest& request, const CancelToken& cancel) {
  ANVIL_ASSIGN_OR_RETURN(ChatRequest resolved, WithDefaults(request, config_));
  WireRequest wire;
  wire.path = "/chat/completions";
  if (!config_.api_key.empty()) wire.headers.emplace_back("Authorization", "Bearer " + config_.api_key);
  // Invalid UTF-8 in a prompt (a worker's stderr, a compiler log) becomes
  // U+FFFD: a strict dump() would throw, and no server accepts such bytes.
  wire.body = OpenAiRequestJson(resolved, TokenLimitFieldFor(config_))
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return SendChat(config_, *transport_, wire, resolved.model, cancel, ParseOpenAiReply);
}

}  // namespace anvil::llm
