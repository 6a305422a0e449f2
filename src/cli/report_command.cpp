// anvil report list | run ID | compare A B: suite runs from the store as a
// terminal summary, JSON, a self-contained HTML page, or a comparison.
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "suite/html_report.h"
#include "suite/metrics.h"
#include "suite/run_comparison.h"
#include "suite/suite_runner.h"
#include "suite/terminal_report.h"

namespace anvil::cli {
namespace {

Result<std::unique_ptr<Store>> OpenStore(const CliConfig& config) { return Store::Open(config.StorePath()); }

int RunReportList(const CliConfig& config) {
  auto store = OpenStore(config);
  if (!store.ok()) return ReportError(store.status());
  auto rows = (*store)->QuerySuiteRuns(50);
  if (!rows.ok()) return ReportError(rows.status());
  nlohmann::json out = nlohmann::json::array();
  for (const SuiteRunRow& r : *rows) {
    auto run = suite::LoadSuiteRun(**store, r.id);
    if (!run.ok()) return ReportError(run.status());
    const suite::SuiteMetrics m = suite::ComputeMetrics(run->tasks);
    if (config.json) {
      out.push_back({{"id", r.id}, {"suite", r.suite}, {"target", r.target}, {"generator", r.generator},
                     {"status", r.status}, {"started_at", r.started_at}, {"metrics", suite::ToJson(m)}});
    } else {
      std::cout << fmt::format("{:>4}  {:<14} {:<7} {:<8} {:<12} {:>4} tasks  correct {:>5.1f}%  geomean vs eager {}  {}\n", r.id,
                               r.suite, r.target, r.generator, r.status.empty() ? "(running)" : r.status, m.tasks,
                               100 * m.correctness_rate,
                               m.eager.geomean_speedup ? fmt::format("{:.2f}x", *m.eager.geomean_speedup) : "-",
                               r.started_at);
    }
  }
  if (config.json) std::cout << out.dump(2) << "\n";
  else if (rows->empty()) std::cout << "(no suite runs yet: anvil suite run SUITE)\n";
  return kExitOk;
}

int RunReportRun(const CliConfig& config, int64_t id, const std::string& html) {
  auto store = OpenStore(config);
  if (!store.ok()) return ReportError(store.status());
  auto run = suite::LoadSuiteRun(**store, id);
  if (!run.ok()) return ReportError(run.status());
  if (!html.empty()) {
    std::ofstream out(html);
    out << suite::RenderHtmlReport(*run);
    if (!out) return ReportError(IoError(html + ": cannot write the HTML report"));
  }
  if (config.json) {
    std::cout << nlohmann::json{{"run", suite::ToJson(*run)}, {"metrics", suite::ToJson(suite::ComputeMetrics(run->tasks))},
                                {"by_dtype", [&] {
                                   nlohmann::json j = nlohmann::json::object();
                                   for (const auto& [d, m] : suite::MetricsByDtype(run->tasks)) j[d] = suite::ToJson(m);
                                   return j;
                                 }()}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << suite::FormatSuiteSummary(*run);
    if (!html.empty()) std::cout << "HTML report: " << html << "\n";
  }
  return kExitOk;
}

int RunReportCompare(const CliConfig& config, int64_t a, int64_t b, double threshold) {
  auto store = OpenStore(config);
  if (!store.ok()) return ReportError(store.status());
  auto before = suite::LoadSuiteRun(**store, a);
  if (!before.ok()) return ReportError(before.status());
  auto after = suite::LoadSuiteRun(**store, b);
  if (!after.ok()) return ReportError(after.status());
  const suite::RunComparison c = suite::CompareRuns(*before, *after, threshold);
  if (config.json) std::cout << suite::ToJson(c).dump(2) << "\n";
  else std::cout << suite::FormatComparison(c);
  return kExitOk;
}

}  // namespace

void AddReportCommands(CLI::App& app, CliConfig& config, int* exit_code) {
  CLI::App* report = app.add_subcommand("report", "Reports of suite runs: summary, JSON, HTML, comparison");
  report->require_subcommand(1);
  CLI::App* list = report->add_subcommand("list", "List suite runs with their headline metrics");
  list->callback([&config, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunReportList(config);
  });
  auto id = std::make_shared<int64_t>(0);
  auto html = std::make_shared<std::string>();
  CLI::App* run = report->add_subcommand("run", "One suite run: summary table (or --json), optionally an HTML file");
  run->add_option("id", *id, "suite run id (anvil report list)")->required();
  run->add_option("--html", *html, "write a self-contained HTML report to this file");
  run->callback([&config, id, html, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunReportRun(config, *id, *html);
  });
  auto ids = std::make_shared<std::vector<int64_t>>();
  auto threshold = std::make_shared<double>(0.10);
  CLI::App* compare = report->add_subcommand("compare", "What improved and what regressed between two suite runs");
  compare->add_option("runs", *ids, "two suite run ids: before after")->required()->expected(2);
  compare->add_option("--threshold", *threshold, "relative speed change reported as faster/slower")->capture_default_str();
  compare->callback([&config, ids, threshold, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunReportCompare(config, (*ids)[0], (*ids)[1], *threshold);
  });
}

}  // namespace anvil::cli
