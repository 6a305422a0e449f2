#include "task/task_graph.h"

namespace anvil {

Result<formula::Graph> CompileTaskGraph(const Task& task, const DTypeVariant& variant) {
  std::vector<formula::InputDecl> inputs;
  for (size_t i = 0; i < task.inputs.size(); ++i)
    inputs.push_back({task.inputs[i].name, variant.input_dtypes[i], task.inputs[i].shape});
  std::vector<formula::AttrDecl> attrs;
  for (const TaskAttr& a : task.attrs) attrs.push_back({a.name, a.value.dtype});
  std::vector<std::string> outputs;
  for (const TaskOutput& o : task.outputs) outputs.push_back(o.name);
  return formula::Compile(task.formula, inputs, attrs, outputs);
}

}  // namespace anvil
