// LlmConfig: every setting of the LLM providers, in one place, with its
// default, the file key that sets it and the environment variable that
// overrides it. The clients read nothing else; nothing else calls getenv
// for them. docs/llm.md is the user-facing version of this comment.
//
// Sources, later ones winning:
//   1. the defaults below;
//   2. the TOML file $ANVIL_LLM_CONFIG, else ~/.config/anvil/llm.toml (an
//      absent default file is fine; an absent $ANVIL_LLM_CONFIG is an error);
//   3. the environment: ANVIL_LLM="openai:MODEL" or "anthropic:MODEL",
//      ANVIL_LLM_BASE_URL;
//   4. the caller's `llm_spec` (the CLI's --llm), same form as ANVIL_LLM.
// The API key is only ever read from the environment variable named by
// api_key_env (default OPENAI_API_KEY / ANTHROPIC_API_KEY), never from the
// file. No model chosen, an unknown provider, or an unset key variable is an
// error that names what to set — there is no fallback provider or model.
//
// The file (every key optional):
//   provider = "openai"              # or "anthropic"
//   model = "deepseek-chat"
//   max_tokens = 8192                # per reply, when a request does not say
//   connect_timeout_s = 10
//   total_timeout_s = 600
//   stall_timeout_s = 600            # = total: see LlmConfig::stall_timeout_s
//   max_attempts = 4
//   backoff_base_s = 1.0             # after a failed connection or a timeout
//   backoff_cap_s = 30.0
//   busy_backoff_base_s = 4.0        # after HTTP 408/429/5xx without Retry-After
//   busy_backoff_cap_s = 60.0
//   retry_after_cap_s = 120.0
//   [openai]                         # also [anthropic]
//   base_url = "https://api.openai.com/v1"
//   api_key_env = "OPENAI_API_KEY"   # "" = send no key (local servers)
//   token_limit_field = "max_completion_tokens"  # or "max_tokens"; [openai] only;
//                                    # unset = by host (see LlmConfig::token_limit_field)
//   [anthropic]
//   version = "2023-06-01"           # the anthropic-version header
//   [prices."deepseek-chat"]         # USD per million tokens, per model
//   input_usd_per_mtok = 0.27
//   output_usd_per_mtok = 1.10
//
// Thread-safety: a value; share it read-only.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "agent/llm/cost.h"
#include "agent/llm/retry.h"
#include "util/status.h"

namespace anvil::llm {

enum class ProviderKind { kOpenAi, kAnthropic };

// "openai" / "anthropic".
const char* ProviderKindName(ProviderKind kind);

// The request field of the OpenAI format that carries the reply limit.
enum class TokenLimitField { kMaxTokens, kMaxCompletionTokens };

// "max_tokens" / "max_completion_tokens": the field's name on the wire and in the file.
const char* TokenLimitFieldName(TokenLimitField field);

struct LlmConfig {
  ProviderKind provider = ProviderKind::kOpenAi;
  std::string model;     // no default: the user chooses
  // The endpoint's base: POST {base_url}/chat/completions (OpenAI-compatible)
  // or {base_url}/v1/messages (Anthropic). Default per provider:
  // https://api.openai.com/v1, https://api.anthropic.com. Env: ANVIL_LLM_BASE_URL.
  std::string base_url;
  // The variable holding the key (default OPENAI_API_KEY / ANTHROPIC_API_KEY;
  // "" = this endpoint needs no key, e.g. a local llama.cpp or Ollama server).
  std::string api_key_env;
  std::string api_key;   // its value; "" only when api_key_env is ""
  std::string anthropic_version = "2023-06-01";
  // OpenAI format only: which field carries the reply limit. OpenAI's own API
  // refuses "max_tokens" for its o-series and GPT-5 models (HTTP 400, "use
  // 'max_completion_tokens'"), while other compatible servers (vLLM,
  // llama.cpp, Ollama, DeepSeek, ...) may know only "max_tokens". Unset = by
  // the base URL's host: max_completion_tokens for api.openai.com, max_tokens
  // elsewhere (openai_client.h, TokenLimitFieldFor). File: token_limit_field in [openai].
  std::optional<TokenLimitField> token_limit_field;

  int max_tokens = 8192;          // reply limit when a ChatRequest leaves max_tokens at 0
  double connect_timeout_s = 10;
  double total_timeout_s = 600;
  // Requests are not streamed: the server sends no byte until the whole reply
  // is written, so a stall limit shorter than the total limit would end every
  // generation longer than it (and the retry would pay for it again). The
  // default equals total_timeout_s; lower it only for servers known to answer fast.
  double stall_timeout_s = 600;
  // max_attempts 4; back-off 1 s doubling to 30 s after a failed connection,
  // 4 s doubling to 60 s after 408/429/5xx, equal jitter; Retry-After cut to 120 s.
  RetryPolicy retry;

  std::map<std::string, Price> prices;  // per model name; empty = costs unknown
  std::string source;                   // the file read, or "(no config file)": for messages

  // The configured price of `model`, if any.
  std::optional<Price> PriceOf(const std::string& model) const;
};

// Looks up an environment variable; nullopt when unset. Tests pass a map.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// "openai:MODEL" / "anthropic:MODEL" -> provider and model. The model may
// itself contain ':' (e.g. Ollama's "qwen2.5-coder:7b").
struct LlmSpec {
  ProviderKind provider;
  std::string model;
};
Result<LlmSpec> ParseLlmSpec(const std::string& spec);

// Reads the file (see the top of this header), applies the environment and
// `llm_spec`, checks every value and resolves the key. kNotFound when
// $ANVIL_LLM_CONFIG names a missing file; kInvalidInput for everything else
// the user has to fix, with file:line:col or the variable to set.
Result<LlmConfig> LoadLlmConfig(const EnvLookup& env, const std::string& llm_spec = "");

// The same from TOML text already in memory (`origin` names it in messages).
Result<LlmConfig> ParseLlmConfig(const std::string& toml_text, const std::string& origin, const EnvLookup& env,
                                 const std::string& llm_spec = "");

}  // namespace anvil::llm
