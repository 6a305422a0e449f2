// What a candidate's outputs must match for one set of input values: the
// f64 reference (copied to the host) and, per output, the tolerance
// (verify/tolerance.h, calibrated by PyTorch eager on the same values,
// case_tolerance.h) and the comparison mode. One place for the rule, used by
// the correctness cases and by both timers when they check timed outputs.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "verify/protocol.h"
#include "verify/tolerance.h"
#include "worker/compare.h"
#include "worker/evaluation_context.h"

namespace anvil::worker {

struct Expectation {
  std::vector<at::Tensor> expected;  // host, per output
  std::vector<Tolerance> tolerance;  // per output
  std::vector<CompareMode> mode;     // per output

  // Output j of a candidate (on the host) against the expectation.
  CompareResult Check(const EvaluationContext& ctx, size_t j, const at::Tensor& actual_host) const;
};

// `inputs` live on the context's device and are never written: the
// reference and eager run on clones. An error is the reference's failure.
Result<Expectation> Expect(const EvaluationContext& ctx, const CaseSpec& spec, const std::vector<at::Tensor>& inputs);

}  // namespace anvil::worker
