// One correctness case of a random operator (a task whose [compare] mode is
// "statistical"), inside the worker:
//
//   1. inputs as for any case; the seed attribute set to a value derived
//      from the case (a non-negative integer below 2^31), so every case asks
//      for a different stream and a rerun asks for the same one
//   2. each output's distribution evaluated on the inputs
//      (random_distribution.h); a parameter outside its range is the task's
//      error, reported as the harness's
//   3. PyTorch eager, its generators seeded with the case's seed, judged by
//      the same test as the candidate: a task whose distribution PyTorch
//      itself does not follow is wrong, and saying so beats failing every
//      candidate
//   4. the candidate runs (the usual status, fault, guard and read-only
//      input checks, candidate_run.h); each output judged by JudgeSample
//      (statistical_test.h) at the case's false-reject rate
//   5. the same seed again: outputs bitwise identical (a kernel is a
//      function of its inputs and the seed)
//   6. another seed: still a sample of the distribution, and independent of
//      the first (SeedIndependence)
#pragma once

#include "verify/protocol.h"
#include "worker/evaluation_context.h"

namespace anvil::worker {

CaseOutcome RunStatisticalCase(const EvaluationContext& ctx, const CaseSpec& spec);

// The seed attribute's value for a case (and for its second-seed run when
// `second` is true): deterministic, in [0, 2^31).
int64_t CaseRandomSeed(const CaseSpec& spec, bool second);

}  // namespace anvil::worker
