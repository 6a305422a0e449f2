// `anvil gen --llm`: the agent loop from the command line.
//
// gen_command.cpp registers these options on `anvil gen` and hands over to
// RunAgentGen when the agent should run: --llm was given (with or without
// PROVIDER:MODEL), or the input needs a model (plain words, --reference).
// ANVIL_LLM alone does not turn a formula or task file into an LLM run: the
// built-in compiler stays the default for what it can compile.
//
// The input forms: a task file or formula (built by gen as usual), a PyTorch
// reference file (agent/reference_input.h turns it into a task), or plain
// words (agent/words_input.h: the model writes the task, which is shown and
// must be confirmed, or --yes). The loop is agent/conductor.h; the session,
// its exchanges and candidates go to the store; the best kernel is written
// like built-in gen's, with a header naming the session, the model and how
// it was verified.
//
// Built with ANVIL_WITH_LLM=0 (no libcurl), RunAgentGen says so and how to
// fix it; the options still parse so `anvil gen --help` is the same.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/config.h"
#include "task/task.h"

namespace anvil::cli {

struct AgentGenArgs {
  CLI::Option* llm_option = nullptr;  // --llm, to tell "given without a value" from "not given"
  std::string llm_spec;               // PROVIDER:MODEL; "" = ANVIL_LLM / the config file
  std::string reference;              // --reference FILE
  int rounds = 4;
  int parallel = 1;
  long long max_tokens_total = 0;
  double time_budget_s = 0;
  double target_speedup = 0;
  double temperature = -1;            // < 0: the server's default
  bool no_seed = false;
  bool yes = false;

  bool LlmGiven() const { return llm_option != nullptr && llm_option->count() > 0; }
};

// Adds --llm, --rounds, --parallel, --max-tokens-total, --time-budget,
// --target-speedup, --temperature, --no-seed, --yes, --reference to `gen`.
void AddAgentGenOptions(CLI::App& gen, AgentGenArgs& args);

// True when `text` is plain words rather than a formula: a formula has an
// assignment `name = ...` (the first statement starts with one).
bool IsPlainWords(const std::string& text);

// Whether gen should run the agent for this input (see the top of this file).
bool WantsAgent(const AgentGenArgs& args, const std::string& positional);

struct AgentGenInput {
  std::optional<Task> task;  // a task file or formula, already built; nullopt for words / --reference
  std::string input_form;    // task | formula | reference | words
  std::string words;         // the plain words (input_form "words")
  std::string target = "cpu";
  std::string out;           // --out ("" = ./NAME.<ext>)
};

// Exit codes: 0 a correct kernel was written; 1 the session ended without a
// correct candidate (exhausted, or cancelled before one); 2 bad input or a
// refused model-written reference; 3 environment (worker, store, the
// provider failing every call).
int RunAgentGen(const CliConfig& config, const AgentGenArgs& args, const AgentGenInput& input);

}  // namespace anvil::cli
