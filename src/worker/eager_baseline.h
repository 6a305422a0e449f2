// The PyTorch eager baseline: the reference (a formula run op by op by
// LibTorch, or the module's forward) in the task's own dtypes. Where LibTorch has no CPU kernel for a half type
// (LibTorch 1.13 lacks f16 softmax and gelu, among others) the baseline is
// what a PyTorch user writes instead: compute in f32 and cast back. Which of
// the two ran is reported with the timings.
//
// Also the verifier's calibration: how far an honest implementation in the
// task's dtypes lands from the f64 reference on these very inputs.
#pragma once

#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "reference/evaluate.h"
#include "worker/reference_model.h"

namespace anvil::worker {

struct EagerResult {
  std::vector<at::Tensor> outputs;
  reference::Precision precision = reference::Precision::kNative;
  std::string note;  // set when the f32 fallback ran, saying why
};

Result<EagerResult> EvaluateEager(const ReferenceModel& reference, int variant, const std::vector<at::Tensor>& inputs,
                                  const ReferenceCase& where);

}  // namespace anvil::worker
