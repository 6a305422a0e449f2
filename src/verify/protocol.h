// The orchestrator <-> anvil-worker protocol: one JSON object per line.
//
// Orchestrator -> worker (stdin):   {"type":"evaluate", ...EvaluateRequest}
//                                   {"type":"measure_ceilings"} (GPU workers)
//                                   {"type":"shutdown"}
// Worker -> orchestrator (stdout):
//   {"type":"hello", sandbox...}      once, after the sandbox is in place
//   {"type":"begin", phase, index}    before a case runs: if the worker dies
//                                     now, this case is the one that crashed
//   {"type":"case", ...CaseOutcome}   a correctness case finished
//   {"type":"timing", ...TimingOutcome} a performance case finished
//   {"type":"heartbeat"}              long work still progressing
//   {"type":"done", verdict?, reason, retire?} the request is finished;
//                                     retire: the worker's device context is
//                                     lost and it exits: start a new one
//   {"type":"ceilings", ...}          answer to {"type":"measure_ceilings"}
// The worker writes nothing else to stdout (its stderr is captured apart).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "task/cases.h"
#include "verify/verdict.h"

namespace anvil {

enum class EvalMode { kVerify, kBench };

struct EvaluateRequest {
  EvalMode mode = EvalMode::kVerify;
  std::string task_text;    // the task file's text: the worker parses it with the same code
  std::string task_origin;  // its path, for messages
  std::string library_path; // the candidate's shared object (a .py file for Triton)
  std::string backend = "cpu";  // "cpu" | "cuda" | "triton": how to load and call the candidate
  int threads = 1;          // for the candidate and the LibTorch baseline alike
  std::vector<CaseSpec> cases;       // correctness
  std::vector<CaseSpec> perf_cases;  // bench only; run only when every correctness case passed
};

struct Mismatch {
  std::vector<int64_t> index;
  double expected = 0, actual = 0;
};

struct CaseOutcome {
  int index = 0;
  Verdict verdict = Verdict::kCorrect;
  std::string reason;          // empty when correct
  std::string output;          // the output the reason is about, when one
  double max_abs_err = 0, max_rel_err = 0;
  double worst_ratio = 0;      // max error / allowed error (> 1 fails)
  int64_t mismatches = 0, numel = 0;
  std::vector<Mismatch> first_mismatches;
  std::string tolerance;       // the rule that was applied, in words
  // Judged by statistical tests (a random operator, [compare] mode =
  // "statistical"): no element errors exist, `tolerance` holds the tests' rule.
  bool statistical = false;
  double seconds = 0;          // wall time of the whole case
};

struct TimingOutcome {
  int index = 0;               // performance case index
  std::string subject;         // "candidate" | "eager" | "compile" (torch.compile)
  int threads = 1;
  std::vector<double> samples_ns;  // GPU: CUDA event time around the call; CPU: steady clock
  double median_ns = 0, q1_ns = 0, q3_ns = 0;
  std::string note;            // how the baseline was computed, when not plainly
  // GPU only (0 / false on the CPU):
  double wall_median_ns = 0;   // host clock from the call until the whole device is idle
  double drain_median_ns = 0;  // host time the device kept working after the stream's end event
  bool l2_flushed = false;     // L2 was overwritten before every trial
};

struct SandboxReport {
  bool network_isolated = false;
  bool seccomp = false;
  bool landlock = false;
  int64_t memory_limit_mb = 0;        // address space a candidate may add on top of the worker's
  int64_t base_address_space_mb = 0;  // the warmed-up worker's own address space
  std::string notes;  // what could not be applied, and why
};

nlohmann::json ToJson(const EvaluateRequest&);
Result<EvaluateRequest> EvaluateRequestFromJson(const nlohmann::json&);
nlohmann::json ToJson(const CaseSpec&);
Result<CaseSpec> CaseSpecFromJson(const nlohmann::json&);
nlohmann::json ToJson(const CaseOutcome&);
Result<CaseOutcome> CaseOutcomeFromJson(const nlohmann::json&);
nlohmann::json ToJson(const TimingOutcome&);
Result<TimingOutcome> TimingOutcomeFromJson(const nlohmann::json&);
nlohmann::json ToJson(const SandboxReport&);
SandboxReport SandboxReportFromJson(const nlohmann::json&);

}  // namespace anvil
