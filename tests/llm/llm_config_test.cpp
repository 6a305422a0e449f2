// LlmConfig: defaults, the file, environment overrides, and the errors a user
// sees for a missing key, an unknown provider, no model, a misspelt key.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "agent/llm/llm_config.h"

namespace anvil::llm {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(LlmConfigTest, EnvironmentAloneGivesDocumentedDefaults) {
  Result<LlmConfig> c = ParseLlmConfig("", "(no config file)",
                                       Env({{"ANVIL_LLM", "openai:deepseek-chat"}, {"OPENAI_API_KEY", "sk-1"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, ProviderKind::kOpenAi);
  EXPECT_EQ(c->model, "deepseek-chat");
  EXPECT_EQ(c->base_url, "https://api.openai.com/v1");
  EXPECT_EQ(c->api_key_env, "OPENAI_API_KEY");
  EXPECT_EQ(c->api_key, "sk-1");
  EXPECT_EQ(c->max_tokens, 8192);
  EXPECT_EQ(c->connect_timeout_s, 10);
  EXPECT_EQ(c->total_timeout_s, 600);
  EXPECT_EQ(c->stall_timeout_s, 600);  // not below the total: no byte arrives before a whole reply
  EXPECT_GE(c->stall_timeout_s, c->total_timeout_s);
  EXPECT_EQ(c->retry.max_attempts, 4);
  EXPECT_EQ(c->retry.backoff_base_s, 1.0);
  EXPECT_EQ(c->retry.backoff_cap_s, 30.0);
  EXPECT_EQ(c->retry.busy_backoff_base_s, 4.0);
  EXPECT_EQ(c->retry.busy_backoff_cap_s, 60.0);
  EXPECT_EQ(c->retry.retry_after_cap_s, 120.0);
  EXPECT_TRUE(c->prices.empty());

  Result<LlmConfig> a = ParseLlmConfig("", "(no config file)",
                                       Env({{"ANVIL_LLM", "anthropic:claude-x"}, {"ANTHROPIC_API_KEY", "k"}}));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->provider, ProviderKind::kAnthropic);
  EXPECT_EQ(a->base_url, "https://api.anthropic.com");
  EXPECT_EQ(a->anthropic_version, "2023-06-01");
}

TEST(LlmConfigTest, MissingKeyNamesTheVariableToSet) {
  Result<LlmConfig> c = ParseLlmConfig("", "(no config file)", Env({{"ANVIL_LLM", "openai:gpt-4o"}}));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(c.status().message().rfind("OPENAI_API_KEY is not set: export OPENAI_API_KEY=<your openai API key>", 0), 0u)
      << c.status().message();

  // An empty variable is as good as unset; the Anthropic variable is named for Anthropic.
  Result<LlmConfig> a =
      ParseLlmConfig("", "(no config file)", Env({{"ANVIL_LLM", "anthropic:claude-x"}, {"ANTHROPIC_API_KEY", ""}}));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message().rfind("ANTHROPIC_API_KEY is not set", 0), 0u) << a.status().message();

  // A configured variable name is the one reported, not the default.
  Result<LlmConfig> d = ParseLlmConfig("[openai]\napi_key_env = \"DEEPSEEK_API_KEY\"\n", "llm.toml",
                                       Env({{"ANVIL_LLM", "openai:deepseek-chat"}, {"OPENAI_API_KEY", "other"}}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message().rfind("DEEPSEEK_API_KEY is not set", 0), 0u) << d.status().message();
  EXPECT_NE(d.status().message().find("llm.toml"), std::string::npos);
}

TEST(LlmConfigTest, EmptyKeyVariableMeansNoKeyIsNeeded) {
  Result<LlmConfig> c = ParseLlmConfig(
      "provider = \"openai\"\nmodel = \"qwen2.5-coder:7b\"\n[openai]\nbase_url = \"http://localhost:11434/v1/\"\n"
      "api_key_env = \"\"\n",
      "llm.toml", Env({}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->model, "qwen2.5-coder:7b");
  EXPECT_EQ(c->base_url, "http://localhost:11434/v1");  // trailing slash dropped
  EXPECT_EQ(c->api_key, "");
}

TEST(LlmConfigTest, UnknownProviderAndNoModelAreErrors) {
  Result<LlmConfig> g = ParseLlmConfig("", "(no config file)", Env({{"ANVIL_LLM", "gemini:pro"}}));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("$ANVIL_LLM"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("unknown LLM provider 'gemini'"), std::string::npos) << g.status().message();

  Result<LlmConfig> f = ParseLlmConfig("provider = \"mistral\"\nmodel = \"m\"\n", "llm.toml", Env({}));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("unknown LLM provider 'mistral'"), std::string::npos);

  Result<LlmConfig> none = ParseLlmConfig("", "(no config file)", Env({{"OPENAI_API_KEY", "k"}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message().rfind("no LLM model chosen: set ANVIL_LLM=openai:MODEL", 0), 0u)
      << none.status().message();

  Result<LlmConfig> bad = ParseLlmConfig("", "(no config file)", Env({{"ANVIL_LLM", "deepseek-chat"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("is not PROVIDER:MODEL"), std::string::npos) << bad.status().message();
}

TEST(LlmConfigTest, FileValuesAndOverridesInOrder) {
  const std::string file = R"(
provider = "anthropic"
model = "claude-file"
max_tokens = 2048
connect_timeout_s = 3
total_timeout_s = 90.5
stall_timeout_s = 45
max_attempts = 6
backoff_base_s = 0.5
backoff_cap_s = 8
busy_backoff_base_s = 2.5
busy_backoff_cap_s = 40
retry_after_cap_s = 20
[openai]
base_url = "http://gpu-box:8000/v1"
api_key_env = "VLLM_KEY"
[anthropic]
base_url = "https://proxy.example/anthropic"
version = "2024-01-01"
[prices."claude-file"]
input_usd_per_mtok = 3
output_usd_per_mtok = 15.0
)";
  auto env = std::map<std::string, std::string>{{"ANTHROPIC_API_KEY", "a"}, {"VLLM_KEY", "v"}};
  Result<LlmConfig> c = ParseLlmConfig(file, "llm.toml", Env(env));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, ProviderKind::kAnthropic);
  EXPECT_EQ(c->model, "claude-file");
  EXPECT_EQ(c->base_url, "https://proxy.example/anthropic");
  EXPECT_EQ(c->anthropic_version, "2024-01-01");
  EXPECT_EQ(c->max_tokens, 2048);
  EXPECT_EQ(c->connect_timeout_s, 3);
  EXPECT_EQ(c->total_timeout_s, 90.5);
  EXPECT_EQ(c->stall_timeout_s, 45);
  EXPECT_EQ(c->retry.max_attempts, 6);
  EXPECT_EQ(c->retry.backoff_base_s, 0.5);
  EXPECT_EQ(c->retry.backoff_cap_s, 8);
  EXPECT_EQ(c->retry.busy_backoff_base_s, 2.5);
  EXPECT_EQ(c->retry.busy_backoff_cap_s, 40);
  EXPECT_EQ(c->retry.retry_after_cap_s, 20);
  ASSERT_TRUE(c->PriceOf("claude-file").has_value());
  EXPECT_EQ(c->PriceOf("claude-file")->input_usd_per_mtok, 3);
  EXPECT_EQ(c->PriceOf("claude-file")->output_usd_per_mtok, 15);
  EXPECT_FALSE(c->PriceOf("other").has_value());

  // ANVIL_LLM beats the file and switches to that provider's section.
  env["ANVIL_LLM"] = "openai:qwen-coder";
  Result<LlmConfig> e = ParseLlmConfig(file, "llm.toml", Env(env));
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->provider, ProviderKind::kOpenAi);
  EXPECT_EQ(e->model, "qwen-coder");
  EXPECT_EQ(e->base_url, "http://gpu-box:8000/v1");
  EXPECT_EQ(e->api_key, "v");

  // ANVIL_LLM_BASE_URL beats the section; the caller's --llm beats ANVIL_LLM.
  env["ANVIL_LLM_BASE_URL"] = "http://127.0.0.1:9/v1";
  Result<LlmConfig> o = ParseLlmConfig(file, "llm.toml", Env(env), "anthropic:claude-flag");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->provider, ProviderKind::kAnthropic);
  EXPECT_EQ(o->model, "claude-flag");
  EXPECT_EQ(o->base_url, "http://127.0.0.1:9/v1");
}

TEST(LlmConfigTest, MistakesInTheFileArePlaced) {
  auto env = Env({{"ANVIL_LLM", "openai:m"}, {"OPENAI_API_KEY", "k"}});
  Result<LlmConfig> typo = ParseLlmConfig("model = \"m\"\nstall_timout_s = 5\n", "llm.toml", env);
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().message(), "llm.toml:2:1: unknown key 'stall_timout_s'; see docs/llm.md for the keys");

  Result<LlmConfig> section = ParseLlmConfig("[openai]\nbase = \"x\"\n", "llm.toml", env);
  ASSERT_FALSE(section.ok());
  EXPECT_NE(section.status().message().find("unknown key 'base' in [openai]"), std::string::npos)
      << section.status().message();

  Result<LlmConfig> negative = ParseLlmConfig("total_timeout_s = -1\n", "llm.toml", env);
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().message(), "llm.toml:1:19: 'total_timeout_s' must be > 0 (got -1)");

  Result<LlmConfig> attempts = ParseLlmConfig("max_attempts = 0\n", "llm.toml", env);
  ASSERT_FALSE(attempts.ok());
  EXPECT_NE(attempts.status().message().find("'max_attempts' must be >= 1"), std::string::npos);

  Result<LlmConfig> type = ParseLlmConfig("model = 3\n", "llm.toml", Env({{"OPENAI_API_KEY", "k"}}));
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("'model' must be a string"), std::string::npos);

  Result<LlmConfig> half_price = ParseLlmConfig("[prices.m]\ninput_usd_per_mtok = 1\n", "llm.toml", env);
  ASSERT_FALSE(half_price.ok());
  EXPECT_NE(half_price.status().message().find("needs both input_usd_per_mtok and output_usd_per_mtok"),
            std::string::npos);

  Result<LlmConfig> syntax = ParseLlmConfig("model = \n", "llm.toml", env);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message().rfind("llm.toml:1:", 0), 0u) << syntax.status().message();

  Result<LlmConfig> url = ParseLlmConfig("[openai]\nbase_url = \"api.openai.com\"\n", "llm.toml", env);
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.status().message().find("must start with http:// or https://"), std::string::npos);
}

TEST(LlmConfigTest, TokenLimitFieldIsReadFromTheOpenAiSectionAndChecked) {
  auto env = Env({{"ANVIL_LLM", "openai:gpt-5"}, {"OPENAI_API_KEY", "k"}});
  Result<LlmConfig> unset = ParseLlmConfig("", "llm.toml", env);
  ASSERT_TRUE(unset.ok()) << unset.status().message();
  EXPECT_FALSE(unset->token_limit_field.has_value());  // chosen by host when sending

  Result<LlmConfig> completion =
      ParseLlmConfig("[openai]\ntoken_limit_field = \"max_completion_tokens\"\n", "llm.toml", env);
  ASSERT_TRUE(completion.ok()) << completion.status().message();
  EXPECT_EQ(completion->token_limit_field, TokenLimitField::kMaxCompletionTokens);
  Result<LlmConfig> plain = ParseLlmConfig("[openai]\ntoken_limit_field = \"max_tokens\"\n", "llm.toml", env);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->token_limit_field, TokenLimitField::kMaxTokens);

  Result<LlmConfig> bad = ParseLlmConfig("[openai]\ntoken_limit_field = \"max_output_tokens\"\n", "llm.toml", env);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.status().message().rfind("llm.toml:2:21: 'token_limit_field' must be \"max_tokens\" or "
                                         "\"max_completion_tokens\" (got \"max_output_tokens\")",
                                         0),
            0u)
      << bad.status().message();

  // The Anthropic format has one field: the key is unknown there.
  Result<LlmConfig> anthropic = ParseLlmConfig("[anthropic]\ntoken_limit_field = \"max_tokens\"\n", "llm.toml", env);
  ASSERT_FALSE(anthropic.ok());
  EXPECT_NE(anthropic.status().message().find("unknown key 'token_limit_field' in [anthropic]"), std::string::npos)
      << anthropic.status().message();
}

TEST(LlmConfigTest, LoadsTheFileNamedByTheEnvironment) {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/anvil-llm-config-test-" + std::to_string(getpid()) + ".toml";
  {
    std::ofstream out(path);
    out << "provider = \"openai\"\nmodel = \"from-file\"\n";
  }
  Result<LlmConfig> c = LoadLlmConfig(Env({{"ANVIL_LLM_CONFIG", path}, {"OPENAI_API_KEY", "k"}}));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->model, "from-file");
  EXPECT_EQ(c->source, path);
  std::remove(path.c_str());

  Result<LlmConfig> missing = LoadLlmConfig(Env({{"ANVIL_LLM_CONFIG", path}, {"OPENAI_API_KEY", "k"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("ANVIL_LLM_CONFIG=" + path), std::string::npos);

  // No file at the default place is fine: the environment is enough.
  Result<LlmConfig> home = LoadLlmConfig(
      Env({{"HOME", dir + "/no-such-home"}, {"ANVIL_LLM", "openai:m"}, {"OPENAI_API_KEY", "k"}}));
  ASSERT_TRUE(home.ok()) << home.status().message();
  EXPECT_EQ(home->source, "(no config file)");
}

}  // namespace
}  // namespace anvil::llm
