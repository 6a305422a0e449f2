// CPU timing of one performance case: the candidate and the PyTorch eager
// baseline (the formula run op by op by LibTorch in the task's own dtypes),
// with the same thread count, measured in the same process and run.
//
// Method: OpenMP threads pinned to cores (OMP_PROC_BIND=close, set by the
// orchestrator when it starts the worker); `rotations` input sets (fresh values and fresh buffers each) are
// cycled through the trials so no trial sees the buffers of the one before;
// `warmup` untimed calls; `trials` calls timed one by one with a steady
// clock; median and quartiles reported with every raw sample. After timing,
// every rotation's candidate output is checked against the reference, so a
// kernel that behaves differently when timed is caught.
#pragma once

#include <functional>
#include <vector>

#include "verify/protocol.h"
#include "worker/evaluation_context.h"

namespace anvil::worker {

struct PerformanceResult {
  std::vector<TimingOutcome> timings;   // candidate, then eager
  std::optional<CaseOutcome> failure;   // set when the candidate failed while timed
};

PerformanceResult TimePerformanceCase(const EvaluationContext& ctx, const CaseSpec& spec, int warmup, int trials,
                                      int rotations, const std::function<void()>& heartbeat);

// Median and quartiles (linear interpolation) of samples; sorts a copy.
void Summarize(const std::vector<double>& samples, double& median, double& q1, double& q3);

}  // namespace anvil::worker
