// The steps both wire formats share around one chat call: filling a request's
// defaults from the configuration, building the HTTP request with the
// configured timeouts, the retry loop, and pricing the usage.
//
// openai_client and anthropic_client differ only in the path, the headers, the
// body they build and how they read a reply; everything else is here so the
// two cannot drift apart.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/llm/cancel_token.h"
#include "agent/llm/chat.h"
#include "agent/llm/http_transport.h"
#include "agent/llm/llm_config.h"
#include "agent/llm/retry.h"
#include "util/status.h"

namespace anvil::llm {

// `request` with model and max_tokens filled from `config` where left unset.
// kInvalidInput when there are no messages or no model.
Result<ChatRequest> WithDefaults(const ChatRequest& request, const LlmConfig& config);

struct WireRequest {
  std::string path;  // appended to config.base_url: "/chat/completions", "/v1/messages"
  std::vector<std::pair<std::string, std::string>> headers;  // authentication, version
  std::string body;  // JSON
};

// Sends `wire` with retries; on success prices the usage of `model` with
// config.PriceOf. Failures as in Provider::Complete (chat.h).
Result<ChatResponse> SendChat(const LlmConfig& config, HttpTransport& transport, const WireRequest& wire,
                              const std::string& model, const CancelToken& cancel, const ReplyParser& parse);

}  // namespace anvil::llm
