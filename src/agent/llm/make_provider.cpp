// ProviderKind -> client (see make_provider.h).
#include "agent/llm/make_provider.h"

#include "agent/llm/anthropic_client.h"
#include "agent/llm/openai_client.h"

namespace anvil::llm {

std::unique_ptr<Provider> MakeProvider(const LlmConfig& config, std::shared_ptr<HttpTransport> transport) {
  if (!transport) transport = std::make_shared<CurlTransport>();
  switch (config.provider) {
    case ProviderKind::kOpenAi:
      return std::make_unique<OpenAiClient>(config, std::move(transport));
    case ProviderKind::kAnthropic:
      return std::make_unique<AnthropicClient>(config, std::move(transport));
  }
  return std::make_unique<OpenAiClient>(config, std::move(transport));
}

}  // namespace anvil::llm
