#include "task/task_graph.h"

#include <cstdlib>
#include <regex>
#include <set>

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

Result<DistributionParam> ResolveDistributionParam(const Task& task, const DTypeVariant& variant,
                                                   const std::string& expr) {
  DistributionParam p;
  char* end = nullptr;
  const double number = std::strtod(expr.c_str(), &end);
  if (!expr.empty() && end == expr.c_str() + expr.size()) {
    p.number = number;
    return p;
  }
  for (const TaskAttr& a : task.attrs)
    if (a.name == expr) {
      p.number = a.value.AsDouble();
      return p;
    }
  if (int i = task.InputIndex(expr); i >= 0) {
    p.source = DistributionParam::Source::kInput;
    p.input = i;
    return p;
  }
  p.source = DistributionParam::Source::kFormula;
  std::set<std::string> names;
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), kIdentifier); it != std::sregex_iterator(); ++it)
    names.insert(it->str());
  std::vector<formula::InputDecl> inputs;
  for (size_t i = 0; i < task.inputs.size(); ++i) {
    if (!names.count(task.inputs[i].name)) continue;
    p.graph_inputs.push_back(static_cast<int>(i));
    inputs.push_back({task.inputs[i].name, IsFloating(variant.input_dtypes[i]) ? DType::kF64 : variant.input_dtypes[i],
                      task.inputs[i].shape});
  }
  std::vector<formula::AttrDecl> attrs;
  for (size_t a = 0; a < task.attrs.size(); ++a) {
    if (!names.count(task.attrs[a].name)) continue;
    p.graph_attrs.push_back(static_cast<int>(a));
    attrs.push_back({task.attrs[a].name, task.attrs[a].value.dtype});
  }
  auto graph = formula::Compile("anvil_param = " + expr, inputs, attrs, {"anvil_param"});
  if (!graph.ok())
    return InvalidInput(fmt::format("distribution parameter '{}' is not a number, an input or attribute name, or a "
                                    "formula over the inputs: {}",
                                    expr, graph.status().message()));
  p.graph = std::move(graph).value();
  return p;
}

}  // namespace anvil
