// OpenAiClient: the OpenAI chat-completions wire format, which most servers
// speak — OpenAI itself, vLLM, llama.cpp's server, Ollama (base .../v1),
// DeepSeek, Qwen and GLM endpoints. Non-streaming.
//
//   POST {base_url}/chat/completions
//   Authorization: Bearer <key>            (omitted when api_key_env is "")
//   {"model", "messages": [{"role": "system", ...}, {"role": "user", ...}, ...],
//    "max_tokens" or "max_completion_tokens", "temperature"?, "stop"?, "stream": false}
// Reply: choices[0].message.content, choices[0].finish_reason,
// usage.prompt_tokens / usage.completion_tokens, model.
//
// The reply limit's field differs by server: OpenAI's own API refuses
// "max_tokens" for its o-series and GPT-5 models and wants
// "max_completion_tokens", which older compatible servers do not know. So
// api.openai.com gets "max_completion_tokens", every other host "max_tokens",
// unless LlmConfig::token_limit_field says otherwise.
//
// Threading: Complete may run on many threads at once; the transport must
// allow that (CurlTransport does).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/llm/chat.h"
#include "agent/llm/http_transport.h"
#include "agent/llm/llm_config.h"

namespace anvil::llm {

class OpenAiClient : public Provider {
 public:
  // `transport` is shared with other clients; must not be null.
  OpenAiClient(LlmConfig config, std::shared_ptr<HttpTransport> transport);

  Result<ChatResponse> Complete(const ChatRequest& request, const CancelToken& cancel) override;
  std::string Name() const override { return "openai"; }
  std::string DefaultModel() const override { return config_.model; }

 private:
  LlmConfig config_;
  std::shared_ptr<HttpTransport> transport_;
};

// The field for the reply limit under `config`: token_limit_field when set,
// else max_completion_tokens when base_url's host is api.openai.com, else max_tokens.
TokenLimitField TokenLimitFieldFor(const LlmConfig& config);

// The request body for a request whose defaults are filled (WithDefaults).
nlohmann::json OpenAiRequestJson(const ChatRequest& request, TokenLimitField limit_field);
// Reads a 2xx reply; kProtocol naming the missing or malformed field.
Result<ChatResponse> ParseOpenAiReply(const std::string& body);

}  // namespace anvil::llm
