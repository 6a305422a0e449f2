// Loading LlmConfig: file, then environment, then the caller's --llm (see llm_config.h).
#include "agent/llm/llm_config.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace anvil::llm {
namespace {

constexpr const char* kConfigVar = "ANVIL_LLM_CONFIG";
constexpr const char* kLlmVar = "ANVIL_LLM";
constexpr const char* kBaseUrlVar = "ANVIL_LLM_BASE_URL";

struct ProviderDefaults {
  const char* base_url;
  const char* key_env;
};

ProviderDefaults DefaultsOf(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi:
      return {"https://api.openai.com/v1", "OPENAI_API_KEY"};
    case ProviderKind::kAnthropic:
      return {"https://api.anthropic.com", "ANTHROPIC_API_KEY"};
  }
  return {"", ""};
}

Result<ProviderKind> ProviderFromName(const std::string& name, const std::string& where) {
  if (name == "openai") return ProviderKind::kOpenAi;
  if (name == "anthropic") return ProviderKind::kAnthropic;
  return InvalidInput(fmt::format("{}: unknown LLM provider '{}'; expected 'openai' (any OpenAI-compatible "
                                  "endpoint: vLLM, llama.cpp, Ollama, DeepSeek, ...) or 'anthropic'",
                                  where, name));
}

std::string Where(const std::string& origin, const toml::source_region& source) {
  if (source.begin.line == 0) return origin;
  return fmt::format("{}:{}:{}", origin, source.begin.line, source.begin.column);
}

std::string Where(const std::string& origin, const toml::node* node) {
  return node ? Where(origin, node->source()) : origin;
}

// Reads one table's keys into settings, refusing keys it does not know (a
// misspelt "stall_timout_s" must not be silently ignored).
class TableReader {
 public:
  TableReader(const toml::table& table, std::string origin, std::string section)
      : table_(table), origin_(std::move(origin)), section_(std::move(section)) {}

  Status String(const char* key, std::string& out) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return Status::Ok();
    if (!n->is_string()) return Error(n, fmt::format("'{}' must be a string", key));
    out = n->as_string()->get();
    return Status::Ok();
  }

  // A number > 0 (or >= 0 when zero_ok); integers are accepted for doubles.
  Status Number(const char* key, double& out, bool zero_ok = false) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return Status::Ok();
    std::optional<double> v = n->value<double>();
    if (!v || !(n->is_floating_point() || n->is_integer()))
      return Error(n, fmt::format("'{}' must be a number", key));
    if (!std::isfinite(*v) || *v < 0 || (*v == 0 && !zero_ok))
      return Error(n, fmt::format("'{}' must be {} (got {})", key, zero_ok ? ">= 0" : "> 0", *v));
    out = *v;
    return Status::Ok();
  }

  Status Integer(const char* key, int& out, int minimum) {
    known_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return Status::Ok();
    if (!n->is_integer()) return Error(n, fmt::format("'{}' must be an integer", key));
    int64_t v = n->as_integer()->get();
    if (v < minimum || v > 1000000000) return Error(n, fmt::format("'{}' must be >= {} (got {})", key, minimum, v));
    out = static_cast<int>(v);
    return Status::Ok();
  }

  void Section(const char* key) { known_.insert(key); }

  Status RejectUnknown() const {
    for (const auto& entry : table_) {
      const toml::key& key = entry.first;
      if (known_.count(std::string(key.str())) == 0)
        return InvalidInput(fmt::format("{}: unknown key '{}'{}; see docs/llm.md for the keys",
                                        Where(origin_, key.source()), key.str(),
                                        section_.empty() ? "" : " in [" + section_ + "]"));
    }
    return Status::Ok();
  }

  Status Error(const toml::node* node, const std::string& message) const {
    return InvalidInput(fmt::format("{}: {}", Where(origin_, node), message));
  }

 private:
  const toml::table& table_;
  std::string origin_;
  std::string section_;
  std::set<std::string> known_;
};

struct ProviderSection {
  std::optional<std::string> base_url;
  std::optional<std::string> api_key_env;
};

// `anthropic_version` / `token_limit_field` are read when not null (their
// provider's section); elsewhere the keys are unknown.
Status ReadProviderSection(const toml::table& root, const char* name, const std::string& origin,
                           ProviderSection& out, std::string* anthropic_version,
                           std::optional<TokenLimitField>* token_limit_field) {
  const toml::node* n = root.get(name);
  if (!n) return Status::Ok();
  const toml::table* t = n->as_table();
  if (!t) return InvalidInput(fmt::format("{}: [{}] must be a table", Where(origin, n), name));
  TableReader r(*t, origin, name);
  std::string base_url, key_env;
  bool has_url = t->contains("base_url"), has_key = t->contains("api_key_env");
  ANVIL_RETURN_IF_ERROR(r.String("base_url", base_url));
  ANVIL_RETURN_IF_ERROR(r.String("api_key_env", key_env));
  if (anthropic_version) ANVIL_RETURN_IF_ERROR(r.String("version", *anthropic_version));
  if (token_limit_field) {
    std::string field;
    ANVIL_RETURN_IF_ERROR(r.String("token_limit_field", field));
    if (t->contains("token_limit_field")) {
      if (field == TokenLimitFieldName(TokenLimitField::kMaxTokens)) {
        *token_limit_field = TokenLimitField::kMaxTokens;
      } else if (field == TokenLimitFieldName(TokenLimitField::kMaxCompletionTokens)) {
        *token_limit_field = TokenLimitField::kMaxCompletionTokens;
      } else {
        return r.Error(t->get("token_limit_field"),
                       fmt::format("'token_limit_field' must be \"max_tokens\" or \"max_completion_tokens\" (got "
                                   "\"{}\"); leave it out to choose by host (max_completion_tokens for "
                                   "api.openai.com, max_tokens elsewhere)",
                                   field));
      }
    }
  }
  ANVIL_RETURN_IF_ERROR(r.RejectUnknown());
  if (has_url) out.base_url = base_url;
  if (has_key) out.api_key_env = key_env;
  return Status::Ok();
}

Status ReadPrices(const toml::table& root, const std::string& origin, std::map<std::string, Price>& prices) {
  const toml::node* n = root.get("prices");
  if (!n) return Status::Ok();
  const toml::table* t = n->as_table();
  if (!t) return InvalidInput(fmt::format("{}: [prices] must be a table of models", Where(origin, n)));
  for (const auto& [model, entry] : *t) {
    const toml::table* p = entry.as_table();
    std::string section = fmt::format("prices.\"{}\"", model.str());
    if (!p)
      return InvalidInput(fmt::format("{}: [{}] must be a table with input_usd_per_mtok and output_usd_per_mtok",
                                      Where(origin, &entry), section));
    TableReader r(*p, origin, section);
    Price price;
    ANVIL_RETURN_IF_ERROR(r.Number("input_usd_per_mtok", price.input_usd_per_mtok, /*zero_ok=*/true));
    ANVIL_RETURN_IF_ERROR(r.Number("output_usd_per_mtok", price.output_usd_per_mtok, /*zero_ok=*/true));
    ANVIL_RETURN_IF_ERROR(r.RejectUnknown());
    if (!p->contains("input_usd_per_mtok") || !p->contains("output_usd_per_mtok"))
      return InvalidInput(fmt::format("{}: [{}] needs both input_usd_per_mtok and output_usd_per_mtok",
                                      Where(origin, &entry), section));
    prices[std::string(model.str())] = price;
  }
  return Status::Ok();
}

std::string TrimSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

const char* ProviderKindName(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAi:
      return "openai";
    case ProviderKind::kAnthropic:
      return "anthropic";
  }
  return "openai";
}

const char* TokenLimitFieldName(TokenLimitField field) {
  switch (field) {
    case TokenLimitField::kMaxTokens:
      return "max_tokens";
    case TokenLimitField::kMaxCompletionTokens:
      return "max_completion_tokens";
  }
  return "max_tokens";
}

std::optional<Price> LlmConfig::PriceOf(const std::string& model_name) const {
  auto it = prices.find(model_name);
  if (it == prices.end()) return std::nullopt;
  return it->second;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<LlmSpec> ParseLlmSpec(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos || colon + 1 >= spec.size())
    return InvalidInput(fmt::format("LLM '{}' is not PROVIDER:MODEL; use e.g. openai:deepseek-chat or "
                                    "anthropic:claude-sonnet-4-5",
                                    spec));
  ANVIL_ASSIGN_OR_RETURN(ProviderKind kind, ProviderFromName(spec.substr(0, colon), fmt::format("LLM '{}'", spec)));
  return LlmSpec{kind, spec.substr(colon + 1)};
}

Result<LlmConfig> ParseLlmConfig(const std::string& toml_text, const std::string& origin, const EnvLookup& env,
                                 const std::string& llm_spec) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return InvalidInput(fmt::format("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                                    e.description()));
  }

  LlmConfig config;
  config.source = origin;
  TableReader r(root, origin, "");
  std::string provider_name, model;
  ANVIL_RETURN_IF_ERROR(r.String("provider", provider_name));
  ANVIL_RETURN_IF_ERROR(r.String("model", model));
  ANVIL_RETURN_IF_ERROR(r.Integer("max_tokens", config.max_tokens, 1));
  ANVIL_RETURN_IF_ERROR(r.Number("connect_timeout_s", config.connect_timeout_s));
  ANVIL_RETURN_IF_ERROR(r.Number("total_timeout_s", config.total_timeout_s));
  ANVIL_RETURN_IF_ERROR(r.Number("stall_timeout_s", config.stall_timeout_s));
  ANVIL_RETURN_IF_ERROR(r.Integer("max_attempts", config.retry.max_attempts, 1));
  ANVIL_RETURN_IF_ERROR(r.Number("backoff_base_s", config.retry.backoff_base_s, /*zero_ok=*/true));
  ANVIL_RETURN_IF_ERROR(r.Number("backoff_cap_s", config.retry.backoff_cap_s, /*zero_ok=*/true));
  ANVIL_RETURN_IF_ERROR(r.Number("busy_backoff_base_s", config.retry.busy_backoff_base_s, /*zero_ok=*/true));
  ANVIL_RETURN_IF_ERROR(r.Number("busy_backoff_cap_s", config.retry.busy_backoff_cap_s, /*zero_ok=*/true));
  ANVIL_RETURN_IF_ERROR(r.Number("retry_after_cap_s", config.retry.retry_after_cap_s, /*zero_ok=*/true));
  r.Section("openai");
  r.Section("anthropic");
  r.Section("prices");
  ANVIL_RETURN_IF_ERROR(r.RejectUnknown());

  ProviderSection openai, anthropic;
  ANVIL_RETURN_IF_ERROR(ReadProviderSection(root, "openai", origin, openai, nullptr, &config.token_limit_field));
  ANVIL_RETURN_IF_ERROR(
      ReadProviderSection(root, "anthropic", origin, anthropic, &config.anthropic_version, nullptr));
  ANVIL_RETURN_IF_ERROR(ReadPrices(root, origin, config.prices));

  // Provider and model: --llm, else ANVIL_LLM, else the file.
  std::optional<std::string> env_llm = env(kLlmVar);
  if (!llm_spec.empty() || (env_llm && !env_llm->empty())) {
    const std::string& spec = !llm_spec.empty() ? llm_spec : *env_llm;
    Result<LlmSpec> parsed = ParseLlmSpec(spec);
    if (!parsed.ok())
      return parsed.status().Context(llm_spec.empty() ? std::string("$") + kLlmVar : std::string("--llm"));
    config.provider = parsed->provider;
    config.model = parsed->model;
  } else {
    if (!provider_name.empty()) {
      ANVIL_ASSIGN_OR_RETURN(config.provider, ProviderFromName(provider_name, origin + ": provider"));
    }
    config.model = model;
  }
  if (config.model.empty())
    return InvalidInput(fmt::format("no LLM model chosen: set {}=openai:MODEL or {}=anthropic:MODEL (or pass "
                                    "--llm), or `provider` and `model` in {}",
                                    kLlmVar, kLlmVar, origin));

  const ProviderSection& section = config.provider == ProviderKind::kOpenAi ? openai : anthropic;
  ProviderDefaults defaults = DefaultsOf(config.provider);
  config.base_url = section.base_url.value_or(defaults.base_url);
  if (std::optional<std::string> url = env(kBaseUrlVar); url && !url->empty()) config.base_url = *url;
  config.base_url = TrimSlashes(config.base_url);
  if (config.base_url.rfind("http://", 0) != 0 && config.base_url.rfind("https://", 0) != 0)
    return InvalidInput(fmt::format("LLM base URL '{}' must start with http:// or https:// (from {} or base_url "
                                    "in {})",
                                    config.base_url, kBaseUrlVar, origin));

  config.api_key_env = section.api_key_env.value_or(defaults.key_env);
  if (!config.api_key_env.empty()) {
    std::optional<std::string> key = env(config.api_key_env);
    if (!key || key->empty())
      return InvalidInput(fmt::format(
          "{} is not set: export {}=<your {} API key> (the variable is api_key_env in [{}] of {}; set "
          "api_key_env = \"\" there for a local server that needs no key)",
          config.api_key_env, config.api_key_env, ProviderKindName(config.provider),
          ProviderKindName(config.provider), origin));
    config.api_key = *key;
  }
  return config;
}

Result<LlmConfig> LoadLlmConfig(const EnvLookup& env, const std::string& llm_spec) {
  std::string path;
  bool explicit_path = false;
  if (std::optional<std::string> p = env(kConfigVar); p && !p->empty()) {
    path = *p;
    explicit_path = true;
  } else if (std::optional<std::string> home = env("HOME"); home && !home->empty()) {
    path = *home + "/.config/anvil/llm.toml";
  }
  std::string text;
  std::string origin = "(no config file)";
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
      origin = path;
    } else if (explicit_path) {
      return NotFound(fmt::format("{}={}: cannot open that file", kConfigVar, path));
    }
  }
  return ParseLlmConfig(text, origin, env, llm_spec);
}

}  // namespace anvil::llm
