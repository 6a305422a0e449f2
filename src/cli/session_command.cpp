// anvil session list / anvil session show N: what the agent loop did, from
// the store, offline: per session the task, model, budgets, outcome, cost,
// and per round and slot what each coder reply became; --exchanges prints
// every prompt and reply. (`anvil session replay` attaches to the same
// subcommand from its own file.)
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/report_format.h"
#include "store/store.h"

namespace anvil::cli {
namespace {

using nlohmann::json;

struct ListArgs {
  int limit = 20;
};

struct ShowArgs {
  int64_t id = 0;
  bool exchanges = false;
};

// A stored JSON text as JSON (a string when it does not parse, which the
// schema's CHECKs make impossible for rows written through Store).
json ParsedOrText(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

json OptionalNumber(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json SessionJson(const SessionRow& s, const std::string& task_name) {
  return {{"id", s.id},
          {"run", s.run_id},
          {"task_id", s.task_id},
          {"task", task_name},
          {"backend", s.backend},
          {"input_form", s.input_form},
          {"reference_author", s.reference_author},
          {"provider", s.provider},
          {"model", s.model},
          {"options", ParsedOrText(s.options_json)},
          {"status", s.status},
          {"stop_reason", s.stop_reason},
          {"best_evaluation", s.best_evaluation_id == 0 ? json(nullptr) : json(s.best_evaluation_id)},
          {"input_tokens", s.input_tokens},
          {"output_tokens", s.output_tokens},
          {"cost_usd", OptionalNumber(s.cost_usd)},
          {"replay_of", s.replay_of == 0 ? json(nullptr) : json(s.replay_of)},
          {"started_at", s.started_at},
          {"finished_at", s.finished_at.empty() ? json(nullptr) : json(s.finished_at)}};
}

json CandidateJson(const SessionCandidateRecord& c) {
  return {{"round", c.round},
          {"slot", c.slot},
          {"action", c.action},
          {"outcome", c.outcome},
          {"candidate", c.candidate_id == 0 ? json(nullptr) : json(c.candidate_id)},
          {"evaluation", c.evaluation_id == 0 ? json(nullptr) : json(c.evaluation_id)},
          {"source_hash", c.source_hash},
          {"verdict", c.verdict},
          {"reason", c.reason},
          {"speedup", OptionalNumber(c.speedup)},
          {"feedback", c.feedback},
          {"created_at", c.created_at}};
}

json ExchangeJson(const ExchangeRecord& e) {
  return {{"id", e.id},
          {"round", e.round},
          {"slot", e.slot},
          {"role", e.role},
          {"request", ParsedOrText(e.request_json)},
          {"response_text", e.response_text},
          {"error", e.error},
          {"model", e.model},
          {"input_tokens", e.input_tokens},
          {"output_tokens", e.output_tokens},
          {"latency_s", e.latency_s},
          {"attempts", e.attempts},
          {"cost_usd", OptionalNumber(e.cost_usd)},
          {"created_at", e.created_at}};
}

std::string TaskName(const Store& store, int64_t task_id) {
  auto task = store.GetTask(task_id);
  return task.ok() ? task->name : fmt::format("task {}", task_id);
}

std::string Cost(const std::optional<double>& cost) { return cost ? fmt::format("${:.4f}", *cost) : "-"; }

// The first `n` lines of `text`, each indented by `indent`.
std::string FirstLines(const std::string& text, int n, const std::string& indent) {
  std::istringstream in(text);
  std::string out, line;
  int shown = 0, total = 0;
  while (std::getline(in, line)) {
    if (total++ < n) {
      out += (shown++ == 0 ? "" : "\n" + indent) + line;
    }
  }
  if (total > n) out += fmt::format("\n{}... ({} more lines)", indent, total - n);
  return out;
}

int List(const CliConfig& config, const ListArgs& args) {
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  auto sessions = (*store)->QuerySessions(args.limit);
  if (!sessions.ok()) return ReportError(sessions.status());
  if (config.json) {
    json out = json::array();
    for (const SessionRow& s : *sessions) out.push_back(SessionJson(s, TaskName(**store, s.task_id)));
    std::cout << out.dump(2) << std::endl;
    return kExitOk;
  }
  if (sessions->empty()) {
    std::cout << fmt::format("no sessions in {}: a session is recorded by `anvil gen --llm` (an LLM writing the "
                             "kernel).\n",
                             config.StorePath());
    return kExitOk;
  }
  std::cout << fmt::format("{:>4}  {:<19} {:<22} {:<7} {:<9} {:<28} {:<11} {:>5} {:>15} {:>9}\n", "ID", "STARTED",
                           "TASK", "BACKEND", "INPUT", "MODEL", "STATUS", "BEST", "TOKENS IN/OUT", "COST");
  for (const SessionRow& s : *sessions) {
    std::string note;
    if (!s.reference_author.empty()) note += "  reference by model";
    if (s.replay_of != 0) note += fmt::format("  replay of {}", s.replay_of);
    std::cout << fmt::format("{:>4}  {:<19} {:<22} {:<7} {:<9} {:<28} {:<11} {:>5} {:>15} {:>9}{}\n", s.id,
                             s.started_at.substr(0, 19), TaskName(**store, s.task_id), s.backend, s.input_form,
                             s.provider + ":" + s.model, s.status,
                             s.best_evaluation_id == 0 ? std::string("-") : std::to_string(s.best_evaluation_id),
                             fmt::format("{}/{}", s.input_tokens, s.output_tokens), Cost(s.cost_usd), note);
  }
  std::cout << "(anvil session show ID for rounds, verdicts and feedback)\n";
  return kExitOk;
}

// One exchange in full: the prompt's system text and messages, then the reply or the error.
void PrintExchange(const ExchangeRecord& e) {
  std::cout << fmt::format("\n=== exchange {} · round {} slot {} · {} · {} · {} in / {} out · {:.1f} s · {} attempt{}{}\n",
                           e.id, e.round, e.slot, e.role, e.model.empty() ? "-" : e.model, e.input_tokens,
                           e.output_tokens, e.latency_s, e.attempts, e.attempts == 1 ? "" : "s",
                           e.cost_usd ? " · " + Cost(e.cost_usd) : "");
  json request = ParsedOrText(e.request_json);
  if (request.is_object()) {
    if (request.contains("system") && request["system"].is_string() && !request["system"].get<std::string>().empty())
      std::cout << "--- system\n" << request["system"].get<std::string>() << "\n";
    if (request.contains("messages") && request["messages"].is_array())
      for (const json& m : request["messages"]) {
        std::string role = m.value("role", "?");
        std::string content = m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>()
                                                                                : m.value("content", json()).dump(2);
        std::cout << "--- " << role << "\n" << content << "\n";
      }
  } else {
    std::cout << "--- request\n" << e.request_json << "\n";
  }
  if (!e.error.empty()) std::cout << "--- error\n" << e.error << "\n";
  if (!e.response_text.empty() || e.error.empty()) std::cout << "--- reply\n" << e.response_text << "\n";
}

int Show(const CliConfig& config, const ShowArgs& args) {
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  auto session = (*store)->GetSession(args.id);
  if (!session.ok()) return ReportError(session.status());
  auto candidates = (*store)->QuerySessionCandidates(args.id);
  if (!candidates.ok()) return ReportError(candidates.status());
  auto exchanges = (*store)->QueryExchanges(args.id);
  if (!exchanges.ok()) return ReportError(exchanges.status());
  const SessionRow& s = *session;
  const std::string task = TaskName(**store, s.task_id);
  std::optional<EvaluationRow> best;
  if (s.best_evaluation_id != 0) {
    auto row = (*store)->GetEvaluation(s.best_evaluation_id);
    if (!row.ok()) return ReportError(row.status());
    best = *row;
  }
  std::optional<double> best_speedup;
  if (best && best->candidate_median_ns && best->eager_median_ns && *best->candidate_median_ns > 0)
    best_speedup = *best->eager_median_ns / *best->candidate_median_ns;

  if (config.json) {
    json out = SessionJson(s, task);
    out["best_speedup"] = OptionalNumber(best_speedup);
    out["best_candidate_path"] = best ? json(best->candidate_path) : json(nullptr);
    out["candidates"] = json::array();
    for (const SessionCandidateRecord& c : *candidates) out["candidates"].push_back(CandidateJson(c));
    out["exchanges"] = json::array();
    for (const ExchangeRecord& e : *exchanges) out["exchanges"].push_back(ExchangeJson(e));
    std::cout << out.dump(2) << std::endl;
    return kExitOk;
  }

  std::cout << fmt::format("session {} · task {} · {} · input: {}{}\n", s.id, task, s.backend, s.input_form,
                           s.replay_of != 0 ? fmt::format(" · replay of session {}", s.replay_of) : "");
  if (!s.reference_author.empty()) {
    // "model:<provider>:<model>" -> "<provider>:<model>"
    const std::string author =
        s.reference_author.rfind("model:", 0) == 0 ? s.reference_author.substr(6) : s.reference_author;
    std::cout << fmt::format("!! reference written by model {} — the kernel is only as right as that reference; "
                             "read it before trusting the result\n",
                             author);
  }
  std::cout << fmt::format("model     {} {}\n", s.provider, s.model);
  std::cout << fmt::format("status    {}{}\n", s.status, s.stop_reason.empty() ? "" : " — " + s.stop_reason);
  std::cout << fmt::format("time      {} → {}\n", s.started_at, s.finished_at.empty() ? "(running)" : s.finished_at);
  std::cout << fmt::format("tokens    {} in / {} out · cost {}\n", s.input_tokens, s.output_tokens,
                           s.cost_usd ? Cost(s.cost_usd) : "unknown");
  if (best) {
    std::cout << fmt::format("best      evaluation {} ({}{}) {}\n", best->id, best->verdict,
                             best_speedup ? fmt::format(", {:.2f}x eager", *best_speedup) : "",
                             best->candidate_path);
  } else {
    std::cout << "best      none: no candidate was correct\n";
  }
  if (s.options_json != "{}" && !s.options_json.empty()) std::cout << fmt::format("options   {}\n", s.options_json);

  int round = -1;
  for (const SessionCandidateRecord& c : *candidates) {
    if (c.round != round) {
      round = c.round;
      std::cout << fmt::format("\nround {}\n", round);
    }
    std::string result = c.outcome == "evaluated" ? c.verdict : c.outcome;
    std::string speedup = c.speedup ? fmt::format("{:.2f}x", *c.speedup) : "";
    std::cout << fmt::format("  slot {:<2} {:<9} {:<13} {:>7}{}\n", c.slot, c.action, result, speedup,
                             c.evaluation_id != 0 ? fmt::format("  evaluation {}", c.evaluation_id) : "");
    const std::string indent(14, ' ');
    if (!c.reason.empty()) std::cout << indent << "reason: " << FirstLines(c.reason, 3, indent + "        ") << "\n";
    if (!c.feedback.empty())
      std::cout << indent << "feedback: " << FirstLines(c.feedback, 4, indent + "          ") << "\n";
  }
  if (candidates->empty()) std::cout << "\n(no coder reply was recorded)\n";

  if (args.exchanges) {
    for (const ExchangeRecord& e : *exchanges) PrintExchange(e);
  } else {
    std::cout << fmt::format("\n{} LLM exchange{} recorded (--exchanges prints every prompt and reply)\n",
                             exchanges->size(), exchanges->size() == 1 ? "" : "s");
  }
  return kExitOk;
}

}  // namespace

void AddSessionCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  CLI::App* session = app.add_subcommand("session", "Agent sessions (anvil gen --llm): list, show");
  session->require_subcommand(1);

  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = session->add_subcommand("list", "Sessions, newest first");
  list->add_option("--limit,-n", list_args->limit, "at most this many sessions (0: all)")->capture_default_str();
  list->add_flag("--json", config.json, "machine-readable JSON on stdout");
  list->callback([&config, list_args, exit_code] {
    ResolveDefaults(config);
    *exit_code = List(config, *list_args);
  });

  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show = session->add_subcommand("show", "One session: header, then per round and slot what became of each reply");
  show->add_option("id", show_args->id, "session id (anvil session list)")->required();
  show->add_flag("--exchanges", show_args->exchanges, "print every prompt and reply in full");
  show->add_flag("--json", config.json, "machine-readable JSON on stdout (everything, exchanges included)");
  show->callback([&config, show_args, exit_code] {
    ResolveDefaults(config);
    *exit_code = Show(config, *show_args);
  });
}

}  // namespace anvil::cli
