// Evaluating candidates: build -> worker -> verdict -> store.
//
// The Evaluator owns at most one live anvil-worker and reuses it across
// candidates; when a candidate crashes or hangs the worker is killed (its
// whole process group) and the next candidate gets a fresh one. The
// orchestrator itself never loads candidate code.
//
// Everything is recorded as it happens: the task, the candidate source, the
// build, one row per case the moment its outcome arrives, the timings, and
// finally the evaluation's verdict, and a correct candidate's entry in the
// proven-kernel index. A process killed half-way leaves every finished case
// in the store and the evaluation without a verdict.
//
// Cancellation (EvaluatorOptions::cancel): raised by another thread, e.g. on
// Ctrl-C, it stops an evaluation within a fraction of a second wherever it
// waits on the worker (start-up, cases, timings, device ceilings): the worker
// is killed and Evaluate returns kCancelled. That is no verdict on the
// candidate: the evaluation stays in the store without one, as if the
// process had been killed, and the caller may run the candidate again. A
// compiler in flight (g++, nvcc) is killed too; nothing is cached.
//
// Not thread-safe; one Evaluator per thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/cpu/cpu_build.h"
#include "backend/cuda/cuda_build.h"
#include "orchestrator/sanitizer_run.h"
#include "orchestrator/worker_client.h"
#include "store/store.h"
#include "task/task.h"
#include "verify/protocol.h"
#include "verify/roofline.h"

namespace anvil {

struct EvaluatorOptions {
  EvalMode mode = EvalMode::kVerify;
  std::string target = "cpu";   // "cpu" (C++), "cuda" (CUDA C++) or "triton" (Python)
  int threads = 1;              // candidate and LibTorch baseline alike
  double case_timeout_s = 20;   // silence from the worker longer than this is a timeout
  WorkerOptions worker;
  CpuBuildOptions build;
  CudaBuildOptions cuda_build;  // arch: empty = from the worker's GPU
  // A compute-sanitizer tool (SanitizerTools()) that re-runs the case that
  // failed a GPU candidate (orchestrator/sanitizer_run.h); empty: off.
  std::string sanitize_tool;
  // Where those runs keep their logs, one folder per evaluation. Default
  // (empty): <worker.scratch_dir>-sanitizer.
  std::string sanitize_dir;
  // Raised: the evaluation in progress and every later one stop with
  // kCancelled (see the top of this file). Owned by the caller and read from
  // the evaluating thread; it must outlive the Evaluator. Default: null, never.
  const std::atomic<bool>* cancel = nullptr;
};

struct CandidateReport {
  std::string candidate_path;
  std::string task_name;
  std::string reference_author;         // the task's: "" = people wrote the reference
  Verdict verdict = Verdict::kCorrect;
  std::string reason;                   // why it is not correct; empty when correct
  BuildResult build;
  std::vector<CaseSpec> cases;          // all correctness cases of the task
  std::vector<CaseOutcome> outcomes;    // those that ran, in order
  int cases_passed = 0;
  std::optional<size_t> worst;          // index into outcomes of the case that decided the verdict
  double max_abs_err = 0, max_rel_err = 0, worst_ratio = 0;  // over every case that ran
  std::vector<CaseSpec> perf_cases;
  std::vector<TimingOutcome> timings;   // per perf case: candidate then eager
  std::optional<double> speedup;        // geometric mean over perf cases of eager median / candidate median
  std::optional<double> speedup_compile;  // the same against torch.compile, where it was timed
  nlohmann::json device;                // the worker's device (GPU: name, compute capability, versions)
  // GPU bench: the device's measured ceilings and, per performance case, the
  // least work and the speed-of-light time it allows.
  std::optional<DeviceCeilings> ceilings;
  struct Roofline {
    int index = 0;
    WorkEstimate work;
    double speed_of_light_ns = 0;  // 0 when no ceiling applies
  };
  std::vector<Roofline> roofline;
  std::string roofline_note;            // why there is no roofline, when a GPU bench has none
  SandboxReport sandbox;
  std::string worker_stderr;            // tail, when the worker died
  int64_t evaluation_id = 0;
  double seconds = 0;                   // the whole evaluation, build and worker start included
  double worker_start_seconds = 0;      // starting workers for it (0 when a live one was reused)
  nlohmann::json worker_startup;        // the last worker started for it: seconds per start-up stage
  std::optional<SanitizerReport> sanitizer;  // with sanitize_tool, for a candidate that failed
};

// Called as work advances: phase ("build", "correctness", "performance"), done, total.
using ProgressFn = std::function<void(const std::string& phase, int done, int total)>;

class Evaluator {
 public:
  Evaluator(Store& store, EvaluatorOptions options, ProgressFn progress = nullptr);
  ~Evaluator();

  // Errors only for what is not the candidate's fault (store unwritable,
  // worker cannot start, compiler missing, kCancelled when options.cancel
  // was raised). Every candidate failure is a verdict in the report.
  // `provenance` is stored with a new candidate (an existing one keeps its
  // first): "file", "builtin", "llm:<provider>:<model>", "agent" (MCP).
  // A correct candidate is also indexed as a proven kernel (task name,
  // backend, the variants' dtypes, OpKinds, description and formula) for
  // `anvil search`; failing to index it is an error (the store failing),
  // returned after the verdict is already recorded.
  Result<CandidateReport> Evaluate(const Task& task, const std::string& candidate_path, int64_t run_id,
                                   const std::string& provenance = "file");

  // The device the worker runs on (starting one if none is live), as its
  // hello described it: "name", and for GPUs "key" (name, driver, CUDA, PyTorch).
  Result<nlohmann::json> Device();

 private:
  Status EnsureWorker();
  bool CancelRequested() const { return options_.cancel != nullptr && options_.cancel->load(); }
  // Kills the worker and says that `what` was interrupted (kCancelled).
  Status StopCancelled(const std::string& what);
  Result<BuildResult> Build(const std::string& candidate_path);  // by target; may start the worker
  // The worker's device ceilings: from the store, else measured by the worker and stored.
  Result<DeviceCeilings> EnsureCeilings();
  // Fills report.roofline and rejects a candidate faster than the speed of light.
  Status ApplyRoofline(const Task& task, CandidateReport& report);
  Status RunInWorker(const Task& task, const std::string& library, CandidateReport& report, int64_t evaluation_id);
  Status Record(int64_t evaluation_id, const CaseSpec& spec, const CaseOutcome& outcome);

  Store& store_;
  EvaluatorOptions options_;
  ProgressFn progress_;
  std::unique_ptr<WorkerClient> worker_;
  double worker_start_seconds_ = 0;  // for the evaluation in progress
  nlohmann::json worker_startup_;    // likewise
};

}  // namespace anvil
