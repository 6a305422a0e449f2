// Semantic checks of a parsed task, beyond what the file syntax enforces:
// unique names, every shape symbol bound in every case, the formula compiles
// for every dtype variant and yields the declared outputs with the declared
// dtypes, in-place outputs match their input, the comparison mode fits.
#pragma once

#include "task/task.h"
#include "util/status.h"

namespace anvil {

Status CheckTask(const Task& task);

}  // namespace anvil
