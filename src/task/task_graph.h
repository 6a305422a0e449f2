// The formula graph of a task for one dtype variant: the bridge between the
// task model and the formula IR. Used when a task loads (type-checking every
// variant), by the worker (reference evaluation) and by the verifier
// (reduction length for tolerances).
//
// Tasks whose reference is a PyTorch module have no graph; what both kinds
// share is the outputs' dtypes and symbolic shapes (TaskOutputs).
#pragma once

#include <vector>

#include "formula/formula.h"
#include "task/task.h"

namespace anvil {

// kInvalidInput for a task whose reference is a module (it has no formula).
Result<formula::Graph> CompileTaskGraph(const Task& task, const DTypeVariant& variant);

// Name, dtype and symbolic shape of each output for `variant`: inferred
// from the formula, or, for a module reference, as declared (an in-place
// output takes its input's). kInvalidInput when a module task leaves one
// undeclared.
Result<std::vector<formula::OutputInfo>> TaskOutputs(const Task& task, const DTypeVariant& variant);

// One parameter of an output's distribution (task/distribution_spec.h),
// resolved for a dtype variant: a number, an attribute's value, an input, or
// a formula over inputs and attributes (its graph has one output named
// `anvil_param`, and declares floating inputs as f64 so that the parameter is
// computed from the inputs' exact values rather than rounded to their dtype). kInvalidInput says why an expression is none of these.
struct DistributionParam {
  enum class Source { kNumber, kInput, kFormula };
  Source source = Source::kNumber;
  double number = 0;  // kNumber (a literal or an attribute's value)
  int input = -1;     // kInput
  // kFormula: the graph, over the inputs and attributes the expression names
  // (a formula may not declare what it does not use), by index in the task.
  formula::Graph graph;
  std::vector<int> graph_inputs, graph_attrs;
};
Result<DistributionParam> ResolveDistributionParam(const Task& task, const DTypeVariant& variant,
                                                   const std::string& expr);

}  // namespace anvil
