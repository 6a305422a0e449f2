// The tolerance one output of one case is judged with: the policy
// (verify/tolerance.h: rtol per dtype, atol scaled by the output and the
// reduction length), raised where needed to the error of PyTorch eager
// itself on these inputs.
//
// Why the calibration: an op's conditioning, not the kernel, sets the error
// floor of any honest implementation in the task's dtypes. softmax of inputs
// near 1000 loses ~1e-4 relative in f32 at `x - max`; gelu at x < -5 cancels
// in `1 + tanh(u)`. PyTorch eager hits the same floor. So a candidate may be
// as far from the exact (f64) answer as kBaselineFactor times eager's worst
// error on the same case, and never less strict than the policy. Cheats stay
// visible: precision lowered from f32 to f16 is ~1000x eager's f32 error.
#pragma once

#include <ATen/ATen.h>

#include "verify/tolerance.h"

namespace anvil::worker {

// How many times eager's own worst error a candidate may err.
inline constexpr double kBaselineFactor = 4.0;

// `expected`: the f64 reference cast to the output dtype; `eager`: the eager
// baseline's output (same dtype), or an undefined tensor when there is none.
Tolerance CaseTolerance(DType dtype, int64_t reduction_length, const ToleranceOverrides& overrides,
                        const at::Tensor& expected, const at::Tensor& eager);

// The comparison mode for one output: the task's, except that allclose on an
// integer or bool output means exact.
CompareMode OutputCompareMode(CompareMode task_mode, DType dtype);

}  // namespace anvil::worker
