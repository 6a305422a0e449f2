#include "suite/terminal_report.h"

#include <sstream>

#include <fmt/format.h>

#include "suite/metrics.h"
#include "suite/number_format.h"

namespace anvil::suite {
namespace {

// The first line of a reason, cut to fit a terminal row.
std::string Short(const std::string& reason, size_t width = 70) {
  std::string line = reason.substr(0, reason.find('\n'));
  return line.size() > width ? line.substr(0, width - 3) + "..." : line;
}

}  // namespace

std::string FormatSuiteSummary(const SuiteRun& run) {
  const SuiteMetrics m = ComputeMetrics(run.tasks);
  std::ostringstream o;
  o << fmt::format("suite run {}: {} --target {} --generator {}\n", run.id, run.suite, run.target, run.generator);
  o << fmt::format("device: {} ({}){}\n\n", run.device.empty() ? "-" : run.device, run.software,
                   run.finished_at.empty() ? "; NOT FINISHED (anvil suite run --resume " + std::to_string(run.id) + ")" : "");
  o << fmt::format("{:<24} {:<28} {}\n", "op", "status", "vs eager  vs compile  speed of light");
  for (const TaskResult& t : run.tasks) {
    std::vector<double> sol;
    for (const CaseTiming& c : t.timings)
      if (auto f = c.SolFraction()) sol.push_back(*f);
    const auto sol_median = Median(sol);
    std::string status = TaskStatusName(t.status);
    if (!t.verdict.empty() && t.status != TaskStatus::kCorrect) status += " (" + t.verdict + ")";
    o << fmt::format("{:<24} {:<28} {:>8}  {:>10}  {:>14}", t.op, status, FormatSpeedup(TaskSpeedupEager(t)),
                     FormatSpeedup(TaskSpeedupCompiled(t)), sol_median ? FormatPercent(*sol_median) : "-");
    if (t.status != TaskStatus::kCorrect && !t.reason.empty()) o << "  " << Short(t.reason);
    o << "\n";
  }
  o << fmt::format("\n{} tasks: ", m.tasks);
  bool first = true;
  for (const auto& [status, n] : m.by_status) {
    o << (first ? "" : ", ") << n << " " << status;
    first = false;
  }
  o << fmt::format("\ncorrect {}   built {}   time {:.0f} s   tokens {}\n", FormatPercent(m.correctness_rate),
                   FormatPercent(m.build_rate), m.seconds, m.tokens);
  for (const auto& [name, b] : {std::pair<const char*, const BaselineMetrics&>{"eager", m.eager},
                                std::pair<const char*, const BaselineMetrics&>{"torch.compile", m.compiled}}) {
    if (b.timed_tasks == 0) continue;
    o << fmt::format("vs {:<14} geomean {:>7} over {} timed tasks;", name, FormatSpeedup(b.geomean_speedup), b.timed_tasks);
    for (double p : FastThresholds()) o << fmt::format(" {} {}", FastName(p), FormatPercent(b.fast_p.at(p)));
    o << "\n";
  }
  if (m.median_sol_fraction) o << fmt::format("speed of light: median {} over timed cases\n", FormatPercent(*m.median_sol_fraction));
  return o.str();
}

}  // namespace anvil::suite
