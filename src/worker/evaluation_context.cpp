#include "worker/evaluation_context.h"

#include "task/task_file.h"
#include "task/task_graph.h"
#include "worker/formula_reference.h"
#include "worker/python/python_runtime.h"
#if ANVIL_WITH_PYTHON
#include "worker/python/module_reference.h"
#endif

namespace anvil::worker {

Result<EvaluationContext> EvaluationContext::Create(const EvaluateRequest& request,
                                                    const std::function<Status()>& start_python) {
  EvaluationContext ctx;
  ANVIL_ASSIGN_OR_RETURN(ctx.task, ParseTask(request.task_text, request.task_origin));
  ctx.variants = ctx.task.Variants();
  for (const DTypeVariant& v : ctx.variants) {
    ANVIL_ASSIGN_OR_RETURN(std::vector<formula::OutputInfo> outs, TaskOutputs(ctx.task, v));
    ctx.outputs.push_back(std::move(outs));
    if (ctx.task.compare.mode != CompareMode::kStatistical) continue;
    std::vector<std::vector<DistributionParam>> per_output;
    for (const TaskOutput& o : ctx.task.outputs) {
      std::vector<DistributionParam> params;
      for (const std::string& expr : o.distribution->params) {
        ANVIL_ASSIGN_OR_RETURN(DistributionParam p, ResolveDistributionParam(ctx.task, v, expr));
        params.push_back(std::move(p));
      }
      per_output.push_back(std::move(params));
    }
    ctx.distribution_params.push_back(std::move(per_output));
  }
  for (const TaskAttr& a : ctx.task.attrs) {
    ctx.attr_values.push_back(a.value);
    ctx.named_attrs.emplace_back(a.name, a.value);
  }
  if (ctx.task.module) {
#if ANVIL_WITH_PYTHON
    ANVIL_RETURN_IF_ERROR(start_python());
    ANVIL_ASSIGN_OR_RETURN(ctx.reference, python::ModuleReference::Load(ctx.task, ctx.outputs));
#else
    (void)start_python;
    return Unsupported("this anvil-worker was built without Python; a task whose reference is a PyTorch module "
                       "needs a build with Python (python3-dev) and PyTorch for that Python");
#endif
  } else {
    std::vector<formula::Graph> graphs;
    for (const DTypeVariant& v : ctx.variants) {
      ANVIL_ASSIGN_OR_RETURN(formula::Graph g, CompileTaskGraph(ctx.task, v));
      graphs.push_back(std::move(g));
    }
    ctx.reference = std::make_unique<FormulaReference>(std::move(graphs), ctx.attr_values);
  }
  ctx.threads = request.threads;
  return ctx;
}

ReferenceCase EvaluationContext::ReferenceCaseFor(const CaseSpec& spec) const {
  return ReferenceCase{spec.bindings, device ? device->name() : "cpu"};
}

}  // namespace anvil::worker
