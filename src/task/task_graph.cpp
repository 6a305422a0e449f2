#include "task/task_graph.h"

#include <fmt/format.h>

namespace anvil {

Result<formula::Graph> CompileTaskGraph(const Task& task, const DTypeVariant& variant) {
  if (task.module)
    return InvalidInput(fmt::format("task '{}' has a module reference ({}), not a formula", task.name,
                                    task.module->path));
  std::vector<formula::InputDecl> inputs;
  for (size_t i = 0; i < task.inputs.size(); ++i)
    inputs.push_back({task.inputs[i].name, variant.input_dtypes[i], task.inputs[i].shape});
  std::vector<formula::AttrDecl> attrs;
  for (const TaskAttr& a : task.attrs) attrs.push_back({a.name, a.value.dtype});
  std::vector<std::string> outputs;
  for (const TaskOutput& o : task.outputs) outputs.push_back(o.name);
  return formula::Compile(task.formula, inputs, attrs, outputs);
}

Result<std::vector<formula::OutputInfo>> TaskOutputs(const Task& task, const DTypeVariant& variant) {
  if (!task.module) {
    ANVIL_ASSIGN_OR_RETURN(formula::Graph graph, CompileTaskGraph(task, variant));
    return graph.outputs();
  }
  std::vector<formula::OutputInfo> out;
  for (const TaskOutput& o : task.outputs) {
    formula::OutputInfo info;
    info.name = o.name;
    const int inplace_on = o.inplace ? task.InputIndex(*o.inplace) : -1;
    if (o.dtype) {
      auto tv = variant.type_vars.find(*o.dtype);
      info.dtype = tv != variant.type_vars.end() ? tv->second : *ParseDType(*o.dtype);
    } else if (inplace_on >= 0) {
      info.dtype = variant.input_dtypes[inplace_on];
    } else {
      return InvalidInput(fmt::format("output '{}' needs a dtype: with a module reference there is no formula to "
                                      "infer it from",
                                      o.name));
    }
    if (o.shape) {
      info.shape = *o.shape;
    } else if (inplace_on >= 0) {
      info.shape = task.inputs[inplace_on].shape;
    } else {
      return InvalidInput(fmt::format("output '{}' needs a shape, e.g. shape = [\"B\", \"N\"]: with a module "
                                      "reference there is no formula to infer it from",
                                      o.name));
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace anvil
