#include "worker/evaluation_context.h"

#include "task/task_file.h"
#include "task/task_graph.h"

namespace anvil::worker {

Result<EvaluationContext> EvaluationContext::Create(const EvaluateRequest& request) {
  EvaluationContext ctx;
  ANVIL_ASSIGN_OR_RETURN(ctx.task, ParseTask(request.task_text, request.task_origin));
  ctx.variants = ctx.task.Variants();
  for (const DTypeVariant& v : ctx.variants) {
    ANVIL_ASSIGN_OR_RETURN(formula::Graph g, CompileTaskGraph(ctx.task, v));
    ctx.graphs.push_back(std::move(g));
  }
  for (const TaskAttr& a : ctx.task.attrs) {
    ctx.attr_values.push_back(a.value);
    ctx.named_attrs.emplace_back(a.name, a.value);
  }
  ctx.threads = request.threads;
  return ctx;
}

}  // namespace anvil::worker
