// MakeProvider: the Provider a loaded LlmConfig describes.
//
// The one place that maps ProviderKind to a client class, so the agent loop
// and the CLI never name a client. Ownership: the caller owns the provider;
// the transport is shared (CurlTransport when none is given — tests pass a
// scripted one).
#pragma once

#include <memory>

#include "agent/llm/chat.h"
#include "agent/llm/http_transport.h"
#include "agent/llm/llm_config.h"

namespace anvil::llm {

std::unique_ptr<Provider> MakeProvider(const LlmConfig& config, std::shared_ptr<HttpTransport> transport = nullptr);

}  // namespace anvil::llm
