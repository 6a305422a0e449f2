// Shared steps of a chat call (see endpoint_call.h).
#include "agent/llm/endpoint_call.h"

#include <fmt/format.h>

namespace anvil::llm {

Result<ChatRequest> WithDefaults(const ChatRequest& request, const LlmConfig& config) {
  ChatRequest out = request;
  if (out.model.empty()) out.model = config.model;
  if (out.max_tokens <= 0) out.max_tokens = config.max_tokens;
  if (out.model.empty()) return InvalidInput("chat request has no model and the LLM config names none");
  if (out.messages.empty()) return InvalidInput("chat request has no messages");
  return out;
}

Result<ChatResponse> SendChat(const LlmConfig& config, HttpTransport& transport, const WireRequest& wire,
                              const std::string& model, const CancelToken& cancel, const ReplyParser& parse) {
  HttpRequest http;
  http.url = config.base_url + wire.path;
  http.headers = wire.headers;
  http.body = wire.body;
  http.connect_timeout_s = config.connect_timeout_s;
  http.total_timeout_s = config.total_timeout_s;
  http.stall_timeout_s = config.stall_timeout_s;
  Endpoint endpoint{ProviderKindName(config.provider),
                    config.api_key_env.empty() ? std::string("(no key configured: api_key_env is \"\")")
                                               : "$" + config.api_key_env};
  Result<ChatResponse> response = PostWithRetries(transport, http, config.retry, cancel, endpoint, parse);
  if (!response.ok()) return response;
  // Priced by the model asked for; servers often answer with a dated name
  // ("gpt-4o" -> "gpt-4o-2024-08-06"), which is tried second.
  std::optional<Price> price = config.PriceOf(model);
  if (!price) price = config.PriceOf(response->model);
  if (price) response->cost_usd = CostUsd(response->usage, *price);
  return response;
}

}  // namespace anvil::llm
