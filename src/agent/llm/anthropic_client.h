// AnthropicClient: the Anthropic Messages API wire format. Non-streaming.
//
//   POST {base_url}/v1/messages
//   x-api-key: <key>   anthropic-version: 2023-06-01 (config: [anthropic] version)
//   {"model", "max_tokens" (required by the API), "system"?, "messages": [...],
//    "temperature"?, "stop_sequences"?}
// Reply: the text blocks of content[] concatenated, stop_reason,
// usage.input_tokens / usage.output_tokens, model. Blocks of other types
// (thinking, tool_use) are skipped; a reply with no text block is an error.
//
// Threading: as OpenAiClient.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/llm/chat.h"
#include "agent/llm/http_transport.h"
#include "agent/llm/llm_config.h"

namespace anvil::llm {

class AnthropicClient : public Provider {
 public:
  // `transport` is shared with other clients; must not be null.
  AnthropicClient(LlmConfig config, std::shared_ptr<HttpTransport> transport);

  Result<ChatResponse> Complete(const ChatRequest& request, const CancelToken& cancel) override;
  std::string Name() const override { return "anthropic"; }
  std::string DefaultModel() const override { return config_.model; }

 private:
  LlmConfig config_;
  std::shared_ptr<HttpTransport> transport_;
};

// The request body for a request whose defaults are filled (WithDefaults).
nlohmann::json AnthropicRequestJson(const ChatRequest& request);
// Reads a 2xx reply; kProtocol naming the missing or malformed field.
Result<ChatResponse> ParseAnthropicReply(const std::string& body);

}  // namespace anvil::llm
