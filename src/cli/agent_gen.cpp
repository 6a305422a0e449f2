// `anvil gen --llm` (see agent_gen.h).
#include "cli/agent_gen.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"

#if ANVIL_WITH_LLM
#include "agent/conductor.h"
#include "agent/knowledge.h"
#include "agent/llm/llm_config.h"
#include "agent/llm/make_provider.h"
#include "agent/llm_channel.h"
#include "agent/reference_input.h"
#include "agent/session_start.h"
#include "agent/words_input.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "compiler/emit.h"
#include "task/task_file.h"
#include "util/hash.h"
#endif

namespace anvil::cli {

void AddAgentGenOptions(CLI::App& gen, AgentGenArgs& args) {
  args.llm_option = gen.add_option("--llm", args.llm_spec,
                                   "generate with a language model: PROVIDER:MODEL (openai:..., anthropic:...), or "
                                   "alone for $ANVIL_LLM (then put it after the formula or words, or it takes "
                                   "them as its value) (docs/agent.md, docs/llm.md)")
                        ->expected(0, 1);
  gen.add_option("--reference", args.reference,
                 "a PyTorch reference file (KernelBench style: Model, get_inputs, get_init_inputs) instead of a "
                 "formula; needs a language model")
      ->check(CLI::ExistingFile);
  gen.add_option("--rounds", args.rounds, "LLM rounds at most (agent)")->check(CLI::Range(1, 100))->capture_default_str();
  gen.add_option("--parallel", args.parallel, "candidates per round (agent)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  gen.add_option("--max-tokens-total", args.max_tokens_total, "stop when the session used this many tokens (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  gen.add_option("--time-budget", args.time_budget_s, "stop starting rounds after this many seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  gen.add_option("--target-speedup", args.target_speedup,
                 "stop once a correct kernel is this much faster than the faster baseline (0: use every round)")
      ->check(CLI::NonNegativeNumber);
  gen.add_option("--temperature", args.temperature, "sampling temperature (default: the server's)")
      ->check(CLI::Range(0.0, 2.0));
  gen.add_flag("--no-seed", args.no_seed, "do not start from the built-in compiler's kernel (agent)");
  gen.add_flag("--yes,-y", args.yes, "accept a model-written reference without asking (plain words)");
}

bool IsPlainWords(const std::string& text) {
  // A formula's first statement is an assignment: `name = ...` (not `==`).
  static const std::regex kAssignment(R"(^\s*[A-Za-z_]\w*\s*=(?!=))");
  return !std::regex_search(text, kAssignment);
}

bool WantsAgent(const AgentGenArgs& args, const std::string& positional) {
  return args.LlmGiven() || !args.reference.empty() || (!positional.empty() && IsPlainWords(positional));
}

#if !ANVIL_WITH_LLM

int RunAgentGen(const CliConfig&, const AgentGenArgs&, const AgentGenInput&) {
  return ReportError(Unavailable(
      "anvil was built without libcurl, so it cannot call a language model (--llm, plain words, --reference); "
      "run scripts/setup.sh (it installs libcurl's development files) and rebuild"));
}

#else

namespace {

namespace fs = std::filesystem;

bool AskYesNo(const std::string& question) {
  std::cerr << question << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

Result<std::string> WriteFile(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return IoError(path.string() + ": cannot write");
  return path.string();
}

// The task of plain words: the model writes it, the user confirms it.
Result<Task> TaskFromWordsConfirmed(const CliConfig& config, const AgentGenArgs& args, const AgentGenInput& input,
                                    agent::LlmChannel& channel) {
  int attempt = 0;  // the reference writer gets up to three tries: one key per try
  auto complete = [&](const llm::ChatRequest& request) {
    return channel.Call(agent::ExchangeKey{0, attempt++, "reference_writer"}, request);
  };
  ANVIL_ASSIGN_OR_RETURN(agent::WordsTask words, agent::TaskFromWords(input.words, input.target, complete));
  std::cerr << "The model wrote this task for \"" << input.words << "\" (" << words.author << "):\n\n"
            << words.task_text << "\n";
  if (!words.module_source.empty())
    std::cerr << "and this reference module (" << words.module_file_name << "):\n\n" << words.module_source << "\n";
  if (!args.yes) {
    if (!isatty(0) || !isatty(2))
      return InvalidInput(
          "the model-written reference above must be confirmed: run on a terminal, or pass --yes to accept it");
    if (!AskYesNo("use this reference? [y/N] ")) return InvalidInput("the model-written reference was not accepted");
  }
  const fs::path dir = fs::path(config.workspace) / "agent" / "references" /
                       HashOf(words.task_text + words.module_source).substr(0, 12);
  if (!words.module_source.empty())
    ANVIL_RETURN_IF_ERROR(WriteFile(dir / words.module_file_name, words.module_source).status());
  ANVIL_ASSIGN_OR_RETURN(std::string task_path, WriteFile(dir / "task.toml", words.task_text));
  std::cerr << "task written to " << task_path << "\n";
  return LoadTaskFile(task_path);
}

Result<Task> TaskFromReference(const CliConfig& config, const AgentGenArgs& args) {
  const std::string module = fs::absolute(args.reference).string();
  const std::string name = agent::TaskNameForModule(module);
  ANVIL_ASSIGN_OR_RETURN(std::string text, agent::TaskTextFromReferenceModule(module, config.python, name));
  ANVIL_ASSIGN_OR_RETURN(std::string task_path,
                         WriteFile(fs::path(config.workspace) / "agent" / "references" / (name + ".toml"), text));
  std::cerr << "task from " << args.reference << " written to " << task_path << "\n";
  return LoadTaskFile(task_path);
}

std::string KernelHeader(const std::string& comment, const agent::SessionResult& s, const agent::SessionCandidate& c,
                         const CandidateReport& report, const Task& task, const std::string& provider,
                         const std::string& model) {
  std::string device = report.device.is_object() ? report.device.value("name", "") : "";
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{}: generated by anvil gen --llm {}:{}, session {} ({}).", task.name, provider, model,
                              s.session_id,
                              c.action == "seed" ? "the built-in compiler's seed kernel"
                                                 : fmt::format("round {} slot {}, {}", c.round, c.slot, c.action)));
  lines.push_back(fmt::format("Verified by Anvil against {}: correct on all {} correctness cases (evaluation {}){}.",
                              task.formula.empty() ? "the PyTorch reference module" : "PyTorch: " + task.formula,
                              report.cases.size(), c.evaluation_id, device.empty() ? "" : " on " + device));
  if (c.speedup)
    lines.push_back(fmt::format("Timed: {:.2f}x eager PyTorch{}.", *c.speedup,
                                c.speedup_compile ? fmt::format(", {:.2f}x torch.compile", *c.speedup_compile) : ""));
  if (!task.reference_author.empty())
    lines.push_back("The reference was written by a language model (" + task.reference_author + "), not by people.");
  lines.push_back("Replay: anvil session replay " + std::to_string(s.session_id));
  std::string out;
  for (const std::string& l : lines) out += comment + " " + l + "\n";
  return out + "\n";
}

nlohmann::json CandidateJson(const agent::SessionCandidate& c) {
  nlohmann::json j = {{"round", c.round},       {"slot", c.slot},          {"action", c.action},
                      {"outcome", c.outcome},   {"path", c.path},          {"source_hash", c.source_hash},
                      {"verdict", c.verdict},   {"reason", c.reason},      {"evaluation_id", c.evaluation_id},
                      {"candidate_id", c.candidate_id}};
  j["speedup"] = c.speedup ? nlohmann::json(*c.speedup) : nlohmann::json();
  j["speedup_compile"] = c.speedup_compile ? nlohmann::json(*c.speedup_compile) : nlohmann::json();
  return j;
}

int ExitCodeOf(const agent::SessionResult& s) {
  if (s.best >= 0) return kExitOk;
  if (s.status == "failed") return kExitEnvironment;
  return kExitNotCorrect;
}

}  // namespace

int RunAgentGen(const CliConfig& config, const AgentGenArgs& args, const AgentGenInput& input) {
  if (!args.reference.empty() && (input.task || !input.words.empty()))
    return ReportError(InvalidInput("--reference FILE replaces the formula, plain words or --task: give only one"));
  const compiler::Backend* backend = compiler::FindBackend(input.target);
  if (backend == nullptr) return ReportError(InvalidInput("--target " + input.target + ": unknown (cpu, cuda or triton)"));

  auto llm_config = llm::LoadLlmConfig(llm::ProcessEnvironment(), args.llm_spec);
  if (!llm_config.ok()) {
    const bool needs_model = input.input_form == "words" || input.input_form == "reference";
    return ReportError(llm_config.status().Context(
        needs_model ? fmt::format("a {} input needs a language model (set ANVIL_LLM or pass --llm PROVIDER:MODEL)",
                                  input.input_form == "words" ? "plain-words" : "--reference")
                    : "anvil gen --llm"));
  }
  std::unique_ptr<llm::Provider> provider = llm::MakeProvider(*llm_config);
  const std::string provider_name = provider->Name(), model = provider->DefaultModel();

  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  (void)(*store)->MarkAbandonedRuns();
  nlohmann::json run_args = {{"target", input.target}, {"llm", provider_name + ":" + model},
                             {"input_form", input.input_form}, {"threads", config.threads}};
  auto run = (*store)->BeginRun("gen", run_args.dump());
  if (!run.ok()) return ReportError(run.status());
  auto fail_run = [&](const Status& s, const std::string& context) {
    (void)(*store)->FinishRun(*run, "failed");
    return ReportError(context.empty() ? s : s.Context(context));
  };

  auto recorder = agent::ExchangeRecorder::Open(config.StorePath());
  if (!recorder.ok()) return fail_run(recorder.status(), "");
  llm::CancelToken cancel;
  StopSignal stop([&cancel] { cancel.Cancel(); });
  agent::LiveChannel channel(*provider, recorder->get(), cancel);

  Result<Task> task = InvalidInput("no task");
  std::string reference_author;
  if (input.task) {
    task = *input.task;
  } else if (!args.reference.empty()) {
    task = TaskFromReference(config, args);
  } else {
    task = TaskFromWordsConfirmed(config, args, input, channel);
    reference_author = fmt::format("model:{}:{}", provider_name, model);
  }
  if (!task.ok()) return fail_run(task.status(), "");
  const std::string input_form = !args.reference.empty() ? "reference" : input.input_form;

  const bool timed = !task->performance.shapes.empty();
  EvaluatorOptions eval_options = EvaluatorOptionsFrom(config, input.target, timed ? EvalMode::kBench : EvalMode::kVerify);
  eval_options.sanitize_tool.clear();  // feedback comes from the verdicts; re-runs under a sanitizer cost minutes
  ProgressBar bar(config.progress && !config.json);
  Evaluator evaluator(**store, eval_options,
                      [&](const std::string& phase, int done, int total) { bar.Update(task->name, phase, done, total); });

  agent::ConductorOptions options;
  options.rounds = args.rounds;
  options.parallel = args.parallel;
  options.max_total_tokens = args.max_tokens_total;
  options.time_budget_s = args.time_budget_s;
  options.target_speedup = args.target_speedup;
  if (args.temperature >= 0) options.temperature = args.temperature;
  options.seed = !args.no_seed;
  agent::SessionStart start;
  start.run_id = *run;
  start.backend = input.target;
  start.input_form = input_form;
  start.reference_author = reference_author;
  start.provider = provider_name;
  start.model = model;
  start.threads = config.threads;
  start.timed = timed;
  auto session_id = agent::BeginAgentSession(**store, **recorder, *task, options, start);
  if (!session_id.ok()) return fail_run(session_id.status(), "");

  agent::ConductorContext context;
  context.backend = input.target;
  context.workspace = config.workspace;
  context.knowledge_root = agent::DefaultKnowledgeRoot();
  context.include_dir = config.include_dir;
  context.threads = config.threads;
  context.cancel = &cancel;
  context.progress = [&](const std::string& line) {
    bar.Clear();
    std::cerr << "  " << line << std::endl;
  };
  std::cerr << fmt::format("anvil gen --llm {}:{}: {} for {}, session {} ({} rounds, {} per round)\n", provider_name,
                           model, task->name, input.target, *session_id, options.rounds, options.parallel);
  auto result = agent::RunSession(*task, **store, evaluator, channel, *run, *session_id, options, context);
  bar.Clear();
  if (!result.ok()) return fail_run(result.status(), fmt::format("anvil gen --llm, session {}", *session_id));
  (void)(*store)->FinishRun(*run, result->status == "failed" ? "failed"
                                  : result->status == "cancelled" ? "interrupted"
                                                                  : "ok");
  const agent::SessionResult& s = *result;

  std::string kernel_path;
  if (s.best >= 0) {
    const agent::SessionCandidate& best = s.candidates[s.best];
    kernel_path = input.out.empty() ? task->name + backend->extension : input.out;
    std::ofstream out(kernel_path);
    out << KernelHeader(backend->comment, s, best, *s.best_report, *task, provider_name, model) << best.source;
    out.close();
    if (!out) return ReportError(IoError(kernel_path + ": cannot write the kernel"));
  }
  const llm::UsageTotals& u = s.usage;
  std::optional<double> cost;
  if (u.calls > 0 && u.calls_without_price == 0) cost = u.cost_usd;
  if (config.json) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const agent::SessionCandidate& c : s.candidates) candidates.push_back(CandidateJson(c));
    nlohmann::json j = {{"session_id", s.session_id},
                        {"run_id", *run},
                        {"task", task->name},
                        {"target", input.target},
                        {"input_form", input_form},
                        {"provider", provider_name},
                        {"model", model},
                        {"status", s.status},
                        {"stop_reason", s.stop_reason},
                        {"rounds_run", s.rounds_run},
                        {"candidates", candidates},
                        {"tokens", {{"input", u.usage.input_tokens}, {"output", u.usage.output_tokens}}},
                        {"calls", u.calls}};
    j["reference_author"] = task->reference_author.empty() ? nlohmann::json() : nlohmann::json(task->reference_author);
    j["cost_usd"] = cost ? nlohmann::json(*cost) : nlohmann::json();
    j["kernel"] = kernel_path.empty() ? nlohmann::json() : nlohmann::json(kernel_path);
    j["best"] = s.best >= 0 ? CandidateJson(s.candidates[s.best]) : nlohmann::json();
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << fmt::format("session {}: {} ({})\n", s.session_id, s.status, s.stop_reason);
    std::cout << fmt::format("tokens: {} in, {} out over {} calls{}\n", u.usage.input_tokens, u.usage.output_tokens,
                             u.calls, cost ? fmt::format(", ${:.4f}", *cost) : ", cost unknown (no price configured)");
    if (s.best >= 0) {
      const agent::SessionCandidate& b = s.candidates[s.best];
      std::cout << fmt::format("kernel: {} (round {} slot {}, {}; evaluation {}{})\n", kernel_path, b.round, b.slot,
                               b.action, b.evaluation_id,
                               b.speedup ? fmt::format(", {:.2f}x eager", *b.speedup) : "");
    } else {
      std::cout << "no kernel written: no candidate was correct (anvil session show " << s.session_id
                << " has the history)\n";
    }
  }
  return ExitCodeOf(s);
}

#endif  // ANVIL_WITH_LLM

}  // namespace anvil::cli
