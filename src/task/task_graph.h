// The formula graph of a task for one dtype variant: the bridge between the
// task model and the formula IR. Used when a task loads (type-checking every
// variant), by the worker (reference evaluation) and by the verifier
// (reduction length for tolerances).
#pragma once

#include "formula/formula.h"
#include "task/task.h"

namespace anvil {

Result<formula::Graph> CompileTaskGraph(const Task& task, const DTypeVariant& variant);

}  // namespace anvil
