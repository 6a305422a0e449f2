#include "suite/builtin_generator.h"

namespace anvil::suite {

Result<GeneratedKernel> BuiltinGenerator::Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id) {
  GeneratedKernel out;
  Result<compiler::GenerateResult> g = compiler::Generate(task, store, evaluator, run_id, options_);
  if (!g.ok()) {
    // The compiler refusing a task (an op it has no lowering for, a shape it
    // does not handle) or a task it cannot print for this target: no kernel.
    if (g.status().code() == ErrorCode::kUnsupported || g.status().code() == ErrorCode::kInvalidInput) {
      out.no_kernel_reason = g.status().message();
      return out;
    }
    return g.status();
  }
  if (g->tried.empty()) {
    out.no_kernel_reason = "the compiler evaluated no configuration";
    return out;
  }
  // The winner, or (none correct) the first configuration's failing verdict.
  out.report = g->tried[g->best >= 0 ? g->best : 0].report;
  return out;
}

}  // namespace anvil::suite
