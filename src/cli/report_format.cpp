#include "cli/report_format.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

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

  if (!ok) row("reason", r.reason);
  if (r.worst && !r.outcomes[*r.worst].first_mismatches.empty()) {
    const CaseOutcome& w = r.outcomes[*r.worst];
    std::string m;
    for (const auto& mm : w.first_mismatches)
      m += fmt::format("{}[{}] expected {:.7g} got {:.7g}", m.empty() ? "" : "\n", fmt::join(mm.index, ", "),
                       mm.expected, mm.actual);
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
  if (ok && r.cases_passed > 0)
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
    if (w.numel > 0) row("worst case", fmt::format("{} mismatching of {} elements{}", w.mismatches, w.numel, errors));
  }
  if (!r.worker_stderr.empty() && !ok) row("stderr", r.worker_stderr.substr(0, 600));
  for (size_t i = 0; i + 1 < r.timings.size(); i += 2) {
    const TimingOutcome& c = r.timings[i];
    const TimingOutcome& e = r.timings[i + 1];
    row(i == 0 ? "timing" : "",
        fmt::format("{}: candidate {} (IQR {}–{}), eager {} → {:.2f}x  [{} threads, {} trials]{}",
                    r.perf_cases[c.index].variant_label + " " + BindingsToString(r.perf_cases[c.index].bindings),
                    FormatDuration(c.median_ns), FormatDuration(c.q1_ns), FormatDuration(c.q3_ns),
                    FormatDuration(e.median_ns), e.median_ns / c.median_ns, c.threads, c.samples_ns.size(),
                    WideSpread(c) || WideSpread(e) ? "  (spread over 20% of the median: a busy machine? rerun)"
                                                   : "") +
            (e.note.empty() ? "" : "\n  eager " + e.note.substr(0, e.note.find(':'))));
  }
  if (r.speedup)
    row("speedup", fmt::format("{:.2f}x vs LibTorch eager (geometric mean over {} performance cases)", *r.speedup,
                               r.timings.size() / 2));
  if (r.build.ok)
    row("build", fmt::format("{} {:.1f} s", r.build.cached ? "cached" : "compiled in", r.build.seconds));
  if (r.build.ok && r.verdict != Verdict::kSuspicious) row("sandbox", Sandbox(r.sandbox));
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
              {"seconds", r.seconds}};
  if (r.worst) out["worst_case"] = r.cases.empty() ? "" : r.cases[r.outcomes[*r.worst].index].Label();
  if (r.speedup) out["speedup"] = *r.speedup;
  if (!r.worker_stderr.empty()) out["worker_stderr"] = r.worker_stderr;
  return out;
}

}  // namespace anvil::cli
