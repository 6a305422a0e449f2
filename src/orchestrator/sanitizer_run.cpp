#include "orchestrator/sanitizer_run.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "util/subprocess.h"

namespace anvil {
namespace {

constexpr const char* kDefaultSanitizer = "/usr/local/cuda/bin/compute-sanitizer";
// Errors compute-sanitizer prints in full; later ones only count in its summary.
constexpr int kPrintLimit = 10;
// What the report keeps of the log: the first errors, each a few lines.
constexpr size_t kLogLines = 60;
constexpr size_t kLogBytes = 8192;
// After `done`, the worker and the sanitizer get this long to exit on their
// own: compute-sanitizer writes its summary when its target exits.
constexpr double kExitGraceSeconds = 60;


// A command line as one readable string; arguments with spaces are quoted.
std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" \t'\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

std::string WorkerEnded(const WorkerEvent& e) {
  return e.signal ? "died with " + SignalName(e.signal) : fmt::format("exited with code {}", e.exit_code);
}

}  // namespace

const std::vector<std::string>& SanitizerTools() {
  static const std::vector<std::string> tools = {"memcheck", "racecheck", "initcheck", "synccheck"};
  return tools;
}

Status CheckSanitizerTool(const std::string& tool) {
  const auto& tools = SanitizerTools();
  if (std::find(tools.begin(), tools.end(), tool) != tools.end()) return Status::Ok();
  return InvalidInput(fmt::format("'{}' is not a compute-sanitizer tool; use one of {} (bare --sanitize: {})", tool,
                                  fmt::join(tools, ", "), tools.front()));
}

std::optional<std::string> SanitizerSkipReason(const std::string& target, Verdict verdict) {
  if (target != "cuda" && target != "triton")
    return fmt::format("compute-sanitizer checks GPU code; the {} target runs none", target);
  switch (verdict) {
    case Verdict::kCrash:
    case Verdict::kRuntimeError:
    case Verdict::kWrong:
      return std::nullopt;
    case Verdict::kCorrect:
      return "every case passed: there is no failing case to re-run";
    case Verdict::kTimeout:
      return "a timeout is not re-run: the case would hang again, 10-100x slower";
    case Verdict::kBuildError:
    case Verdict::kLoadError:
      return fmt::format("the candidate never ran ({})", VerdictName(verdict));
    case Verdict::kSuspicious:
      return "a suspicious candidate broke a rule of the harness; that is not a memory or race error to locate";
  }
  return "unknown verdict";
}

Result<std::string> FindComputeSanitizer() {
  if (std::string found = FindExecutable("compute-sanitizer"); !found.empty()) return found;
  if (IsExecutableFile(kDefaultSanitizer)) return std::string(kDefaultSanitizer);
  return NotFound(fmt::format("compute-sanitizer not found on PATH nor at {}; it comes with the CUDA toolkit "
                              "(put its bin folder on PATH)",
                              kDefaultSanitizer));
}

std::vector<std::string> SanitizerCommand(const std::string& sanitizer, const std::string& tool,
                                          const std::string& log_path, double launch_timeout_s) {
  return {sanitizer,
          "--tool", tool,
          "--log-file", log_path,
          "--print-limit", std::to_string(kPrintLimit),
          // Device frames only: host backtraces run through LibTorch and the
          // worker and would crowd the candidate's kernel out of the trimmed log.
          "--show-backtrace", "device",
          "--error-exitcode", std::to_string(kSanitizerErrorExitCode),
          "--launch-timeout", std::to_string(static_cast<long long>(std::ceil(launch_timeout_s)))};
}

std::string TrimSanitizerLog(const std::string& log, size_t max_lines, size_t max_bytes,
                             const std::string& full_log_path) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  size_t kept = 0;
  while (kept < lines.size() && kept < max_lines && out.size() + lines[kept].size() + 1 <= max_bytes)
    out += lines[kept++] + "\n";
  if (kept == lines.size()) return out;
  out += fmt::format("... {} more lines: the whole log is {}\n", lines.size() - kept, full_log_path);
  for (size_t i = kept; i < lines.size(); ++i)
    if (lines[i].find("SUMMARY") != std::string::npos) out += lines[i] + "\n";
  return out;
}

double SanitizerCaseTimeout(double case_timeout_s) { return std::max(120.0, 20 * case_timeout_s); }

SanitizerReport SanitizeFailingCase(const SanitizerRunOptions& options, Verdict verdict,
                                    const std::optional<EvaluateRequest>& request) {
  SanitizerReport report;
  report.tool = options.tool;
  const std::string unchanged = "; the verdict stands as judged";
  if (Status s = CheckSanitizerTool(options.tool); !s.ok()) {
    report.note = "not run: " + s.message();
    return report;
  }
  if (std::optional<std::string> skip = SanitizerSkipReason(options.target, verdict)) {
    report.note = "not run: " + *skip;
    return report;
  }
  if (!request || request->cases.size() != 1) {
    report.note = "not run: no correctness case is known to have failed (the failure came outside the cases)";
    return report;
  }
  const CaseSpec& spec = request->cases.front();
  report.case_index = spec.index;
  report.case_label = spec.Label();

  Result<std::string> sanitizer = FindComputeSanitizer();
  if (!sanitizer.ok()) {
    report.note = "not run: " + sanitizer.status().message() + unchanged;
    return report;
  }

  // A fresh directory: the log beside (not inside) the worker's scratch
  // dir, so the candidate, which may write only there, cannot touch it.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove_all(options.dir, ec);
  const std::string scratch = (fs::path(options.dir) / "worker").string();
  const std::string log_path = (fs::path(options.dir) / fmt::format("{}.log", options.tool)).string();
  fs::create_directories(scratch, ec);
  if (ec) {
    report.note = fmt::format("not run: cannot create '{}': {}{}", scratch, ec.message(), unchanged);
    return report;
  }

  WorkerOptions worker = options.worker;
  worker.scratch_dir = scratch;
  worker.isolate_network = false;
  // Starting CUDA, LibTorch (and Python) under the sanitizer is slow too.
  worker.startup_timeout_s = std::max(600.0, 5 * options.worker.startup_timeout_s);
  worker.launcher = SanitizerCommand(*sanitizer, options.tool, log_path, worker.startup_timeout_s);
  worker.environment.emplace_back("TMPDIR", scratch);
  std::vector<std::string> argv = worker.launcher;
  argv.insert(argv.end(), {worker.worker_path, "--scratch-dir", scratch, "--memory-limit-mb",
                           std::to_string(worker.memory_limit_mb), "--device", worker.device,
                           "--no-network-isolation"});
  report.command = JoinCommand(argv);

  EvaluateRequest one = *request;
  one.mode = EvalMode::kVerify;
  one.perf_cases.clear();

  std::vector<std::string> problems;
  std::string stderr_tail;
  auto client = WorkerClient::Start(worker);
  if (!client.ok()) {
    problems.push_back(client.status().message());
  } else if (Status sent = (*client)->Send(ToJson(one)); !sent.ok()) {
    problems.push_back("could not send the case: " + sent.message());
    stderr_tail = (*client)->StderrTail();
    (*client)->Kill();
  } else {
    WorkerClient& w = **client;
    const double per_message = SanitizerCaseTimeout(options.case_timeout_s);
    bool done = false;
    while (true) {
      WorkerEvent e = w.Next(done ? kExitGraceSeconds : per_message);
      if (e.kind == WorkerEvent::Kind::kTimedOut) {
        problems.push_back(done ? fmt::format("the worker did not exit within {:.0f} s of finishing; it was killed",
                                              kExitGraceSeconds)
                                : fmt::format("no answer within {:.0f} s under compute-sanitizer; it was killed "
                                              "(the log holds what it found until then)",
                                              per_message));
        stderr_tail = w.StderrTail();
        w.Kill();
        break;
      }
      if (e.kind == WorkerEvent::Kind::kExited) {
        stderr_tail = w.StderrTail();
        if (e.signal == 0) report.exit_code = e.exit_code;
        if (!done && report.outcome.empty()) report.outcome = "the worker " + WorkerEnded(e) + " during the case";
        if (e.signal != 0) problems.push_back("compute-sanitizer " + WorkerEnded(e));
        break;
      }
      const nlohmann::json& m = e.message;
      const std::string type = m.value("type", "");
      if (type == "case") {
        auto o = CaseOutcomeFromJson(m);
        if (o.ok())
          report.outcome = o->reason.empty() ? std::string(VerdictName(o->verdict))
                                             : fmt::format("{}: {}", VerdictName(o->verdict), o->reason);
      } else if (type == "done") {
        if (m.contains("error")) problems.push_back("the worker refused the case: " + m.value("error", ""));
        if (m.contains("verdict") && report.outcome.empty())
          report.outcome = fmt::format("{}: {}", m.value("verdict", ""), m.value("reason", ""));
        // Let the worker (and with it compute-sanitizer) exit normally, so
        // the sanitizer writes its summary and its exit code says whether it
        // found errors. A retired worker has exited already.
        done = true;
        (void)w.Send({{"type", "shutdown"}});
      }
      // begin, heartbeat and lines the sanitizer printed on stdout: nothing to do.
    }
  }

  auto log = ReadFile(log_path);
  if (log.ok() && !log->empty()) {
    report.log = TrimSanitizerLog(*log, kLogLines, kLogBytes, log_path);
  } else {
    problems.push_back(fmt::format("compute-sanitizer wrote no log to {}", log_path));
    if (!stderr_tail.empty()) problems.push_back("the worker's stderr ends with:\n" + stderr_tail);
  }
  if (!problems.empty()) report.note = fmt::format("{}{}", fmt::join(problems, "; "), unchanged);
  return report;
}

nlohmann::json ToJson(const SanitizerReport& r) {
  nlohmann::json j = {{"tool", r.tool}, {"command", r.command}, {"exit_code", r.exit_code},
                      {"log", r.log},   {"note", r.note},       {"outcome", r.outcome}};
  if (r.case_index >= 0) {
    j["case_index"] = r.case_index;
    j["case"] = r.case_label;
  }
  return j;
}

}  // namespace anvil
