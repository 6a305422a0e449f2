// Provider-neutral chat types and the Provider interface.
//
// The agent loop speaks only these types; openai_client and anthropic_client
// translate them to and from their wire formats. A conversation is a system
// prompt plus alternating user/assistant turns; the system prompt is a field
// of the request, not a message, because the two wire formats place it
// differently (OpenAI: a first message with role "system"; Anthropic: a
// top-level "system" field).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/llm/cancel_token.h"
#include "util/status.h"

namespace anvil::llm {

enum class Role { kUser, kAssistant };

// "user" / "assistant": the same words in both wire formats.
const char* RoleName(Role role);

struct Message {
  Role role = Role::kUser;
  std::string content;
};

struct ChatRequest {
  std::string model;              // "" = the configured model (LlmConfig::model)
  std::string system;             // "" = no system prompt
  std::vector<Message> messages;  // at least one; the first is normally a user turn
  int max_tokens = 0;             // 0 = the configured default (LlmConfig::max_tokens)
  std::optional<double> temperature;  // unset = the server's default
  std::vector<std::string> stop;      // stop sequences; empty = none
};

struct Usage {
  long long input_tokens = 0;   // prompt tokens billed
  long long output_tokens = 0;  // completion tokens billed

  Usage& operator+=(const Usage& other) {
    input_tokens += other.input_tokens;
    output_tokens += other.output_tokens;
    return *this;
  }
};

struct ChatResponse {
  std::string text;           // the assistant's reply, text blocks concatenated
  std::string finish_reason;  // as the server said it: "stop", "length", "end_turn", "max_tokens", ...
  Usage usage;                // as the server reported it (0 when it reported none)
  std::string model;          // the model that answered, as the server named it
  double latency_s = 0;       // wall time of the whole call: every attempt and back-off wait
  int attempts = 0;           // HTTP requests sent (1 = no retry)
  std::optional<double> cost_usd;  // usage priced by the configured prices; unset without prices
  std::string raw_json;       // the successful reply's body, verbatim (for the session record)
};

// One LLM endpoint. Implementations: OpenAiClient, AnthropicClient
// (make_provider.h builds the configured one).
//
// Threading: Complete may be called from several threads at once (each call
// has its own HTTP transfer). Failure: errors are values — kInvalidInput for
// a request or credentials the server refused (not retried), kUnavailable when
// the server kept failing or timing out after every allowed attempt,
// kProtocol for replies that are not the documented format, kCancelled when
// `cancel` was raised. Messages name the provider, the HTTP status and the
// server's own error text.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual Result<ChatResponse> Complete(const ChatRequest& request, const CancelToken& cancel) = 0;
  // "openai" or "anthropic", and the model calls default to: for logs and the session record.
  virtual std::string Name() const = 0;
  virtual std::string DefaultModel() const = 0;
};

}  // namespace anvil::llm
