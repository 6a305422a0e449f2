// The Anthropic Messages API wire format (see anthropic_client.h).
#include "agent/llm/anthropic_client.h"

#include <fmt/format.h>

#include "agent/llm/endpoint_call.h"
#include "agent/llm/reply_json.h"

namespace anvil::llm {

AnthropicClient::AnthropicClient(LlmConfig config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)), transport_(std::move(transport)) {}

nlohmann::json AnthropicRequestJson(const ChatRequest& request) {
  nlohmann::json messages = nlohmann::json::array();
  for (const Message& m : request.messages) messages.push_back({{"role", RoleName(m.role)}, {"content", m.content}});
  nlohmann::json body = {{"model", request.model}, {"max_tokens", request.max_tokens}, {"messages", std::move(messages)}};
  if (!request.system.empty()) body["system"] = request.system;
  if (request.temperature) body["temperature"] = *request.temperature;
  if (!request.stop.empty()) body["stop_sequences"] = request.stop;
  return body;
}

Result<ChatResponse> ParseAnthropicReply(const std::string& body) {
  ANVIL_ASSIGN_OR_RETURN(nlohmann::json reply, ParseReplyObject(body));
  auto content = reply.find("content");
  if (content == reply.end() || !content->is_array())
    return ProtocolError(fmt::format("'content' is missing or not an array{}", ServerSaid(reply)));

  ChatResponse response;
  bool any_text = false;
  for (size_t i = 0; i < content->size(); ++i) {
    const nlohmann::json& block = (*content)[i];
    std::string path = fmt::format("content[{}]", i);
    if (!block.is_object()) return ProtocolError(fmt::format("'{}' is not an object", path));
    ANVIL_ASSIGN_OR_RETURN(std::string type, StringField(block, "type", path + ".type", /*required=*/true));
    if (type != "text") continue;
    ANVIL_ASSIGN_OR_RETURN(std::string text, StringField(block, "text", path + ".text", /*required=*/true));
    response.text += text;
    any_text = true;
  }
  ANVIL_ASSIGN_OR_RETURN(response.finish_reason, StringField(reply, "stop_reason", "stop_reason", /*required=*/false));
  if (!any_text)
    return ProtocolError(fmt::format("'content' has no text block (stop_reason '{}')", response.finish_reason));
  ANVIL_ASSIGN_OR_RETURN(response.model, StringField(reply, "model", "model", /*required=*/false));
  auto usage = reply.find("usage");
  if (usage != reply.end() && usage->is_object()) {
    ANVIL_ASSIGN_OR_RETURN(response.usage.input_tokens, CountField(*usage, "input_tokens", "usage.input_tokens"));
    ANVIL_ASSIGN_OR_RETURN(response.usage.output_tokens, CountField(*usage, "output_tokens", "usage.output_tokens"));
  }
  return response;
}

Result<ChatResponse> AnthropicClient::Complete(const ChatRequest& request, const CancelToken& cancel) {
  ANVIL_ASSIGN_OR_RETURN(ChatRequest resolved, WithDefaults(request, config_));
  WireRequest wire;
  wire.path = "/v1/messages";
  if (!config_.api_key.empty()) wire.headers.emplace_back("x-api-key", config_.api_key);
  wire.headers.emplace_back("anthropic-version", config_.anthropic_version);
  // Invalid UTF-8 in a prompt (a worker's stderr, a compiler log) becomes
  // U+FFFD: a strict dump() would throw, and no server accepts such bytes.
  wire.body = AnthropicRequestJson(resolved).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return SendChat(config_, *transport_, wire, resolved.model, cancel, ParseAnthropicReply);
}

}  // namespace anvil::llm
