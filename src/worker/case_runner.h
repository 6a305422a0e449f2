// One correctness case, end to end, inside the worker:
//
//   1. inputs generated on the host (seeded, layout, distribution, domain)
//      and placed on the device in guarded memory; the host copies stay
//      pristine
//   2. the reference runs first, on clones, in f64 on the device
//   3. outputs allocated in guarded memory and poisoned
//   4. the candidate runs; a non-OK status is a runtime_error; on a GPU the
//      device is synchronised and a CUDA error is a runtime_error, or a
//      crash when it destroyed the context
//   5. guard zones intact (outputs: wrong; inputs: suspicious), inputs
//      unchanged unless the task writes them in place (suspicious)
//   6. each output compared with the reference under the tolerance policy
//   7. the candidate runs again on fresh buffers holding the same values: the
//      outputs must be bitwise identical (deterministic tasks)
//   8. an output that is constant where the reference varies is suspicious
// A crash or hang in step 4 or 7 kills the worker; the orchestrator, which
// was told which case began, records it.
#pragma once

#include "verify/protocol.h"
#include "worker/evaluation_context.h"

namespace anvil::worker {

CaseOutcome RunCorrectnessCase(const EvaluationContext& ctx, const CaseSpec& spec);

// Host inputs for a case, generated exactly as RunCorrectnessCase does
// (timing reuses it with other seeds): the pristine values.
Result<std::vector<at::Tensor>> MakeHostInputs(const EvaluationContext& ctx, const CaseSpec& spec);
// The same inputs placed on the context's device (guarded copies).
Result<std::vector<at::Tensor>> MakeInputs(const EvaluationContext& ctx, const CaseSpec& spec);
// Fresh poisoned outputs on the device (contiguous, guarded); in-place outputs alias their input.
Result<std::vector<at::Tensor>> MakeOutputs(const EvaluationContext& ctx, const CaseSpec& spec,
                                            const std::vector<at::Tensor>& inputs);

}  // namespace anvil::worker
