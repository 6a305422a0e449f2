// anvil results: query what the store recorded.
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/report_format.h"
#include "store/store.h"

namespace anvil::cli {
namespace {

struct ResultsArgs {
  std::string task, verdict, kind;
  int64_t run = 0, evaluation = 0;
  int limit = 20;
};

int ShowEvaluation(const CliConfig& config, Store& store, int64_t id) {
  auto cases = store.QueryCases(id);
  if (!cases.ok()) return ReportError(cases.status());
  auto timings = store.QueryTimings(id);
  if (!timings.ok()) return ReportError(timings.status());
  if (config.json) {
    nlohmann::json c = nlohmann::json::array(), t = nlohmann::json::array();
    for (const auto& r : *cases)
      c.push_back({{"case", r.case_index}, {"dtype", r.dtype}, {"bindings", nlohmann::json::parse(r.bindings_json)},
                   {"layout", r.layout}, {"distribution", r.distribution}, {"seed", r.seed}, {"verdict", r.verdict},
                   {"max_abs_err", r.max_abs_err}, {"max_rel_err", r.max_rel_err},
                   {"detail", nlohmann::json::parse(r.detail_json, nullptr, false)}});
    for (const auto& r : *timings)
      t.push_back({{"case", r.case_label}, {"subject", r.subject}, {"threads", r.threads},
                   {"median_ns", r.median_ns}, {"q1_ns", r.q1_ns}, {"q3_ns", r.q3_ns}, {"samples_ns", r.samples_ns}});
    std::cout << nlohmann::json{{"evaluation", id}, {"cases", c}, {"timings", t}}.dump(2) << std::endl;
    return kExitOk;
  }
  if (cases->empty() && timings->empty())
    std::cout << fmt::format("evaluation {} has no case records (build error, load error or unknown id)\n", id);
  for (const auto& r : *cases)
    std::cout << fmt::format("case {:>3}  {:<13} {:<8} {:<22} {:<11} {:<8} seed={:<3} abs={:.2e} rel={:.2e}\n",
                             r.case_index, r.verdict, r.dtype, r.bindings_json, r.layout, r.distribution, r.seed,
                             r.max_abs_err, r.max_rel_err);
  for (const auto& r : *timings)
    std::cout << fmt::format("timing  {:<10} {}  median {} (IQR {}–{}), {} samples, {} threads\n", r.subject,
                             r.case_label, FormatDuration(r.median_ns), FormatDuration(r.q1_ns),
                             FormatDuration(r.q3_ns), r.samples_ns.size(), r.threads);
  return kExitOk;
}

int Run(const CliConfig& config, const ResultsArgs& args) {
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  if (args.evaluation > 0) return ShowEvaluation(config, **store, args.evaluation);
  EvaluationFilter filter;
  if (!args.task.empty()) filter.task_name = args.task;
  if (!args.verdict.empty()) filter.verdict = args.verdict;
  if (!args.kind.empty()) filter.kind = args.kind;
  if (args.run > 0) filter.run_id = args.run;
  filter.limit = args.limit;
  auto rows = (*store)->QueryEvaluations(filter);
  if (!rows.ok()) return ReportError(rows.status());
  if (config.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *rows) {
      nlohmann::json j = {{"evaluation", r.id}, {"run", r.run_id}, {"task", r.task_name}, {"backend", r.backend},
                          {"candidate", r.candidate_path}, {"kind", r.kind}, {"verdict", r.verdict},
                          {"reason", r.reason}, {"cases_total", r.cases_total}, {"cases_passed", r.cases_passed},
                          {"started_at", r.started_at}, {"finished_at", r.finished_at}};
      if (r.candidate_median_ns) j["candidate_median_ns"] = *r.candidate_median_ns;
      if (r.eager_median_ns) j["eager_median_ns"] = *r.eager_median_ns;
      out.push_back(j);
    }
    std::cout << out.dump(2) << std::endl;
    return kExitOk;
  }
  std::cout << fmt::format("{:>5} {:>4}  {:<20} {:<7} {:<13} {:>9}  {:>10} {:>8}  {}\n", "EVAL", "RUN", "TASK", "KIND",
                           "VERDICT", "CASES", "MEDIAN", "SPEEDUP", "CANDIDATE");
  for (const auto& r : *rows) {
    std::string median = r.candidate_median_ns ? FormatDuration(*r.candidate_median_ns) : "-";
    std::string speedup = r.candidate_median_ns && r.eager_median_ns && r.verdict == "correct"
                              ? fmt::format("{:.2f}x", *r.eager_median_ns / *r.candidate_median_ns)
                              : "-";
    std::cout << fmt::format("{:>5} {:>4}  {:<20} {:<7} {:<13} {:>4}/{:<4}  {:>10} {:>8}  {}\n", r.id, r.run_id,
                             r.task_name, r.kind, r.verdict.empty() ? "(running)" : r.verdict, r.cases_passed,
                             r.cases_total, median, speedup, r.candidate_path);
  }
  if (rows->empty()) std::cout << "(no evaluations match)\n";
  return kExitOk;
}

}  // namespace

void AddResultsCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  auto args = std::make_shared<ResultsArgs>();
  CLI::App* cmd = app.add_subcommand("results", "Query recorded evaluations (newest first)");
  cmd->add_option("--task", args->task, "only this task name");
  cmd->add_option("--verdict", args->verdict, "only this verdict (correct, wrong, crash, ...)");
  cmd->add_option("--kind", args->kind, "verify or bench");
  cmd->add_option("--run", args->run, "only this run id");
  cmd->add_option("--evaluation,-e", args->evaluation, "show every case and timing of one evaluation");
  cmd->add_option("--limit,-n", args->limit, "at most this many rows (0: all)")->capture_default_str();
  cmd->callback([&config, args, exit_code] {
    ResolveDefaults(config);
    *exit_code = Run(config, *args);
  });
}

}  // namespace anvil::cli
