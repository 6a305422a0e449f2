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

}  // namespace anvil
