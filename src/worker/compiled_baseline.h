// The torch.compile baseline: the task's reference compiled by torch.compile
// inside the worker's embedded interpreter (a formula emitted as Python,
// formula/python_emit.h; a module reference compiled as it is), one compiled
// function per dtype variant, made on first use. It runs on the same device,
// stream and inputs as the candidate and eager.
#pragma once

#include "worker/evaluation_context.h"

namespace anvil::worker {

// The baseline for `ctx` (empty function when this worker has no Python).
// Errors (emitting, compiling, running) surface from the returned function
// and are reported as a note on the timings, not as a candidate failure.
// The function refers to ctx.reference, which must outlive it.
decltype(EvaluationContext::compiled_baseline) MakeCompiledBaseline(const EvaluationContext& ctx);

}  // namespace anvil::worker
