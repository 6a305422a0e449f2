#include "orchestrator/evaluator.h"

#include <signal.h>

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/hash.h"
#include "util/subprocess.h"

namespace anvil {

using nlohmann::json;

Evaluator::Evaluator(Store& store, EvaluatorOptions options, ProgressFn progress)
    : store_(store), options_(std::move(options)), progress_(std::move(progress)) {}

Evaluator::~Evaluator() {
  if (worker_) {
    (void)worker_->Send({{"type", "shutdown"}});
    worker_.reset();
  }
}

Status Evaluator::EnsureWorker() {
  if (worker_ && worker_->alive()) return Status::Ok();
  ANVIL_ASSIGN_OR_RETURN(worker_, WorkerClient::Start(options_.worker));
  return Status::Ok();
}

Status Evaluator::Record(int64_t evaluation_id, const CaseSpec& spec, const CaseOutcome& o) {
  CaseRecord r;
  r.case_index = spec.index;
  r.dtype = spec.variant_label;
  r.bindings_json = json(spec.bindings).dump();
  r.layout = spec.layout;
  r.distribution = spec.distribution;
  r.seed = static_cast<int64_t>(spec.seed);
  r.verdict = std::string(VerdictName(o.verdict));
  r.max_abs_err = o.max_abs_err;
  r.max_rel_err = o.max_rel_err;
  r.detail_json = ToJson(o).dump(-1, ' ', false, json::error_handler_t::replace);
  return store_.RecordCase(evaluation_id, r);
}

Result<CandidateReport> Evaluator::Evaluate(const Task& task, const std::string& candidate_path, int64_t run_id) {
  auto start = std::chrono::steady_clock::now();
  CandidateReport report;
  report.candidate_path = candidate_path;
  report.task_name = task.name;
  report.cases = CorrectnessCases(task);
  if (options_.mode == EvalMode::kBench) report.perf_cases = PerformanceCases(task);

  ANVIL_ASSIGN_OR_RETURN(std::string source, ReadFile(candidate_path));
  ANVIL_ASSIGN_OR_RETURN(int64_t task_id,
                         store_.UpsertTask(task.name, task.source_path, HashOf(task.source_text), task.source_text));
  ANVIL_ASSIGN_OR_RETURN(int64_t candidate_id,
                         store_.UpsertCandidate(task_id, "cpu", candidate_path, HashOf(source), source, "file"));
  ANVIL_ASSIGN_OR_RETURN(int64_t evaluation_id, store_.BeginEvaluation(run_id, candidate_id,
                                                                      options_.mode == EvalMode::kBench ? "bench" : "verify"));
  report.evaluation_id = evaluation_id;

  if (progress_) progress_("build", 0, 1);
  ANVIL_ASSIGN_OR_RETURN(report.build, BuildCpuCandidate(candidate_path, options_.build));
  BuildRecord br{report.build.cache_key, options_.build.compiler, report.build.command, report.build.ok,
                 report.build.log, report.build.seconds, report.build.cached};
  ANVIL_RETURN_IF_ERROR(store_.RecordBuild(candidate_id, br).status());

  if (!report.build.ok) {
    report.verdict = Verdict::kBuildError;
    report.reason = "compilation failed:\n" + report.build.log;
  } else if (!report.build.forbidden_imports.empty()) {
    report.verdict = Verdict::kSuspicious;
    report.reason = fmt::format("the library imports {} — candidates may not load code, create processes or open "
                                "sockets; it was not run",
                                fmt::join(report.build.forbidden_imports, ", "));
  } else {
    ANVIL_RETURN_IF_ERROR(RunInWorker(task, report.build.library_path, report, evaluation_id));
  }

  // Speedup: geometric mean over performance cases of eager / candidate medians.
  double log_sum = 0;
  int n = 0;
  for (size_t i = 0; i + 1 < report.timings.size(); ++i)
    if (report.timings[i].subject == "candidate" && report.timings[i + 1].subject == "eager" &&
        report.timings[i].median_ns > 0) {
      log_sum += std::log(report.timings[i + 1].median_ns / report.timings[i].median_ns);
      ++n;
    }
  if (n > 0 && report.verdict == Verdict::kCorrect) report.speedup = std::exp(log_sum / n);

  json detail = {{"build_cached", report.build.cached}, {"sandbox", ToJson(report.sandbox)},
                 {"max_abs_err", report.max_abs_err}, {"max_rel_err", report.max_rel_err}};
  if (report.speedup) detail["speedup"] = *report.speedup;
  if (report.worst) detail["worst_case"] = report.cases[report.outcomes[*report.worst].index].Label();
  if (!report.worker_stderr.empty()) detail["worker_stderr"] = report.worker_stderr;
  ANVIL_RETURN_IF_ERROR(store_.FinishEvaluation(evaluation_id, std::string(VerdictName(report.verdict)), report.reason,
                                                detail.dump(-1, ' ', false, json::error_handler_t::replace),
                                                static_cast<int>(report.cases.size()), report.cases_passed));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Status Evaluator::RunInWorker(const Task& task, const std::string& library, CandidateReport& report,
                              int64_t evaluation_id) {
  ANVIL_RETURN_IF_ERROR(EnsureWorker());
  report.sandbox = worker_->sandbox();
  worker_->MarkStderr();

  EvaluateRequest request;
  request.mode = options_.mode;
  request.task_text = task.source_text;
  request.task_origin = task.source_path.empty() ? task.name : task.source_path;
  request.library_path = library;
  request.threads = options_.threads;
  request.cases = report.cases;
  request.perf_cases = report.perf_cases;
  ANVIL_RETURN_IF_ERROR(worker_->Send(ToJson(request)));

  const int total = static_cast<int>(report.cases.size() + report.perf_cases.size());
  int done = 0;
  std::string phase = "correctness";
  int current = -1;  // index of the case that began and has not finished
  auto current_spec = [&]() -> CaseSpec {
    const auto& list = phase == "performance" ? report.perf_cases : report.cases;
    return current >= 0 && current < static_cast<int>(list.size()) ? list[current] : CaseSpec{};
  };
  auto decide = [&](const CaseOutcome& o) {
    report.outcomes.push_back(o);
    report.max_abs_err = std::max(report.max_abs_err, o.max_abs_err);
    report.max_rel_err = std::max(report.max_rel_err, o.max_rel_err);
    report.worst_ratio = std::max(report.worst_ratio, o.worst_ratio);
    if (o.verdict == Verdict::kCorrect) {
      ++report.cases_passed;
      return;
    }
    bool worse = !report.worst || VerdictSeverity(o.verdict) > VerdictSeverity(report.verdict) ||
                 (o.verdict == report.verdict && o.worst_ratio > report.outcomes[*report.worst].worst_ratio);
    if (worse) {
      report.verdict = Worse(report.verdict, o.verdict);
      report.worst = report.outcomes.size() - 1;
      report.reason = fmt::format("{} (case {}: {})", o.reason, o.index, report.cases[o.index].Label());
    }
  };

  while (true) {
    WorkerEvent e = worker_->Next(options_.case_timeout_s);
    if (e.kind == WorkerEvent::Kind::kTimedOut || e.kind == WorkerEvent::Kind::kExited) {
      bool timed_out = e.kind == WorkerEvent::Kind::kTimedOut;
      worker_->Kill();
      CaseOutcome o;
      o.index = std::max(current, 0);
      report.worker_stderr = worker_->StderrTail();
      std::string where = current >= 0 ? fmt::format("{} case {}", phase, current) : "loading the candidate";
      if (timed_out) {
        o.verdict = Verdict::kTimeout;
        o.reason = fmt::format("no answer within {:.0f} s during {}; the worker was killed", options_.case_timeout_s,
                               where);
      } else if (e.signal == SIGSYS) {
        o.verdict = Verdict::kSuspicious;
        o.reason = fmt::format("made a forbidden system call (process creation or exec) during {}; the sandbox "
                               "killed the worker with SIGSYS",
                               where);
      } else if (e.signal != 0) {
        o.verdict = Verdict::kCrash;
        o.reason = fmt::format("the worker died with {} during {}", SignalName(e.signal), where);
      } else {
        o.verdict = Verdict::kCrash;
        o.reason = fmt::format("the worker exited with code {} during {}", e.exit_code, where);
      }
      if (!report.worker_stderr.empty() && report.worker_stderr.find("bad_alloc") != std::string::npos)
        o.reason += fmt::format(" (out of memory: a candidate may allocate {} MiB)", report.sandbox.memory_limit_mb);
      if (current >= 0 && phase == "correctness") {
        ANVIL_RETURN_IF_ERROR(Record(evaluation_id, current_spec(), o));
        decide(o);
      } else {
        report.verdict = Worse(report.verdict, o.verdict);
        report.reason = current >= 0 ? fmt::format("{} ({})", o.reason, current_spec().Label()) : o.reason;
      }
      return Status::Ok();
    }
    const json& m = e.message;
    std::string type = m.value("type", "");
    if (type == "begin") {
      phase = m.value("phase", "correctness");
      current = m.value("index", -1);
    } else if (type == "case") {
      ANVIL_ASSIGN_OR_RETURN(CaseOutcome o, CaseOutcomeFromJson(m));
      if (o.index < 0 || o.index >= static_cast<int>(report.cases.size()))
        return ProtocolError(fmt::format("worker reported unknown case {}", o.index));
      ANVIL_RETURN_IF_ERROR(Record(evaluation_id, report.cases[o.index], o));
      decide(o);
      current = -1;
      if (progress_) progress_(phase, ++done, total);
    } else if (type == "timing") {
      ANVIL_ASSIGN_OR_RETURN(TimingOutcome t, TimingOutcomeFromJson(m));
      if (t.index < 0 || t.index >= static_cast<int>(report.perf_cases.size()))
        return ProtocolError(fmt::format("worker reported unknown performance case {}", t.index));
      TimingRecord r{report.perf_cases[t.index].Label(), t.subject, t.threads, t.median_ns, t.q1_ns, t.q3_ns,
                     t.samples_ns};
      ANVIL_RETURN_IF_ERROR(store_.RecordTiming(evaluation_id, r));
      report.timings.push_back(std::move(t));
      if (report.timings.back().subject == "eager" && progress_) progress_(phase, ++done, total);
    } else if (type == "heartbeat") {
      continue;
    } else if (type == "done") {
      if (m.contains("error")) return ProtocolError(m.value("error", ""));
      if (m.contains("verdict")) {
        auto v = ParseVerdict(m.value("verdict", ""));
        if (!v) return ProtocolError("worker sent an unknown verdict");
        report.verdict = Worse(report.verdict, *v);
        report.reason = m.value("reason", "");
      }
      return Status::Ok();
    } else {
      return ProtocolError("unexpected message from worker: " + m.dump());
    }
  }
}

}  // namespace anvil
