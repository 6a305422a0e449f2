#include "cli/report_format.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/scalar.h"

namespace anvil::cli {

using nlohmann::json;

std::string FormatDuration(double ns) {
  if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
  if (ns < 1e6) return fmt::format("{:.2f} us", ns / 1e3);
  if (ns < 1e9) return fmt::format("{:.3f} ms", ns / 1e6);
  return fmt::format("{:.2f} s", ns / 1e9);
}

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Indent(const std::string& text, const std::string& pad) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    out += (out.empty() ? "" : "\n" + pad) + line;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string Sandbox(const SandboxReport& s) {
  std::vector<std::string> parts;
  parts.push_back(s.network_isolated ? "no network" : "network NOT isolated");
  parts.push_back(s.seccomp ? "no process creation (seccomp)" : "process creation NOT blocked");
  parts.push_back(s.landlock ? "writes confined (landlock)" : "writes NOT confined");
  parts.push_back(s.memory_limit_mb ? fmt::format("{} MiB memory limit", s.memory_limit_mb) : "no memory limit");
  return fmt::format("{}", fmt::join(parts, ", "));
}

// The sanitizer re-run in a few lines: what ran and how it ended, then the
// first lines of its log without compute-sanitizer's "========= " prefix.
std::string Sanitizer(const SanitizerReport& s) {
  constexpr int kShownLines = 12;
  std::string out = s.case_index >= 0 ? fmt::format("compute-sanitizer ({}) on case {} ({})", s.tool, s.case_index,
                                                    s.case_label)
                                      : fmt::format("compute-sanitizer ({})", s.tool);
  if (!s.command.empty())
    out += s.exit_code == kSanitizerErrorExitCode ? ": reported errors"
           : s.exit_code >= 0                     ? fmt::format(": exit code {}", s.exit_code)
                                                  : ": stopped";
  if (!s.outcome.empty()) out += "\n  the case: " + s.outcome.substr(0, 300);
  int shown = 0;
  std::istringstream log(s.log);
  for (std::string line; shown < kShownLines && std::getline(log, line);) {
    if (line.rfind("=========", 0) == 0) {
      size_t text = line.find_first_not_of('=');
      line = text == std::string::npos ? "" : line.substr(text + 1);  // one space follows the prefix
    }
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    out += "\n  " + line;
    ++shown;
  }
  if (!s.note.empty()) out += "\n  note: " + s.note.substr(0, 600);
  return out;
}

// An interquartile range above a fifth of the median: the numbers are noise-bound.
bool WideSpread(const TimingOutcome& t) { return t.median_ns > 0 && (t.q3_ns - t.q1_ns) > 0.2 * t.median_ns; }

}  // namespace

std::string FormatReport(const CandidateReport& r, bool color) {
  bool ok = r.verdict == Verdict::kCorrect;
  std::string verdict = Upper(VerdictName(r.verdict));
  if (color) verdict = (ok ? "\033[32m" : "\033[31m") + verdict + "\033[0m";
  std::string out = fmt::format("{}  [task {}]  {}\n", std::filesystem::path(r.candidate_path).filename().string(),
                                r.task_name, verdict);
  auto row = [&](const char* key, const std::string& value) { out += fmt::format("  {:<11}{}\n", key, Indent(value, std::string(13, ' '))); };

  if (!r.reference_author.empty())
    row("reference", fmt::format("written by {}, not by people: a correct verdict means the kernel agrees with "
                                 "that reference — check it", r.reference_author));
  if (!ok) row("reason", r.reason);
  if (r.worst && !r.outcomes[*r.worst].first_mismatches.empty()) {
    const CaseOutcome& w = r.outcomes[*r.worst];
    std::string m;
    for (const auto& mm : w.first_mismatches)
      m += fmt::format("{}[{}] expected {} got {}", m.empty() ? "" : "\n", fmt::join(mm.index, ", "),
                       ElementToString(mm.expected), ElementToString(mm.actual));
    row("mismatches", m);
    row("tolerance", w.tolerance);
  }
  if (r.build.ok || r.verdict != Verdict::kBuildError) {
    int ran = static_cast<int>(r.outcomes.size());
    row("cases", fmt::format("{}/{} passed{}", r.cases_passed, r.cases.size(),
                             ran < static_cast<int>(r.cases.size()) && ran > 0
                                 ? fmt::format(" (stopped after {})", ran)
                                 : ""));
  }
  // A random operator's cases carry the statistical tests' rule instead of errors.
  const CaseOutcome* statistical = nullptr;
  for (const CaseOutcome& o : r.outcomes)
    if (o.statistical && (!statistical || o.numel > statistical->numel)) statistical = &o;
  if (ok && statistical)
    row("judged", fmt::format("{} (largest case, {} values)", statistical->tolerance, statistical->numel));
  else if (ok && r.cases_passed > 0)
    row("worst err", fmt::format("max abs {:.3g}, max rel {:.3g} ({:.2f} of the allowed error at worst)",
                                 r.max_abs_err, r.max_rel_err, r.worst_ratio));
  if (!ok && r.worst) {
    const CaseOutcome& w = r.outcomes[*r.worst];
    // Errors are measured over elements where both values are finite (and not
    // at all in exact mode), so they can be 0 while elements mismatch.
    bool nonfinite = false;
    for (const auto& m : w.first_mismatches)
      nonfinite = nonfinite || !std::isfinite(m.expected) || !std::isfinite(m.actual);
    std::string errors = w.max_abs_err > 0 ? fmt::format("; max abs err {:.3g}, max rel err {:.3g}", w.max_abs_err,
                                                         w.max_rel_err)
                         : nonfinite ? " (NaN or infinity where the reference differs)"
                                     : "";
    if (w.numel > 0 && !(statistical && w.mismatches == 0)) row("worst case", fmt::format("{} mismatching of {} elements{}", w.mismatches, w.numel, errors));
  }
  if (!r.worker_stderr.empty() && !ok) row("stderr", r.worker_stderr.substr(0, 600));
  // One line per performance case: the candidate, then each baseline with its speedup.
  for (size_t p = 0; p < r.perf_cases.size(); ++p) {
    const TimingOutcome* c = nullptr;
    std::vector<const TimingOutcome*> baselines;
    for (const TimingOutcome& t : r.timings) {
      if (t.index != static_cast<int>(p)) continue;
      if (t.subject == "candidate")
        c = &t;
      else
        baselines.push_back(&t);
    }
    if (c == nullptr) continue;
    bool wide = WideSpread(*c);
    std::string line = fmt::format("{}: candidate {} (IQR {}–{})",
                                   r.perf_cases[p].variant_label + " " + BindingsToString(r.perf_cases[p].bindings),
                                   FormatDuration(c->median_ns), FormatDuration(c->q1_ns), FormatDuration(c->q3_ns));
    std::string notes;
    for (const TimingOutcome* b : baselines) {
      wide = wide || WideSpread(*b);
      line += fmt::format(", {} {} → {:.2f}x", b->subject == "compile" ? "torch.compile" : "eager",
                          FormatDuration(b->median_ns), b->median_ns / c->median_ns);
      if (!b->note.empty()) notes += "\n  " + b->subject + ": " + b->note.substr(0, 200);
    }
    line += c->l2_flushed ? fmt::format("  [GPU events, L2 flushed, {} trials]", c->samples_ns.size())
                          : fmt::format("  [{} threads, {} trials]", c->threads, c->samples_ns.size());
    if (wide) line += "  (spread over 20% of the median: a busy machine? rerun)";
    row(p == 0 ? "timing" : "", line + notes);
  }
  if (r.speedup)
    row("speedup", fmt::format("{:.2f}x vs PyTorch eager{} (geometric mean over {} performance cases)", *r.speedup,
                               r.speedup_compile ? fmt::format(", {:.2f}x vs torch.compile", *r.speedup_compile) : "",
                               r.perf_cases.size()));
  for (const CandidateReport::Roofline& rf : r.roofline) {
    const TimingOutcome* c = nullptr;
    for (const TimingOutcome& t : r.timings)
      if (t.index == rf.index && t.subject == "candidate") c = &t;
    if (c == nullptr || c->median_ns <= 0 || rf.speed_of_light_ns <= 0) continue;
    std::string achieved = rf.work.flops > 0
                               ? fmt::format("{:.1f} TFLOP/s ({})", rf.work.flops / c->median_ns / 1e3,
                                             rf.work.flops_dtype)
                               : fmt::format("{:.0f} GB/s", rf.work.min_bytes / c->median_ns);
    row(rf.index == 0 ? "roofline" : "",
        fmt::format("{}: {} = {:.0f}% of the speed of light ({} at the measured {:.0f} GB/s copy{})",
                    r.perf_cases[rf.index].variant_label, achieved, 100 * rf.speed_of_light_ns / c->median_ns,
                    FormatDuration(rf.speed_of_light_ns), r.ceilings->copy_gbps,
                    rf.work.flops > 0 ? fmt::format(", {:.0f} TFLOP/s {} matmul",
                                                    r.ceilings->matmul_tflops.count(rf.work.flops_dtype)
                                                        ? r.ceilings->matmul_tflops.at(rf.work.flops_dtype)
                                                        : 0.0,
                                                    rf.work.flops_dtype)
                                      : ""));
  }
  if (!r.roofline_note.empty()) row("roofline", r.roofline_note);
  if (r.device.contains("compute_capability"))
    row("device", fmt::format("{} (sm {}), driver {}, CUDA {}, PyTorch {}", r.device.value("name", "?"),
                              r.device.value("compute_capability", "?"), r.device.value("driver", "?"),
                              r.device.value("cuda_runtime", "?"), r.device.value("torch", "?")));
  if (r.build.ok)
    row("build", fmt::format("{} {:.1f} s", r.build.cached ? "cached" : "compiled in", r.build.seconds));
  if (r.build.ok && r.verdict != Verdict::kSuspicious) row("sandbox", Sandbox(r.sandbox));
  if (r.sanitizer) row("sanitizer", Sanitizer(*r.sanitizer));
  return out;
}

json ReportToJson(const CandidateReport& r) {
  json cases = json::array();
  for (const CaseOutcome& o : r.outcomes) {
    json c = ToJson(o);
    c.erase("type");
    c["case"] = r.cases[o.index].Label();
    cases.push_back(c);
  }
  json timings = json::array();
  for (const TimingOutcome& t : r.timings) {
    json j = ToJson(t);
    j.erase("type");
    j["case"] = r.perf_cases[t.index].Label();
    j["spread_too_wide"] = WideSpread(t);  // the terminal's "(spread over 20% ...)" flag, for scripts
    timings.push_back(j);
  }
  json out = {{"candidate", r.candidate_path},
              {"task", r.task_name},
              {"verdict", VerdictName(r.verdict)},
              {"reason", r.reason},
              {"cases_total", r.cases.size()},
              {"cases_passed", r.cases_passed},
              {"cases", cases},
              {"max_abs_err", r.max_abs_err},
              {"max_rel_err", r.max_rel_err},
              {"worst_ratio", r.worst_ratio},
              {"timings", timings},
              {"build", {{"ok", r.build.ok}, {"cached", r.build.cached}, {"seconds", r.build.seconds},
                         {"log", r.build.log}, {"command", r.build.command}, {"cache_key", r.build.cache_key}}},
              {"sandbox", ToJson(r.sandbox)},
              {"evaluation_id", r.evaluation_id},
              {"seconds", r.seconds},
              {"worker_start_seconds", r.worker_start_seconds}};
  if (!r.worker_startup.is_null()) out["worker_startup_seconds"] = r.worker_startup;
  if (!r.reference_author.empty()) out["reference_author"] = r.reference_author;
  if (r.worst) out["worst_case"] = r.cases.empty() ? "" : r.cases[r.outcomes[*r.worst].index].Label();
  if (r.speedup) out["speedup"] = *r.speedup;
  if (r.speedup_compile) out["speedup_compile"] = *r.speedup_compile;
  if (!r.device.empty()) out["device"] = r.device;
  if (r.ceilings) out["device_ceilings"] = ToJson(*r.ceilings);
  for (const CandidateReport::Roofline& rf : r.roofline)
    out["roofline"].push_back({{"case", r.perf_cases[rf.index].Label()},
                               {"min_bytes", rf.work.min_bytes},
                               {"flops", rf.work.flops},
                               {"speed_of_light_ns", rf.speed_of_light_ns}});
  if (!r.worker_stderr.empty()) out["worker_stderr"] = r.worker_stderr;
  if (r.sanitizer) out["sanitizer"] = ToJson(*r.sanitizer);
  return out;
}

}  // namespace anvil::cli
