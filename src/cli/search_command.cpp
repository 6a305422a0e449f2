// anvil search: find proven kernels (candidates the store saw verified
// correct) by words, backend, dtype and op kind; the same index the agent
// retrieves examples from and the MCP tool search_kernels reads.
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "store/store.h"

namespace anvil::cli {
namespace {

struct SearchArgs {
  std::vector<std::string> words;
  std::string backend, dtype, op_kind;
  bool saved = false, source = false;
  int limit = 10;
};

// "f32 f16" -> ["f32", "f16"]
nlohmann::json Words(const std::string& text) {
  nlohmann::json out = nlohmann::json::array();
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

nlohmann::json HitJson(const KernelHit& h) {
  return {{"candidate", h.candidate_id},
          {"evaluation", h.evaluation_id},
          {"task", h.task_name},
          {"backend", h.backend},
          {"dtypes", Words(h.dtypes)},
          {"op_kinds", Words(h.op_kinds)},
          {"summary", h.summary},
          {"provenance", h.provenance},
          {"speedup", h.speedup ? nlohmann::json(*h.speedup) : nlohmann::json(nullptr)},
          {"saved", h.saved},
          {"rank", h.rank},
          {"source", h.source}};
}

// What was asked, for the empty-result message: "words 'softmax', backend cuda".
std::string Describe(const KernelSearchQuery& q) {
  std::vector<std::string> parts;
  if (!q.text.empty()) parts.push_back(fmt::format("words '{}'", q.text));
  if (q.backend) parts.push_back("backend " + *q.backend);
  if (q.dtype) parts.push_back("dtype " + *q.dtype);
  if (q.op_kind) parts.push_back("op kind " + *q.op_kind);
  if (q.saved_only) parts.push_back("saved only");
  return parts.empty() ? "no conditions" : fmt::format("{}", fmt::join(parts, ", "));
}

int Run(const CliConfig& config, const SearchArgs& args) {
  KernelSearchQuery query;
  query.text = fmt::format("{}", fmt::join(args.words, " "));
  if (!args.backend.empty()) query.backend = args.backend;
  if (!args.dtype.empty()) query.dtype = args.dtype;
  if (!args.op_kind.empty()) query.op_kind = args.op_kind;
  query.saved_only = args.saved;
  query.limit = args.limit;
  auto store = Store::Open(config.StorePath());
  if (!store.ok()) return ReportError(store.status());
  auto hits = (*store)->SearchKernels(query);
  if (!hits.ok()) return ReportError(hits.status());
  if (config.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const KernelHit& h : *hits) out.push_back(HitJson(h));
    std::cout << out.dump(2) << std::endl;
    return kExitOk;
  }
  if (hits->empty()) {
    std::cout << fmt::format("no proven kernel matches ({}) in {}.\n", Describe(query), config.StorePath());
    std::cout << "Widen the search: other or fewer words, drop --backend/--dtype/--op/--saved, or none at all to list "
                 "every proven kernel.\nKernels are indexed when `anvil verify`, `anvil bench` or `anvil gen` judges "
                 "them correct.\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:>5}  {:<24} {:<7} {:<14} {:<28} {:>8}  {}\n", "EVAL", "TASK", "BACKEND", "DTYPES",
                           "OP KINDS", "SPEEDUP", "PROVENANCE");
  for (const KernelHit& h : *hits) {
    std::string speedup = h.speedup ? fmt::format("{:.2f}x", *h.speedup) : "-";
    std::cout << fmt::format("{:>5}  {:<24} {:<7} {:<14} {:<28} {:>8}  {}{}\n", h.evaluation_id, h.task_name,
                             h.backend, h.dtypes.empty() ? "-" : h.dtypes, h.op_kinds.empty() ? "-" : h.op_kinds,
                             speedup, h.provenance, h.saved ? "  [saved]" : "");
  }
  if (args.source) {
    for (const KernelHit& h : *hits) {
      std::cout << fmt::format("\n--- evaluation {} · {} · {} (candidate {}) ---\n", h.evaluation_id, h.task_name,
                               h.backend, h.candidate_id);
      std::cout << h.source << (h.source.empty() || h.source.back() == '\n' ? "" : "\n");
    }
  } else {
    std::cout << "(--source prints the kernels; anvil results -e EVAL shows an evaluation's cases and timings)\n";
  }
  return kExitOk;
}

}  // namespace

void AddSearchCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app.add_subcommand("search", "Find proven kernels: words, then filters (best match first)");
  cmd->add_option("words", args->words, "words matched against task name, description, formula, op kinds (any may match)");
  cmd->add_option("--backend", args->backend, "only this backend (cpu, cuda, triton)");
  cmd->add_option("--dtype", args->dtype, "only kernels whose task takes this dtype (f32, f16, bf16, ...)");
  cmd->add_option("--op", args->op_kind, "only this op kind (elementwise, reduction, index, softmax, norm, matmul, module)");
  cmd->add_flag("--saved", args->saved, "only kernels someone saved");
  cmd->add_option("--limit,-n", args->limit, "at most this many kernels (0: all)")->capture_default_str();
  cmd->add_flag("--source", args->source, "print each kernel's source");
  cmd->add_flag("--json", config.json, "machine-readable JSON on stdout (sources always included)");
  cmd->footer("Example: anvil search softmax --backend cuda --dtype f16 --op softmax");
  cmd->callback([&config, args, exit_code] {
    ResolveDefaults(config);
    *exit_code = Run(config, *args);
  });
}

}  // namespace anvil::cli
