// The agent loop (see conductor.h).
#include "agent/conductor.h"

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "agent/code_block.h"
#include "agent/feedback.h"
#include "agent/knowledge.h"
#include "agent/prompts.h"
#include "agent/source_policy.h"
#include "compiler/emit.h"
#include "compiler/generate.h"
#include "task/op_kinds.h"
#include "util/hash.h"

namespace anvil::agent {

nlohmann::json ConductorOptions::ToJson() const {
  nlohmann::json j = {{"rounds", rounds},
                      {"parallel", parallel},
                      {"max_total_tokens", max_total_tokens},
                      {"time_budget_s", time_budget_s},
                      {"target_speedup", target_speedup},
                      {"seed", seed},
                      {"max_tokens_per_call", max_tokens_per_call},
                      {"examples", examples}};
  j["temperature"] = temperature ? nlohmann::json(*temperature) : nlohmann::json();
  return j;
}

Result<ConductorOptions> ConductorOptions::FromJson(const std::string& json) {
  ConductorOptions o;
  if (json.empty()) return o;
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    o.rounds = j.value("rounds", o.rounds);
    o.parallel = j.value("parallel", o.parallel);
    o.max_total_tokens = j.value("max_total_tokens", o.max_total_tokens);
    o.time_budget_s = j.value("time_budget_s", o.time_budget_s);
    o.target_speedup = j.value("target_speedup", o.target_speedup);
    o.seed = j.value("seed", o.seed);
    o.max_tokens_per_call = j.value("max_tokens_per_call", o.max_tokens_per_call);
    o.examples = j.value("examples", o.examples);
    if (j.contains("temperature") && j["temperature"].is_number()) o.temperature = j["temperature"].get<double>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput(std::string("the session's options are not valid JSON: ") + e.what());
  }
  return o;
}

std::optional<double> SpeedupOverBest(const std::optional<double>& eager, const std::optional<double>& compile) {
  if (!eager) return compile;
  if (!compile) return eager;
  return std::min(*eager, *compile);
}

namespace {

// What one slot has been doing, across rounds.
struct SlotState {
  bool has_candidate = false;
  std::string plan;           // the last designer's plan
  std::string last_code;      // the last extracted source ("" when the reply had none)
  std::string last_feedback;
  std::string last_class;     // "correct", a verdict, "no_code", "rejected"
  int same_class = 0;         // how many candidates in a row failed as last_class
  std::vector<FailedAttempt> failures;  // since the last design, for a redesign
};

// What a slot's LLM calls produced in one round.
struct SlotReply {
  std::string action;
  std::string plan;           // a new plan (design / redesign), else ""
  bool replied = false;       // the coder answered
  std::string call_error;     // the first failed call's message
  bool cancelled = false;
  std::string code;           // extracted source, "" when none
  std::string outcome;        // evaluated (pending) | no_code | rejected
  std::string feedback;       // for no_code / rejected
};

class Conductor {
 public:
  Conductor(const Task& task, Store& store, Evaluator& evaluator, LlmChannel& channel, int64_t run_id,
            int64_t session_id, const ConductorOptions& options, const ConductorContext& context)
      : task_(task),
        store_(store),
        evaluator_(evaluator),
        channel_(channel),
        run_id_(run_id),
        options_(options),
        context_(context) {
    result_.session_id = session_id;
  }

  Result<SessionResult> Run();

 private:
  void Log(const std::string& line) const {
    if (context_.progress) context_.progress(line);
  }
  bool Cancelled() const { return context_.cancel != nullptr && context_.cancel->cancelled(); }
  long long TokensUsed() const {
    const llm::UsageTotals t = ledger_.Totals();
    return t.usage.input_tokens + t.usage.output_tokens;
  }
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  Status Prepare();
  Status Seed();
  std::string ActionFor(int round, const SlotState& slot) const;
  SlotReply SlotWork(int round, int slot, const std::string& action, const SlotState& state);
  // SlotWork that never throws: an exception (a library's bug) becomes the
  // slot's call error. On a slot thread it would std::terminate the process;
  // on the main thread it would unwind past the joinable slot threads.
  SlotReply GuardedSlotWork(int round, int slot, const std::string& action, const SlotState& state);
  Result<llm::ChatResponse> Ask(int round, int slot, const std::string& role, const std::string& prompt);
  Status EvaluateReply(int round, int slot, SlotReply& reply, SlotState& state);
  Status Record(const SessionCandidate& c);
  void ConsiderBest(int index, const CandidateReport& report);
  bool TargetReached() const;
  Status Finish(const std::string& status, const std::string& reason);

  const Task& task_;
  Store& store_;
  Evaluator& evaluator_;
  LlmChannel& channel_;
  int64_t run_id_;
  ConductorOptions options_;
  ConductorContext context_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  PromptContext prompts_;
  std::string system_;
  std::string session_dir_;
  std::string extension_;
  llm::UsageLedger ledger_;
  SessionResult result_;
  std::string best_code_, best_feedback_;
  std::optional<double> best_score_;  // speedup over eager of the best; nullopt when untimed
};

Status Conductor::Prepare() {
  const compiler::Backend* backend = compiler::FindBackend(context_.backend);
  if (backend == nullptr) return InvalidInput("unknown backend " + context_.backend + " (cpu, cuda or triton)");
  extension_ = backend->extension;
  session_dir_ = fmt::format("{}/agent/session-{}", context_.workspace, result_.session_id);
  std::error_code ec;
  std::filesystem::create_directories(session_dir_, ec);
  if (ec) return IoError(fmt::format("{}: cannot create the session's folder: {}", session_dir_, ec.message()));

  prompts_.task = &task_;
  prompts_.backend = context_.backend;
  auto device = evaluator_.Device();
  if (!device.ok()) return device.status().Context("starting the worker");
  std::string name = device->is_object() && (*device)["name"].is_string() ? (*device)["name"].get<std::string>() : "";
  if (context_.backend == "cpu")
    prompts_.device = fmt::format("CPU{} with {} threads", name.empty() || name == "cpu" ? "" : " (" + name + ")",
                                  context_.threads);
  else
    prompts_.device = name;
  prompts_.knowledge = LoadKnowledge(context_.knowledge_root, context_.backend);
  if (!prompts_.knowledge.note.empty()) Log("knowledge: " + prompts_.knowledge.note);

  if (options_.examples > 0) {
    KernelSearchQuery query;
    std::vector<std::string> words = OpKinds(task_);
    std::string name_words = task_.name;
    for (char& c : name_words)
      if (c == '_' || c == '-') c = ' ';
    query.text = name_words + " " + fmt::format("{}", fmt::join(words, " "));
    query.backend = context_.backend;
    query.limit = options_.examples;
    auto hits = store_.SearchKernels(query);
    if (!hits.ok()) return hits.status().Context("looking up similar proven kernels");
    for (const KernelHit& h : *hits) {
      std::string title = fmt::format("{} ({}, {})", h.task_name, h.backend, h.dtypes);
      if (h.speedup) title += fmt::format(", {:.2f}x eager", *h.speedup);
      prompts_.examples.push_back({title, h.source});
    }
    if (!hits->empty()) Log(fmt::format("examples: {} similar proven kernels from the store", hits->size()));
  }
  system_ = SystemPrompt(prompts_);
  return Status::Ok();
}

Status Conductor::Seed() {
  compiler::GenerateOptions gen;
  gen.target = context_.backend;
  gen.work_dir = session_dir_ + "/seed";
  gen.tune = false;
  gen.use_cache = true;
  gen.threads = context_.threads;
  gen.include_dir = context_.include_dir;
  Result<compiler::GenerateResult> g = compiler::Generate(task_, store_, evaluator_, run_id_, gen);
  if (!g.ok()) {
    if (g.status().code() == ErrorCode::kUnsupported || g.status().code() == ErrorCode::kInvalidInput) {
      Log("seed: none (the built-in compiler: " + g.status().message() + ")");
      return Status::Ok();
    }
    return g.status().Context("the built-in compiler's seed kernel");
  }
  if (g->tried.empty()) return Status::Ok();
  const compiler::TriedConfig& t = g->best >= 0 ? g->tried[g->best] : g->tried.front();
  SessionCandidate c;
  c.round = 0;
  c.slot = 0;
  c.action = "seed";
  c.outcome = "evaluated";
  c.path = t.path;
  std::ifstream in(t.path);
  std::stringstream ss;
  ss << in.rdbuf();
  c.source = ss.str();
  c.source_hash = HashOf(c.source);
  c.verdict = std::string(VerdictName(t.report.verdict));
  c.reason = t.report.reason;
  c.speedup = t.report.speedup;
  c.speedup_compile = t.report.speedup_compile;
  c.evaluation_id = g->reused_evaluation != 0 ? g->reused_evaluation : t.report.evaluation_id;
  c.feedback = DistilFeedback(t.report);
  ANVIL_RETURN_IF_ERROR(Record(c));
  Log(fmt::format("seed: built-in compiler -> {}{}", c.verdict,
                  c.speedup ? fmt::format(", {:.2f}x eager", *c.speedup) : ""));
  if (t.report.verdict == Verdict::kCorrect) {
    prompts_.seed_source = c.source;
    ConsiderBest(static_cast<int>(result_.candidates.size()) - 1, t.report);
  }
  return Status::Ok();
}

std::string Conductor::ActionFor(int round, const SlotState& slot) const {
  if (round == 1 || !slot.has_candidate) return "design";
  if (slot.last_class == "correct") return best_code_.empty() ? "repair" : "optimise";
  if (slot.same_class >= 2) return "redesign";
  return "repair";
}

Result<llm::ChatResponse> Conductor::Ask(int round, int slot, const std::string& role, const std::string& prompt) {
  llm::ChatRequest request;
  request.system = system_;
  request.messages.push_back({llm::Role::kUser, prompt});
  request.max_tokens = options_.max_tokens_per_call;
  request.temperature = options_.temperature;
  // The channel adds the reply to the ledger itself, also when recording it fails afterwards.
  return channel_.Call(ExchangeKey{round, slot, role}, request, &ledger_);
}

SlotReply Conductor::SlotWork(int round, int slot, const std::string& action, const SlotState& state) {
  SlotReply reply;
  reply.action = action;
  auto fail = [&](const Status& s) {
    reply.call_error = s.message();
    reply.cancelled = s.code() == ErrorCode::kCancelled;
    return reply;
  };
  std::string plan = state.plan;
  if (action == "design" || action == "redesign") {
    const std::string prompt = action == "design" ? DesignerPrompt(prompts_) : RedesignPrompt(prompts_, state.failures);
    Result<llm::ChatResponse> designed = Ask(round, slot, "designer", prompt);
    if (!designed.ok()) return fail(designed.status());
    plan = designed->text;
    reply.plan = plan;
  }
  std::string prompt;
  if (action == "design" || action == "redesign") prompt = CoderPrompt(prompts_, plan);
  else if (action == "optimise") prompt = OptimisePrompt(prompts_, best_code_, best_feedback_);
  else prompt = RepairPrompt(prompts_, plan, state.last_code, state.last_feedback);
  Result<llm::ChatResponse> coded = Ask(round, slot, "coder", prompt);
  if (!coded.ok()) return fail(coded.status());
  reply.replied = true;
  Result<std::string> code = ExtractCode(coded->text, context_.backend);
  if (!code.ok()) {
    reply.outcome = "no_code";
    reply.feedback = code.status().message();
    return reply;
  }
  reply.code = *code;
  Status policy = CheckSourcePolicy(reply.code, context_.backend);
  if (!policy.ok()) {
    reply.outcome = "rejected";
    reply.feedback = "Rejected before building: " + policy.message();
    return reply;
  }
  reply.outcome = "evaluated";
  return reply;
}

SlotReply Conductor::GuardedSlotWork(int round, int slot, const std::string& action, const SlotState& state) {
  std::string what;
  try {
    return SlotWork(round, slot, action, state);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception that is not a std::exception";
  }
  SlotReply reply;
  reply.action = action;
  reply.call_error = fmt::format("internal error in the {} step: {} (a bug in anvil; please report it)", action, what);
  return reply;
}

Status Conductor::Record(const SessionCandidate& c) {
  SessionCandidateRecord r;
  r.session_id = result_.session_id;
  r.round = c.round;
  r.slot = c.slot;
  r.action = c.action;
  r.outcome = c.outcome;
  r.evaluation_id = c.evaluation_id;
  r.candidate_id = c.candidate_id;
  if (c.evaluation_id != 0 && c.candidate_id == 0) {
    ANVIL_ASSIGN_OR_RETURN(EvaluationRow row, store_.GetEvaluation(c.evaluation_id));
    r.candidate_id = row.candidate_id;
  }
  r.source_hash = c.source_hash;
  r.verdict = c.verdict;
  r.reason = c.reason;
  r.speedup = c.speedup;
  r.feedback = c.feedback;
  ANVIL_RETURN_IF_ERROR(store_.RecordSessionCandidate(r).Context("recording a session candidate"));
  SessionCandidate stored = c;
  stored.candidate_id = r.candidate_id;
  result_.candidates.push_back(std::move(stored));
  return Status::Ok();
}

void Conductor::ConsiderBest(int index, const CandidateReport& report) {
  const SessionCandidate& c = result_.candidates[index];
  // Timed beats untimed; among timed, the larger speedup over eager.
  const bool better = result_.best < 0 || (c.speedup && (!best_score_ || *c.speedup > *best_score_));
  if (!better) return;
  result_.best = index;
  result_.best_report = report;
  best_score_ = c.speedup;
  best_code_ = c.source;
  best_feedback_ = c.feedback;
}

bool Conductor::TargetReached() const {
  if (options_.target_speedup <= 0 || result_.best < 0) return false;
  const SessionCandidate& b = result_.candidates[result_.best];
  std::optional<double> s = SpeedupOverBest(b.speedup, b.speedup_compile);
  return s && *s >= options_.target_speedup;
}

Status Conductor::EvaluateReply(int round, int slot, SlotReply& reply, SlotState& state) {
  SessionCandidate c;
  c.round = round;
  c.slot = slot;
  c.action = reply.action;
  c.outcome = reply.outcome;
  c.source = reply.code;
  c.source_hash = reply.code.empty() ? "" : HashOf(reply.code);
  std::optional<CandidateReport> report;
  if (!reply.code.empty()) {
    c.path = fmt::format("{}/r{}-s{}{}", session_dir_, round, slot, extension_);
    std::ofstream out(c.path);
    out << reply.code;
    out.close();
    if (!out) return IoError(c.path + ": cannot write the candidate");
  }
  if (reply.outcome == "evaluated") {
    const std::string provenance = fmt::format("llm:{}:{}", channel_.provider(), channel_.model());
    ANVIL_ASSIGN_OR_RETURN(CandidateReport r, evaluator_.Evaluate(task_, c.path, run_id_, provenance));
    c.verdict = std::string(VerdictName(r.verdict));
    c.reason = r.reason;
    c.speedup = r.speedup;
    c.speedup_compile = r.speedup_compile;
    c.evaluation_id = r.evaluation_id;
    c.feedback = DistilFeedback(r);
    report = std::move(r);
  } else {
    c.reason = reply.feedback;
    c.feedback = reply.feedback;
  }
  ANVIL_RETURN_IF_ERROR(Record(c));
  const int index = static_cast<int>(result_.candidates.size()) - 1;

  const std::string cls = report ? FailureClass(*report) : reply.outcome;
  state.has_candidate = true;
  if (!reply.plan.empty()) {
    state.plan = reply.plan;
    state.failures.clear();
    state.same_class = 0;
    state.last_class.clear();
  }
  state.same_class = cls == state.last_class ? state.same_class + 1 : 1;
  state.last_class = cls;
  state.last_code = reply.code;
  state.last_feedback = c.feedback;
  if (cls != "correct") state.failures.push_back({round, reply.action, c.feedback});
  if (report && report->verdict == Verdict::kCorrect) ConsiderBest(index, *report);

  std::string line = fmt::format("round {} slot {}: {} -> {}", round, slot, reply.action,
                                 report ? c.verdict : reply.outcome);
  if (c.speedup) line += fmt::format(", {:.2f}x eager", *c.speedup);
  if (c.speedup_compile) line += fmt::format(", {:.2f}x torch.compile", *c.speedup_compile);
  line += fmt::format(" ({} tokens so far)", TokensUsed());
  Log(line);
  return Status::Ok();
}

Status Conductor::Finish(const std::string& status, const std::string& reason) {
  result_.status = status;
  result_.stop_reason = reason;
  result_.usage = ledger_.Totals();
  const int64_t best_eval = result_.best >= 0 ? result_.candidates[result_.best].evaluation_id : 0;
  std::optional<double> cost;
  if (result_.usage.calls > 0 && result_.usage.calls_without_price == 0) cost = result_.usage.cost_usd;
  return store_.FinishSession(result_.session_id, status, reason, best_eval, result_.usage.usage.input_tokens,
                              result_.usage.usage.output_tokens, cost);
}

Result<SessionResult> Conductor::Run() {
  auto fail_with = [&](const Status& s) -> Result<SessionResult> {
    (void)Finish("failed", s.message());
    return s;
  };
  if (Status s = Prepare(); !s.ok()) return fail_with(s);
  if (options_.seed) {
    if (Status s = Seed(); !s.ok()) return fail_with(s);
  }
  const bool timed = !task_.performance.shapes.empty();
  const int parallel = std::max(1, options_.parallel);
  std::vector<SlotState> slots(parallel);
  std::string status, reason;
  // Whether the loop can stop with what it has: a correct kernel of an
  // untimed task (nothing to optimise against), or the target speedup.
  auto converged_now = [&] {
    if (result_.best >= 0 && !timed) {
      status = "converged", reason = "a correct kernel was found (the task has no performance shapes to optimise for)";
      return true;
    }
    if (TargetReached()) {
      status = "converged", reason = fmt::format("target speedup {:.2f}x reached", options_.target_speedup);
      return true;
    }
    return false;
  };
  for (int round = 1; round <= options_.rounds; ++round) {
    if (Cancelled()) {
      status = "cancelled", reason = "cancelled by the user";
      break;
    }
    if (converged_now()) break;
    if (options_.max_total_tokens > 0 && TokensUsed() >= options_.max_total_tokens) {
      status = "", reason = fmt::format("token budget used ({} of {} tokens)", TokensUsed(), options_.max_total_tokens);
      break;
    }
    if (options_.time_budget_s > 0 && Elapsed() >= options_.time_budget_s) {
      status = "", reason = fmt::format("time budget used ({:.0f} s of {:.0f} s)", Elapsed(), options_.time_budget_s);
      break;
    }
    result_.rounds_run = round;
    std::vector<std::string> actions(parallel);
    for (int s = 0; s < parallel; ++s) actions[s] = ActionFor(round, slots[s]);
    std::vector<SlotReply> replies(parallel);
    {
      std::vector<std::thread> threads;
      for (int s = 1; s < parallel; ++s)
        threads.emplace_back([&, s] { replies[s] = GuardedSlotWork(round, s, actions[s], slots[s]); });
      replies[0] = GuardedSlotWork(round, 0, actions[0], slots[0]);
      for (std::thread& t : threads) t.join();
    }
    bool any_reply = false, any_cancelled = false;
    std::string first_error;
    for (const SlotReply& r : replies) {
      any_reply = any_reply || r.replied;
      any_cancelled = any_cancelled || r.cancelled;
      if (!r.call_error.empty() && first_error.empty()) first_error = r.call_error;
    }
    for (int s = 0; s < parallel; ++s)
      if (!replies[s].call_error.empty() && !replies[s].cancelled)
        Log(fmt::format("round {} slot {}: {} -> the LLM call failed: {}", round, s, actions[s], replies[s].call_error));
    if (any_cancelled || Cancelled()) {
      status = "cancelled", reason = "cancelled by the user";
      break;
    }
    if (!any_reply) {
      status = "failed", reason = "every LLM call of round " + std::to_string(round) + " failed: " + first_error;
      break;
    }
    for (int s = 0; s < parallel; ++s) {
      if (!replies[s].replied) continue;
      if (Cancelled()) break;
      if (Status st = EvaluateReply(round, s, replies[s], slots[s]); !st.ok()) return fail_with(st);
    }
    if (Cancelled()) {
      status = "cancelled", reason = "cancelled by the user";
      break;
    }
    if (converged_now()) break;
  }
  if (reason.empty()) reason = fmt::format("{} round{} used", options_.rounds, options_.rounds == 1 ? "" : "s");
  if (status.empty()) status = result_.best >= 0 ? "converged" : "exhausted";
  ANVIL_RETURN_IF_ERROR(Finish(status, reason).Context("finishing the session record"));
  return result_;
}

}  // namespace

Result<SessionResult> RunSession(const Task& task, Store& store, Evaluator& evaluator, LlmChannel& channel,
                                 int64_t run_id, int64_t session_id, const ConductorOptions& options,
                                 const ConductorContext& context) {
  Conductor conductor(task, store, evaluator, channel, run_id, session_id, options, context);
  return conductor.Run();
}

}  // namespace anvil::agent
