// The orchestrator <-> anvil-worker protocol: one JSON object per line.
//
// Orchestrator -> worker (stdin):   {"type":"evaluate", ...EvaluateRequest}
//                                   {"type":"shutdown"}
// Worker -> orchestrator (stdout):
//   {"type":"hello", sandbox...}      once, after the sandbox is in place
//   {"type":"begin", phase, index}    before a case runs: if the worker dies
//                                     now, this case is the one that crashed
//   {"type":"case", ...CaseOutcome}   a correctness case finished
//   {"type":"timing", ...TimingOutcome} a performance case finished
//   {"type":"heartbeat"}              long work still progressing
//   {"type":"done", verdict?, reason} the request is finished
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
  std::string library_path; // the candidate's shared object
  std::string backend = "cpu";
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
  double seconds = 0;          // wall time of the whole case
};

struct TimingOutcome {
  int index = 0;               // performance case index
  std::string subject;         // "candidate" | "eager"
  int threads = 1;
  std::vector<double> samples_ns;
  double median_ns = 0, q1_ns = 0, q3_ns = 0;
  std::string note;            // how the baseline was computed, when not plainly
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
