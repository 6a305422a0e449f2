// GPU timing of one performance case: the candidate, PyTorch eager and (when
// the worker has Python) torch.compile, measured in the same process, on the
// same stream, buffers and values.
//
// Every trial, outside the timed region:
//   - the trial's input buffers (one of `rotations` sets, each its own guarded
//     allocation) are refilled with one of `rotations + 1` value sets, so a
//     buffer seldom holds the values it held the time before: a kernel that
//     keys a cache on pointers returns stale results, which are caught;
//   - the candidate's outputs are poisoned again;
//   - L2 is overwritten (a memset of twice its size), so no trial reads data
//     the previous one left in cache.
// Timed: a CUDA event before the call and one after it, on the stream the
// candidate is given. Then the host waits for the end event (t_a) and for
// the whole device (t_b): "drain" = t_b - t_a is how long the device kept
// working after the stream was done — about the cost of a synchronisation,
// unless the call left work on another stream. The host wall time from the
// call to device idle is kept as a cross-check.
//
// After every candidate trial its outputs are checked against that value
// set: the first output of each value set fully against the f64 reference
// (with the case's tolerance), later ones bitwise against the first
// (deterministic tasks) or fully again.
//
// A candidate whose median drain exceeds eager's by more than
// max(2 us, 25% of its median time) left work outside its stream: the timing
// is not credited (verdict suspicious).
#pragma once

#include <functional>

#include "worker/evaluation_context.h"
#include "worker/timing.h"

namespace anvil::worker {

PerformanceResult TimeCudaPerformanceCase(const EvaluationContext& ctx, const CaseSpec& spec, int warmup, int trials,
                                          int rotations, const std::function<void()>& heartbeat);

}  // namespace anvil::worker
