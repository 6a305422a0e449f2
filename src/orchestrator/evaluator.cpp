#include "orchestrator/evaluator.h"
#include "orchestrator/stored_timing.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "task/op_kinds.h"
#include "task/task_graph.h"
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

namespace {

// The geometric mean over performance cases of baseline median / candidate
// median, pairing timings by case index; nullopt when `baseline` was never timed.
std::optional<double> GeometricSpeedup(const std::vector<TimingOutcome>& timings, const std::string& baseline) {
  double log_sum = 0;
  int n = 0;
  for (const TimingOutcome& c : timings) {
    if (c.subject != "candidate" || c.median_ns <= 0) continue;
    for (const TimingOutcome& b : timings)
      if (b.index == c.index && b.subject == baseline && b.median_ns > 0) {
        log_sum += std::log(b.median_ns / c.median_ns);
        ++n;
      }
  }
  if (n == 0) return std::nullopt;
  return std::exp(log_sum / n);
}

// What the worker is asked to do for `cases` (and, in bench mode,
// `perf_cases`) of one candidate: the evaluation and the sanitizer's re-run
// of one case send the same request.
EvaluateRequest MakeRequest(const EvaluatorOptions& options, const Task& task, const std::string& library,
                            std::vector<CaseSpec> cases, std::vector<CaseSpec> perf_cases) {
  EvaluateRequest request;
  request.mode = options.mode;
  request.task_text = task.source_text;
  // Absolute: the worker runs in its scratch directory and resolves files the
  // task names (a reference module) against the task file's folder.
  request.task_origin =
      task.source_path.empty() ? task.name : std::filesystem::absolute(task.source_path).lexically_normal().string();
  request.library_path = library;
  request.backend = options.target;
  request.threads = options.threads;
  request.cases = std::move(cases);
  request.perf_cases = std::move(perf_cases);
  return request;
}

// What `anvil search` finds a correct candidate by (store.h, ProvenKernelIndexEntry).
ProvenKernelIndexEntry ProvenKernelEntry(const Task& task, const std::string& backend, int64_t candidate_id,
                                         int64_t evaluation_id) {
  ProvenKernelIndexEntry entry;
  entry.candidate_id = candidate_id;
  entry.evaluation_id = evaluation_id;
  entry.task_name = task.name;
  entry.backend = backend;
  std::vector<std::string> dtypes;
  for (const DTypeVariant& variant : task.Variants())
    for (DType d : variant.input_dtypes) {
      std::string name(DTypeName(d));
      if (std::find(dtypes.begin(), dtypes.end(), name) == dtypes.end()) dtypes.push_back(name);
    }
  entry.dtypes = fmt::format("{}", fmt::join(dtypes, " "));
  entry.op_kinds = fmt::format("{}", fmt::join(OpKinds(task), " "));
  entry.summary = task.description;
  const std::string reference =
      task.module ? "module " + std::filesystem::path(task.module->path).filename().string() : task.formula;
  if (!reference.empty()) entry.summary += (entry.summary.empty() ? "" : "\n") + reference;
  return entry;
}

}  // namespace

Result<BuildResult> Evaluator::Build(const std::string& candidate_path) {
  if (options_.target == "cpu") {
    CpuBuildOptions build = options_.build;
    build.cancel = options_.cancel;  // Ctrl-C stops a compile in flight too
    return BuildCpuCandidate(candidate_path, build);
  }
  if (options_.target == "triton") {
    // Nothing to build: the worker imports the file and Triton compiles its
    // kernels on first launch (inside the sandbox).
    BuildResult r;
    r.ok = true;
    r.library_path = std::filesystem::absolute(candidate_path).string();
    r.command = "none (Triton compiles the kernels in the worker)";
    return r;
  }
  if (options_.target != "cuda")
    return InvalidInput(fmt::format("unknown target '{}' (cpu, cuda or triton)", options_.target));
  CudaBuildOptions build = options_.cuda_build;
  build.cancel = options_.cancel;
  if (build.arch.empty()) {
    // The arch of the GPU the worker runs on: ask the worker (the orchestrator itself never touches the GPU).
    ANVIL_RETURN_IF_ERROR(EnsureWorker());
    const json& d = worker_->device();
    if (!d.contains("cc_major"))
      return Unsupported(fmt::format("the worker reports no CUDA device ({}); CUDA candidates need a GPU worker",
                                     d.dump()));
    build.arch = CudaArchForComputeCapability(d.value("cc_major", 0), d.value("cc_minor", 0));
  }
  return BuildCudaCandidate(candidate_path, build);
}

Result<DeviceCeilings> Evaluator::EnsureCeilings() {
  ANVIL_RETURN_IF_ERROR(EnsureWorker());
  const std::string key = worker_->device().value("key", "");
  if (key.empty()) return Unsupported("the worker's device reports no identity to key ceilings by");
  ANVIL_ASSIGN_OR_RETURN(std::optional<std::string> stored, store_.GetDeviceCeilings(key));
  if (stored) {
    json j = json::parse(*stored, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) return DeviceCeilingsFromJson(j);
  }
  // Measured once per device identity (name, driver, CUDA, PyTorch), then cached in the store.
  ANVIL_RETURN_IF_ERROR(worker_->Send({{"type", "measure_ceilings"}}));
  while (true) {
    WorkerEvent e = worker_->Next(300, options_.cancel);
    if (e.kind == WorkerEvent::Kind::kCancelled) return StopCancelled("measuring the device ceilings");
    if (e.kind != WorkerEvent::Kind::kMessage) {
      worker_->Kill();
      return ProtocolError("the worker died or went silent while measuring device ceilings");
    }
    if (e.message.value("type", "") == "heartbeat") continue;
    if (e.message.value("type", "") != "ceilings") return ProtocolError("unexpected answer: " + e.message.dump());
    if (e.message.contains("error")) return Unsupported(e.message.value("error", ""));
    ANVIL_ASSIGN_OR_RETURN(DeviceCeilings c, DeviceCeilingsFromJson(e.message.value("ceilings", json::object())));
    c.device_key = key;
    ANVIL_RETURN_IF_ERROR(store_.PutDeviceCeilings(key, ToJson(c).dump(), c.measured_at));
    return c;
  }
}

Status Evaluator::ApplyRoofline(const Task& task, CandidateReport& report) {
  const std::vector<DTypeVariant> variants = task.Variants();
  for (const CaseSpec& spec : report.perf_cases) {
    const DTypeVariant& variant = variants.at(spec.variant);
    CandidateReport::Roofline r;
    r.index = spec.index;
    ANVIL_ASSIGN_OR_RETURN(r.work, EstimateTaskWork(task, variant, spec.bindings));
    r.speed_of_light_ns = SpeedOfLightNs(r.work, *report.ceilings);
    report.roofline.push_back(r);
    for (const TimingOutcome& t : report.timings)
      // Below 80% of the floor: no honest kernel gets there (the copy ceiling
      // is measured, not the datasheet's, so a little headroom is allowed).
      if (t.index == spec.index && t.subject == "candidate" && r.speed_of_light_ns > 0 &&
          t.median_ns < 0.8 * r.speed_of_light_ns) {
        report.verdict = Worse(report.verdict, Verdict::kSuspicious);
        report.reason = fmt::format(
            "{}: the candidate's median {:.2f} us is below the speed-of-light floor {:.2f} us ({:.0f} bytes at the "
            "measured {:.0f} GB/s{}): it cannot have done the work; the timing is not credited",
            spec.Label(), t.median_ns / 1e3, r.speed_of_light_ns / 1e3, r.work.min_bytes, report.ceilings->copy_gbps,
            r.work.flops > 0 ? fmt::format(", {:.3g} flops", r.work.flops) : "");
      }
  }
  return Status::Ok();
}

Result<nlohmann::json> Evaluator::Device() {
  ANVIL_RETURN_IF_ERROR(EnsureWorker());
  return worker_->device();
}

Status Evaluator::EnsureWorker() {
  if (worker_ && worker_->alive()) return Status::Ok();
  if (CancelRequested()) return Cancelled("interrupted before a worker was started");
  auto start = std::chrono::steady_clock::now();
  ANVIL_ASSIGN_OR_RETURN(worker_, WorkerClient::Start(options_.worker, options_.cancel));
  worker_start_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  worker_startup_ = worker_->startup_seconds();
  return Status::Ok();
}

Status Evaluator::StopCancelled(const std::string& what) {
  // The worker may be in the middle of a case: only a fresh one is known to be idle.
  if (worker_) worker_->Kill();
  return Cancelled(fmt::format("interrupted while {}; the evaluation has no verdict", what));
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

Result<CandidateReport> Evaluator::Evaluate(const Task& task, const std::string& candidate_path, int64_t run_id,
                                            const std::string& provenance) {
  auto start = std::chrono::steady_clock::now();
  CandidateReport report;
  worker_start_seconds_ = 0;
  worker_startup_ = nullptr;
  report.candidate_path = candidate_path;
  report.task_name = task.name;
  report.reference_author = task.reference_author;
  report.cases = CorrectnessCases(task);
  if (options_.mode == EvalMode::kBench) report.perf_cases = PerformanceCases(task);
  if (CancelRequested()) return Cancelled("interrupted before the evaluation started");

  ANVIL_ASSIGN_OR_RETURN(std::string source, ReadFile(candidate_path));
  ANVIL_ASSIGN_OR_RETURN(int64_t task_id,
                         store_.UpsertTask(task.name, task.source_path, HashOf(task.source_text), task.source_text));
  ANVIL_ASSIGN_OR_RETURN(int64_t candidate_id, store_.UpsertCandidate(task_id, options_.target, candidate_path,
                                                                    HashOf(source), source, provenance));
  ANVIL_ASSIGN_OR_RETURN(int64_t evaluation_id, store_.BeginEvaluation(run_id, candidate_id,
                                                                      options_.mode == EvalMode::kBench ? "bench" : "verify"));
  report.evaluation_id = evaluation_id;

  if (progress_) progress_("build", 0, 1);
  Result<BuildResult> built = Build(candidate_path);
  // Ctrl-C killed the compiler (build options' cancel): no build to record.
  if (!built.ok() && built.status().code() == ErrorCode::kCancelled) return StopCancelled("building the candidate");
  ANVIL_ASSIGN_OR_RETURN(report.build, std::move(built));
  BuildRecord br{report.build.cache_key, options_.target == "cpu" ? options_.build.compiler : options_.target,
                 report.build.command, report.build.ok, report.build.log, report.build.seconds, report.build.cached};
  ANVIL_RETURN_IF_ERROR(store_.RecordBuild(candidate_id, br).status());
  // Raised after the compiler finished: stop before the worker starts.
  if (CancelRequested()) return StopCancelled("building the candidate");

  if (!report.build.ok) {
    report.verdict = Verdict::kBuildError;
    report.reason = "compilation failed:\n" + report.build.log;
  } else if (!report.build.forbidden_imports.empty()) {
    report.verdict = Verdict::kSuspicious;
    report.reason = fmt::format("the library imports {} — candidates may not load code, create processes or open "
                                "sockets; it was not run",
                                fmt::join(report.build.forbidden_imports, ", "));
  } else {
    if (options_.mode == EvalMode::kBench && options_.target != "cpu") {
      if (progress_) progress_("ceilings", 0, 1);
      auto ceilings = EnsureCeilings();
      if (ceilings.ok())
        report.ceilings = *ceilings;
      else if (ceilings.status().code() == ErrorCode::kCancelled)
        return ceilings.status();
      else
        report.roofline_note = "device ceilings unavailable: " + ceilings.status().message();
    }
    ANVIL_RETURN_IF_ERROR(RunInWorker(task, report.build.library_path, report, evaluation_id));
    if (!options_.sanitize_tool.empty() && report.verdict != Verdict::kCorrect) {
      // A separate worker under compute-sanitizer re-runs the case that decided the verdict; never changes it.
      if (progress_) progress_("compute-sanitizer", 0, 1);
      std::optional<EvaluateRequest> one;
      if (report.worst)
        one = MakeRequest(options_, task, report.build.library_path,
                          {report.cases[report.outcomes[*report.worst].index]}, {});
      std::string dir = options_.sanitize_dir.empty() ? options_.worker.scratch_dir + "-sanitizer" : options_.sanitize_dir;
      SanitizerRunOptions run{options_.sanitize_tool, options_.target, options_.worker,
                              fmt::format("{}/evaluation-{}", dir, evaluation_id), options_.case_timeout_s};
      report.sanitizer = SanitizeFailingCase(run, report.verdict, one);
    }
    if (report.ceilings && report.verdict == Verdict::kCorrect) ANVIL_RETURN_IF_ERROR(ApplyRoofline(task, report));
  }

  // Speedups: geometric means over performance cases of baseline / candidate medians.
  if (report.verdict == Verdict::kCorrect) {
    report.speedup = GeometricSpeedup(report.timings, "eager");
    report.speedup_compile = GeometricSpeedup(report.timings, "compile");
  }

  json detail = {{"build_cached", report.build.cached}, {"sandbox", ToJson(report.sandbox)},
                 {"max_abs_err", report.max_abs_err}, {"max_rel_err", report.max_rel_err}};
  if (report.speedup) detail["speedup"] = *report.speedup;
  if (report.speedup_compile) detail["speedup_compile"] = *report.speedup_compile;
  if (!report.device.empty()) detail["device"] = report.device;
  if (report.ceilings) detail["device_ceilings"] = ToJson(*report.ceilings);
  for (const CandidateReport::Roofline& r : report.roofline)
    detail["roofline"].push_back({{"case", report.perf_cases[r.index].Label()},
                                  {"min_bytes", r.work.min_bytes},
                                  {"flops", r.work.flops},
                                  {"speed_of_light_ns", r.speed_of_light_ns}});
  if (report.worst) detail["worst_case"] = report.cases[report.outcomes[*report.worst].index].Label();
  if (!report.worker_stderr.empty()) detail["worker_stderr"] = report.worker_stderr;
  if (report.sanitizer) detail["sanitizer"] = ToJson(*report.sanitizer);
  ANVIL_RETURN_IF_ERROR(store_.FinishEvaluation(evaluation_id, std::string(VerdictName(report.verdict)), report.reason,
                                                detail.dump(-1, ' ', false, json::error_handler_t::replace),
                                                static_cast<int>(report.cases.size()), report.cases_passed));
  if (report.verdict == Verdict::kCorrect)
    ANVIL_RETURN_IF_ERROR(store_.IndexProvenKernel(ProvenKernelEntry(task, options_.target, candidate_id, evaluation_id)));
  report.worker_start_seconds = worker_start_seconds_;
  report.worker_startup = worker_startup_;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Status Evaluator::RunInWorker(const Task& task, const std::string& library, CandidateReport& report,
                              int64_t evaluation_id) {
  ANVIL_RETURN_IF_ERROR(EnsureWorker());
  report.sandbox = worker_->sandbox();
  report.device = worker_->device();
  worker_->MarkStderr();

  EvaluateRequest request = MakeRequest(options_, task, library, report.cases, report.perf_cases);
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
    WorkerEvent e = worker_->Next(options_.case_timeout_s, options_.cancel);
    if (e.kind == WorkerEvent::Kind::kCancelled)
      return StopCancelled(current >= 0 ? fmt::format("running {} case {}", phase, current)
                                        : "waiting for the worker");
    if (e.kind == WorkerEvent::Kind::kTimedOut || e.kind == WorkerEvent::Kind::kExited) {
      bool timed_out = e.kind == WorkerEvent::Kind::kTimedOut;
      worker_->Kill();
      CaseOutcome o;
      o.index = std::max(current, 0);
      report.worker_stderr = worker_->StderrTail();
      std::string where = current >= 0               ? fmt::format("{} case {}", phase, current)
                          : phase == "kernel check"  ? "the check of which GPU kernels the candidate launched"
                          : report.outcomes.empty()  ? "loading the candidate"
                                                     : "the work after the correctness cases";
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
      ANVIL_RETURN_IF_ERROR(store_.RecordTiming(evaluation_id, ToTimingRecord(t, report.perf_cases[t.index].Label())));
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
      // A lost CUDA context: the worker exits; the next candidate gets a new one.
      if (m.value("retire", false)) {
        report.worker_stderr = worker_->StderrTail();
        worker_->Kill();
        worker_.reset();
      }
      return Status::Ok();
    } else {
      return ProtocolError("unexpected message from worker: " + m.dump());
    }
  }
}

}  // namespace anvil
