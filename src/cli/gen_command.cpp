// anvil gen: the built-in compiler from the command line. A formula with its
// declarations (or a task file) in; a fused kernel for the target, verified
// on every case and tuned, out (compiler/generate.h does the work).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "cli/agent_gen.h"
#include "cli/commands.h"
#include "cli/evaluator_options.h"
#include "cli/progress.h"
#include "cli/report_format.h"
#include "compiler/generate.h"
#include "formula/parser.h"
#include "task/performance_shapes.h"
#include "task/task_file.h"
#include "util/hash.h"

namespace anvil::cli {
namespace {

struct GenArgs {
  std::string formula;
  std::vector<std::string> inputs;   // "x: f16[B, N]"
  std::vector<std::string> attrs;    // "t: f32 = 0.7"
  std::vector<std::string> outputs;  // names; default: the last assignment
  std::string perf;                  // "R=4096, C=4096"
  std::string task_path;
  std::string name;
  std::string target = "cpu";
  std::string out;
  std::string save_task;
  bool no_tune = false;
  bool no_cache = false;
  bool debug = false;
};

Result<Bindings> ParseBindings(const std::string& text) {
  Bindings b;
  static const std::regex kItem(R"(\s*([A-Za-z_]\w*)\s*=\s*(\d+)\s*)");
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::smatch m;
    if (!std::regex_match(item, m, kItem))
      return InvalidInput(fmt::format("--perf '{}': expected SYMBOL=SIZE, comma separated (e.g. 'R=4096, C=4096')", text));
    b[m[1]] = std::stoll(m[2]);
  }
  return b;
}

// The task a formula and its declarations describe, as task-file text (the
// same checks as a file; `--save-task` keeps it). Case shapes: edge sizes
// (1, 0), odd sizes and long rows; every layout and value distribution.
Result<std::string> SynthesizeTask(const GenArgs& a) {
  static const std::regex kInput(R"(\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z0-9_]+)\s*\[([^\]]*)\]\s*)");
  static const std::regex kAttr(R"(\s*([A-Za-z_]\w*)\s*:\s*([A-Za-z0-9_]+)\s*=\s*(\S+)\s*)");
  if (a.inputs.empty())
    return InvalidInput("anvil gen FORMULA needs its inputs: --input 'x: f32[R, C]' (one per input)");
  toml::table task;
  std::vector<std::string> symbols;  // in order of first appearance
  std::string last_symbol;           // the innermost dim of the longest input
  size_t longest = 0;
  toml::array inputs;
  for (const std::string& spec : a.inputs) {
    std::smatch m;
    if (!std::regex_match(spec, m, kInput))
      return InvalidInput(fmt::format("--input '{}': expected 'NAME: DTYPE[DIMS]', e.g. 'x: f16[B, N]'", spec));
    toml::array shape;
    std::vector<std::string> dims;
    std::stringstream ss(m[3].str());
    std::string d;
    while (std::getline(ss, d, ',')) {
      d.erase(0, d.find_first_not_of(" \t"));
      d.erase(d.find_last_not_of(" \t") + 1);
      if (d.empty()) continue;
      dims.push_back(d);
      if (std::isdigit(static_cast<unsigned char>(d[0]))) {
        shape.push_back(static_cast<int64_t>(std::stoll(d)));
      } else {
        shape.push_back(d);
        if (std::find(symbols.begin(), symbols.end(), d) == symbols.end()) symbols.push_back(d);
      }
    }
    if (dims.size() >= longest && !dims.empty() && !std::isdigit(static_cast<unsigned char>(dims.back()[0]))) {
      longest = dims.size();
      last_symbol = dims.back();
    }
    inputs.push_back(toml::table{{"name", m[1].str()}, {"dtype", m[2].str()}, {"shape", shape}});
  }
  toml::array attrs;
  for (const std::string& spec : a.attrs) {
    std::smatch m;
    if (!std::regex_match(spec, m, kAttr))
      return InvalidInput(fmt::format("--attr '{}': expected 'NAME: DTYPE = VALUE', e.g. 't: f32 = 0.7'", spec));
    toml::table t{{"name", m[1].str()}, {"dtype", m[2].str()}};
    const std::string v = m[3].str();
    if (v == "true" || v == "false")
      t.insert("value", v == "true");
    else if (v.find_first_of(".eEn") != std::string::npos || v == "inf" || v == "-inf")
      t.insert("value", std::stod(v));
    else
      t.insert("value", static_cast<int64_t>(std::stoll(v)));
    attrs.push_back(std::move(t));
  }
  std::vector<std::string> outputs = a.outputs;
  if (outputs.empty()) {
    ANVIL_ASSIGN_OR_RETURN(formula::Program program, formula::Parse(a.formula));
    if (program.statements.empty()) return InvalidInput("the formula assigns nothing; write e.g. 'out = x * 2'");
    outputs.push_back(program.statements.back().target);
  }
  toml::array outs;
  for (const std::string& o : outputs) outs.push_back(toml::table{{"name", o}});
  // Shapes: every symbol but the innermost is "outer".
  auto shape = [&](int64_t first_outer, int64_t other_outer, int64_t last) {
    toml::table b;
    bool first = true;
    for (const std::string& s : symbols) {
      if (s == last_symbol) {
        b.insert(s, last);
      } else {
        b.insert(s, first ? first_outer : other_outer);
        first = false;
      }
    }
    return b;
  };
  // An empty row is an error for max-like reductions in PyTorch: no C = 0 case then.
  static const std::regex kMaxLike(R"(\b(amax|amin|max|min|softmax|log_softmax|logsumexp|argmax|argmin)\s*\()");
  const bool empty_rows_defined = !std::regex_search(a.formula, kMaxLike);
  toml::array shapes{shape(1, 1, 1), shape(0, 2, 8), shape(7, 2, 1000), shape(13, 3, 257), shape(2, 2, 20000),
                     shape(64, 2, 4096)};
  if (empty_rows_defined) shapes.push_back(shape(3, 2, 0));
  toml::array perf;
  if (!a.perf.empty()) {
    ANVIL_ASSIGN_OR_RETURN(Bindings b, ParseBindings(a.perf));
    toml::table t;
    for (const auto& [k, v] : b) t.insert(k, v);
    perf.push_back(t);
  } else {
    const int outer = static_cast<int>(symbols.size()) - (last_symbol.empty() ? 0 : 1);
    const int64_t each = outer <= 1 ? 4096 : outer == 2 ? 64 : 16;
    perf.push_back(shape(each, each, 4096));
  }
  std::string name = a.name;
  if (name.empty()) name = "gen_" + HashOf(a.formula + fmt::format("{}", fmt::join(a.inputs, ";"))).substr(0, 8);
  task.insert("name", name);
  task.insert("description", "generated by anvil gen from a formula");
  task.insert("formula", a.formula);
  task.insert("inputs", inputs);
  if (!attrs.empty()) task.insert("attrs", attrs);
  task.insert("outputs", outs);
  task.insert("correctness", toml::table{{"shapes", shapes},
                                         {"layouts", toml::array{"contiguous", "transposed", "strided", "broadcast"}},
                                         {"distributions", toml::array{"normal", "uniform", "heavy", "special"}},
                                         {"seeds", toml::array{1, 2}}});
  task.insert("performance", toml::table{{"shapes", perf}});
  std::stringstream out;
  out << task << "\n";
  return out.str();
}

Result<std::string> WithPerformanceShape(const std::string& path, const std::string& perf) {
  ANVIL_ASSIGN_OR_RETURN(Bindings b, ParseBindings(perf));
  return WithPerformanceShapes(path, {b});
}

int RunGen(const CliConfig& config, const GenArgs& args, const AgentGenArgs& agent) {
  const bool use_agent = WantsAgent(agent, args.formula);
  // Plain words and --reference: the agent builds the task (with a model's help).
  if (use_agent && args.task_path.empty() && (!agent.reference.empty() || !args.formula.empty()) &&
      (!agent.reference.empty() || IsPlainWords(args.formula)))
    return RunAgentGen(config, agent,
                       {std::nullopt, agent.reference.empty() ? "words" : "reference", args.formula, args.target,
                        args.out});
  if (args.formula.empty() == args.task_path.empty())
    return ReportError(InvalidInput("anvil gen takes a formula or --task FILE (one of the two)"));
  Result<Task> task = InvalidInput("no task");
  std::string task_text;
  if (!args.task_path.empty() && !args.perf.empty()) {
    // The task file with its performance shapes replaced (the worker reads the task's text, so the text changes).
    auto text = WithPerformanceShape(args.task_path, args.perf);
    if (!text.ok()) return ReportError(text.status());
    task = ParseTask(*text, args.task_path);
    if (task.ok()) task->source_path = args.task_path;
  } else if (!args.task_path.empty()) {
    task = LoadTaskFile(args.task_path);
  } else {
    auto text = SynthesizeTask(args);
    if (!text.ok()) return ReportError(text.status());
    task_text = *text;
    task = ParseTask(task_text, "<anvil gen>");
    if (task.ok() && !args.save_task.empty()) {
      std::ofstream out(args.save_task);
      out << task_text;
      if (!out) return ReportError(IoError(args.save_task + ": cannot write the task file"));
    }
  }
  if (!task.ok()) return ReportError(task.status());
  if (use_agent)
    return RunAgentGen(config, agent, {*task, args.task_path.empty() ? "formula" : "task", "", args.target, args.out});
  const compiler::Backend* backend = compiler::FindBackend(args.target);
  if (backend == nullptr) return ReportError(InvalidInput("--target " + args.target + ": unknown (cpu, cuda or triton)"));

  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  (void)(*store)->MarkAbandonedRuns();
  nlohmann::json run_args = {{"target", args.target}, {"threads", config.threads}};
  if (!args.task_path.empty()) run_args["task"] = args.task_path;
  else run_args["formula"] = args.formula;
  auto run = (*store)->BeginRun("gen", run_args.dump());
  if (!run.ok()) return ReportError(run.status());

  // gen does not re-run failures under compute-sanitizer: a wrong generated kernel is the compiler's bug.
  EvaluatorOptions options = EvaluatorOptionsFrom(
      config, args.target, task->performance.shapes.empty() ? EvalMode::kVerify : EvalMode::kBench);
  options.sanitize_tool.clear();

  const bool human = !config.json;
  ProgressBar bar(config.progress);
  std::string label = task->name;
  Evaluator evaluator(**store, options,
                      [&](const std::string& phase, int done, int total) { bar.Update(label, phase, done, total); });
  compiler::GenerateOptions gen;
  gen.target = args.target;
  gen.work_dir = config.workspace + "/gen";
  gen.tune = !args.no_tune;
  gen.use_cache = !args.no_cache;
  gen.threads = config.threads;
  gen.include_dir = config.include_dir;
  nlohmann::json log = nlohmann::json::array();
  gen.log = [&](const std::string& line) {
    bar.Clear();
    log.push_back(line);
    if (human) std::cerr << "  " << line << std::endl;
  };
  if (args.debug)
    gen.dump = [&](const std::string& pass, const std::string& text) {
      std::cerr << "--- after " << pass << " ---\n" << text;
    };
  if (human) std::cerr << fmt::format("anvil gen: {} for {}\n", task->name, args.target);
  auto result = compiler::Generate(*task, **store, evaluator, *run, gen);
  bar.Clear();
  if (!result.ok()) {
    (void)(*store)->FinishRun(*run, "failed");
    return ReportError(result.status().Context("anvil gen " + task->name));
  }
  (void)(*store)->FinishRun(*run, "ok");
  const compiler::GenerateResult& g = *result;
  std::string out_path = args.out.empty() ? task->name + backend->extension : args.out;
  if (g.best >= 0) {
    std::ofstream out(out_path);
    out << g.source;
    if (!out) return ReportError(IoError(out_path + ": cannot write the kernel"));
  }
  const compiler::TriedConfig& shown = g.best >= 0 ? g.tried[g.best] : g.tried.back();
  if (config.json) {
    nlohmann::json tried = nlohmann::json::array();
    for (const compiler::TriedConfig& t : g.tried)
      tried.push_back({{"params", t.params}, {"source", t.path}, {"verdict", VerdictName(t.report.verdict)},
                       {"score_ns", t.score_ns}, {"evaluation_id", t.report.evaluation_id}});
    nlohmann::json j = {{"task", task->name},        {"target", args.target},   {"plan", g.plans.front().Dump()},
                        {"kernel_key", g.kernel_key}, {"from_cache", g.from_cache}, {"configurations", tried},
                        {"log", log},                 {"run_id", *run}};
    // The stored evaluation the kernel was written from without evaluating anything; null when evaluated now.
    j["reused_evaluation"] = g.reused_evaluation != 0 ? nlohmann::json(g.reused_evaluation) : nlohmann::json();
    j["result"] = ReportToJson(shown.report);
    if (g.best >= 0) {
      j["kernel"] = out_path;
      j["params"] = shown.params;
    }
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << "plan (" << task->Variants().front().Label() << "):\n" << g.plans.front().Dump();
    std::cout << FormatReport(shown.report, isatty(1)) << std::endl;
    if (g.best >= 0)
      std::cout << fmt::format("kernel: {} ({}{})\n", out_path, compiler::ParamsToString(shown.params),
                               g.reused_evaluation != 0 ? "; " + compiler::ReuseNote(g)
                               : g.from_cache           ? ", from the tuning cache"
                                                        : "");
    else
      std::cout << "no kernel written: the generated kernel is not correct (a bug in the built-in compiler; "
                   "its source is "
                << shown.path << ")\n";
  }
  return g.best >= 0 ? kExitOk : kExitNotCorrect;
}

}  // namespace

void AddGenCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  auto args = std::make_shared<GenArgs>();
  auto agent = std::make_shared<AgentGenArgs>();
  CLI::App* cmd = app.add_subcommand("gen", "Generate a fused kernel from a formula with the built-in compiler, "
                                            "verify it on every case, tune it and write it out");
  cmd->add_option("formula", args->formula,
                  "the formula, PyTorch names (docs/formula.md), e.g. 'out = x * sigmoid(x)'; or plain words "
                  "('row-wise softmax with temperature t'): a language model writes the task (docs/agent.md)");
  cmd->add_option("--input,-i", args->inputs, "an input: 'NAME: DTYPE[DIMS]', e.g. 'x: f16[B, N]' (repeat per input)");
  cmd->add_option("--attr,-a", args->attrs, "a scalar attribute: 'NAME: DTYPE = VALUE', e.g. 't: f32 = 0.7'");
  cmd->add_option("--output", args->outputs, "output names (default: the formula's last assignment)");
  cmd->add_option("--perf", args->perf,
                  "performance shape, e.g. 'R=4096, C=4096' (default: the task's, or 4096 rows of 4096)");
  cmd->add_option("--task,-t", args->task_path, "a task file instead of a formula")->check(CLI::ExistingFile);
  cmd->add_option("--name", args->name, "the kernel's name (default: from the task, or gen_<hash>)");
  cmd->add_option("--target", args->target, "cpu (C++), cuda (CUDA C++) or triton")
      ->check(CLI::IsMember({"cpu", "cuda", "triton"}))
      ->capture_default_str();
  cmd->add_option("--out,-o", args->out, "where to write the kernel (default: ./NAME.cpp|.cu|.py)");
  cmd->add_option("--save-task", args->save_task, "also write the task file built from the formula");
  cmd->add_flag("--no-tune", args->no_tune, "measure only the default configuration");
  cmd->add_flag("--no-cache", args->no_cache,
                "ignore and do not update the tuning cache: tune, verify and time again even when a stored "
                "evaluation of the same kernel exists");
  cmd->add_flag("--debug", args->debug, "print the plan after each lowering pass (stderr)");
  AddAgentGenOptions(*cmd, *agent);
  cmd->footer(
      "Examples:\n"
      "  anvil gen 'out = softmax(x / t, -1)' --input 'x: f32[R, C]' --attr 't: f32 = 0.7' --target cpu\n"
      "  anvil gen 'out = x * sigmoid(1.702 * x) * y' -i 'x: f16[B, N]' -i 'y: f16[B, N]' --target cuda\n"
      "  anvil gen --task tasks/fused/rmsnorm_residual.toml --target triton\n"
      "  anvil gen --task tasks/fused/swiglu.toml --target cuda --llm openai:deepseek-chat --rounds 6 --parallel 4\n"
      "  anvil gen 'row-wise softmax with temperature t' --target triton --llm   (model from $ANVIL_LLM)\n"
      "Exit code 0: a correct kernel was written; 1: the generated kernel was not correct (nothing written);\n"
      "2: bad input or a formula the compiler cannot lower (the message says why); 3: environment.");
  cmd->callback([&config, args, agent, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunGen(config, *args, *agent);
  });
}

}  // namespace anvil::cli
