// Re-running one failing case of a GPU candidate under NVIDIA's
// compute-sanitizer (`anvil verify|bench --sanitize[=TOOL]`).
//
// The verdict says that a case crashed, failed at run time or computed wrong
// values; the sanitizer says where: an out-of-bounds access with its kernel
// and source line (memcheck), a shared-memory race (racecheck), a read of
// uninitialised global memory (initcheck), a misused barrier (synccheck).
// The evaluation's worker is not reused: a separate, one-off anvil-worker is
// started under compute-sanitizer (WorkerOptions::launcher), given only the
// case that decided the verdict, and stopped; its log is trimmed and
// attached to the report. The verdict never depends on this run: a sanitizer
// that is missing, fails or finds nothing only adds a note.
//
// Why the worker runs with the host network here (and nowhere else): the
// compute-sanitizer front end communicates with the library it injects into
// the worker, possibly over a local socket, which a worker moved into a new
// network namespace could lose. The worker's other confinements (Landlock, seccomp)
// stay; TMPDIR points into the run's own directory.
//
// Thread-compatible: one call at a time per directory. Runs processes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "orchestrator/worker_client.h"
#include "util/status.h"
#include "verify/protocol.h"
#include "verify/verdict.h"

namespace anvil {

// What one sanitizer re-run found, for the report and the store.
struct SanitizerReport {
  std::string tool;         // memcheck, racecheck, initcheck or synccheck
  int case_index = -1;      // the correctness case re-run; -1 when none ran
  std::string case_label;   // its label ("" when none ran)
  std::string command;      // the command line that ran ("" when none ran)
  int exit_code = -1;       // compute-sanitizer's exit code; -1 when it was killed or never ran
  std::string outcome;      // how the case ended under the sanitizer, e.g. "crash: ..." ("" when unknown)
  std::string log;          // the start of its report: the first errors matter most
  std::string note;         // why there is no report, or what was left out; "" when nothing
};

// compute-sanitizer exits with this code when its tool reported an error
// (passed as --error-exitcode); other codes are the worker's own.
inline constexpr int kSanitizerErrorExitCode = 99;

// The compute-sanitizer tools `--sanitize` accepts, the default first.
const std::vector<std::string>& SanitizerTools();
// InvalidInput naming the tools when `tool` is not one of them.
Status CheckSanitizerTool(const std::string& tool);

// Why a candidate on `target` judged `verdict` gets no sanitizer re-run, in
// words for the report; nullopt when it gets one (cuda or triton, and a
// crash, runtime_error or wrong verdict). A timeout is not re-run: the
// slowed-down case would hang again.
std::optional<std::string> SanitizerSkipReason(const std::string& target, Verdict verdict);

// compute-sanitizer on PATH, else /usr/local/cuda/bin/compute-sanitizer;
// NotFound saying where it looked.
Result<std::string> FindComputeSanitizer();

// The launcher prefix: `sanitizer --tool <tool> --log-file <log_path> ...`,
// with the worker's command line to follow. `launch_timeout_s` bounds how
// long compute-sanitizer waits for the worker to connect.
std::vector<std::string> SanitizerCommand(const std::string& sanitizer, const std::string& tool,
                                          const std::string& log_path, double launch_timeout_s);

// The first `max_lines` lines of `log` within `max_bytes`; when lines are
// left out, a line saying how many and where the whole log is
// (`full_log_path`), then the log's "SUMMARY" lines (its last word).
std::string TrimSanitizerLog(const std::string& log, size_t max_lines, size_t max_bytes,
                             const std::string& full_log_path);

// Silence allowed from the sanitized worker per message: sanitizers slow
// kernels 10-100x, so max(120 s, 20 x the evaluation's case timeout).
double SanitizerCaseTimeout(double case_timeout_s);

struct SanitizerRunOptions {
  std::string tool = "memcheck";  // one of SanitizerTools()
  std::string target = "cuda";    // the candidate's target: cuda or triton
  // The evaluation's worker options. The run replaces the scratch dir (a
  // `worker` folder inside `dir`), the launcher, the network isolation (off,
  // see above), TMPDIR and the start-up timeout (at least 600 s).
  WorkerOptions worker;
  std::string dir;                // a fresh directory for this run (emptied first); the full log stays in it
  double case_timeout_s = 20;     // the evaluation's; see SanitizerCaseTimeout
};

// Re-runs the one case in `request` (mode verify, the candidate that was
// judged `verdict`) under compute-sanitizer; `request` is nullopt when no
// case is known to have failed. Never fails: a sanitizer that is missing,
// cannot start, hangs or writes nothing is a note in the report.
SanitizerReport SanitizeFailingCase(const SanitizerRunOptions& options, Verdict verdict,
                                    const std::optional<EvaluateRequest>& request);

nlohmann::json ToJson(const SanitizerReport& report);

}  // namespace anvil
