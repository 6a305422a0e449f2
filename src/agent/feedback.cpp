// Distilled feedback for the model (see feedback.h).
#include "agent/feedback.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "core/scalar.h"

namespace anvil::agent {
namespace {

std::string ShortenPaths(const std::string& line) {
  // "/long/workspace/agent/session-3/r1-s0.cpp:12:5: error" -> "r1-s0.cpp:12:5: error": the model only knows the file.
  static const std::regex kPath(R"((/[^\s:'"]+/)([^/\s:'"]+))");
  return std::regex_replace(line, kPath, "$2");
}

std::string Bindings(const anvil::Bindings& b) {
  std::string s;
  for (const auto& [k, v] : b) s += fmt::format("{}{}={}", s.empty() ? "" : ", ", k, v);
  return s.empty() ? "(no symbols)" : s;
}

std::string IndexText(const std::vector<int64_t>& index) {
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", index[i]);
  return s + "]";
}

void NotCorrect(const CandidateReport& r, const FeedbackLimits& limits, std::ostringstream& out) {
  out << fmt::format("Verdict: {}. {}\n", VerdictName(r.verdict), r.reason);
  out << fmt::format("Cases passed: {} of {}.\n", r.cases_passed, r.cases.size());
  if (!r.worst || *r.worst >= r.outcomes.size()) return;
  const CaseOutcome& w = r.outcomes[*r.worst];
  const CaseSpec* spec = nullptr;
  for (const CaseSpec& c : r.cases)
    if (c.index == w.index) spec = &c;
  if (spec != nullptr)
    out << fmt::format("Worst case #{}: dtype {}, shape {}, layout {}, distribution {}, seed {}.\n", w.index,
                       spec->variant_label, Bindings(spec->bindings), spec->layout, spec->distribution, spec->seed);
  if (!w.reason.empty() && w.reason != r.reason) out << "  " << w.reason << "\n";
  if (w.numel > 0 || w.max_abs_err > 0 || w.max_rel_err > 0)
    out << fmt::format("  {}max abs error {:.4g}, max rel error {:.4g}, {:.3g}x the allowed error{}; {} of {} elements "
                       "mismatch.\n",
                       w.output.empty() ? "" : "output " + w.output + ": ", w.max_abs_err, w.max_rel_err, w.worst_ratio,
                       w.tolerance.empty() ? "" : " (" + w.tolerance + ")", w.mismatches, w.numel);
  int shown = 0;
  for (const Mismatch& m : w.first_mismatches) {
    if (shown++ >= limits.mismatches) break;
    out << fmt::format("  at {}: expected {}, got {}\n", IndexText(m.index), ElementToString(m.expected),
                       ElementToString(m.actual));
  }
}

void Correct(const CandidateReport& r, std::ostringstream& out) {
  out << fmt::format("Verdict: correct on all {} cases.\n", r.cases.size());
  if (r.timings.empty()) {
    out << "Not timed (the task has no performance shapes).\n";
    return;
  }
  std::map<int, std::map<std::string, double>> medians;  // perf case -> subject -> median ns
  for (const TimingOutcome& t : r.timings) medians[t.index][t.subject] = t.median_ns;
  for (const auto& [index, by] : medians) {
    std::string label = "#" + std::to_string(index);
    for (const CaseSpec& c : r.perf_cases)
      if (c.index == index) label = c.variant_label + " " + Bindings(c.bindings);
    auto it = by.find("candidate");
    if (it == by.end()) continue;
    const double mine = it->second;
    std::string line = fmt::format("Perf {}: yours {}", label, FormatNs(mine));
    for (const char* subject : {"eager", "compile"}) {
      auto b = by.find(subject);
      if (b != by.end() && mine > 0)
        line += fmt::format(", {} {} ({:.2f}x)", subject == std::string("eager") ? "eager PyTorch" : "torch.compile",
                            FormatNs(b->second), b->second / mine);
    }
    for (const CandidateReport::Roofline& roof : r.roofline) {
      if (roof.index != index || roof.speed_of_light_ns <= 0 || mine <= 0) continue;
      std::string bound = "memory";
      if (r.ceilings && roof.work.flops > 0) {
        const double mem_ns = roof.work.min_bytes / r.ceilings->copy_gbps;
        auto peak = r.ceilings->matmul_tflops.find(roof.work.flops_dtype);
        if (peak != r.ceilings->matmul_tflops.end() && peak->second > 0 &&
            roof.work.flops / (peak->second * 1e3) > mem_ns)
          bound = "matmul throughput";
      }
      line += fmt::format("; speed of light {} = {:.0f}% reached, bound by {} ({:.3g} MB must move{})",
                          FormatNs(roof.speed_of_light_ns), 100.0 * roof.speed_of_light_ns / mine, bound,
                          roof.work.min_bytes / 1e6,
                          roof.work.flops > 0 ? fmt::format(", {:.3g} GFLOP", roof.work.flops / 1e9) : "");
    }
    out << line << "\n";
  }
  if (r.speedup) out << fmt::format("Overall: {:.2f}x eager PyTorch", *r.speedup);
  if (r.speedup_compile) out << fmt::format(", {:.2f}x torch.compile", *r.speedup_compile);
  if (r.speedup) out << " (geometric mean).\n";
  if (r.roofline.empty() && !r.roofline_note.empty()) out << "No roofline: " << r.roofline_note << "\n";
}

}  // namespace

std::string FormatNs(double ns) {
  if (ns >= 1e9) return fmt::format("{:.3g} s", ns / 1e9);
  if (ns >= 1e6) return fmt::format("{:.3g} ms", ns / 1e6);
  if (ns >= 1e3) return fmt::format("{:.3g} us", ns / 1e3);
  return fmt::format("{:.3g} ns", ns);
}

std::string FirstCompilerErrors(const std::string& log, int max_lines) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  // Start at the first error; "In function ..." context lines just before it
  // are kept, warnings before it are not.
  static const std::regex kError(R"((\berror\b|Error:|undefined reference))");
  size_t first = lines.size();
  for (size_t i = 0; i < lines.size(); ++i)
    if (std::regex_search(lines[i], kError)) {
      first = i;
      break;
    }
  if (first == lines.size()) first = 0;  // no error line: the log's start says what happened
  else if (first > 0 && lines[first - 1].find("In function") != std::string::npos) --first;
  std::string out;
  int kept = 0;
  for (size_t i = first; i < lines.size() && kept < max_lines; ++i, ++kept) out += ShortenPaths(lines[i]) + "\n";
  if (first + kept < lines.size()) out += fmt::format("[... {} more lines]\n", lines.size() - first - kept);
  return out;
}

std::string FailureClass(const CandidateReport& report) { return std::string(VerdictName(report.verdict)); }

std::string DistilFeedback(const CandidateReport& report, const FeedbackLimits& limits) {
  std::ostringstream out;
  if (report.verdict == Verdict::kBuildError) {
    out << "Verdict: build_error. The file did not compile";
    if (!report.build.forbidden_imports.empty()) {
      out << "; it imports functions a candidate may not use:";
      for (const std::string& f : report.build.forbidden_imports) out << " " << f;
      out << ".\n";
      if (!report.reason.empty()) out << report.reason << "\n";
      return out.str();
    }
    std::string errors =
        FirstCompilerErrors(report.build.log.empty() ? report.reason : report.build.log, limits.compiler_lines);
    // The build compiles a copy named kernel.cpp / kernel.cu in its cache
    // slot (backend/*_build.cpp); the model knows its file by the candidate's name.
    if (!report.candidate_path.empty()) {
      static const std::regex kBuildCopy(R"((^|\s)kernel\.(cpp|cu):)");
      const std::string name = std::filesystem::path(report.candidate_path).filename().string();
      errors = std::regex_replace(errors, kBuildCopy, "$1" + name + ":");
    }
    out << ". First errors:\n" << errors;
    return out.str();
  }
  if (report.verdict != Verdict::kCorrect) {
    NotCorrect(report, limits, out);
    if (!report.worker_stderr.empty() &&
        (report.verdict == Verdict::kCrash || report.verdict == Verdict::kLoadError))
      // FirstCompilerErrors keeps the lines from the first error on (or the
      // first lines when none reads as an error), not the end of the output.
      out << "Worker stderr (from its first error line):\n" << FirstCompilerErrors(report.worker_stderr, 8);
    return out.str();
  }
  Correct(report, out);
  return out.str();
}

}  // namespace anvil::agent
