// View outputs (task `view_of`): the slots the harness hands a candidate for
// them, the check that what it returned is an alias inside the viewed input's
// storage (wrong otherwise), and the contract check against ATen's own view
// (same strides on every dim of size > 1, same element offset). Backend
// generic: CPU and CUDA candidates share the C ABI, and only addresses are
// inspected, never read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "util/status.h"
#include "worker/candidate.h"
#include "worker/evaluation_context.h"

namespace anvil::worker {

// One slot per view output of the task, its shape at `bindings`, viewing
// `inputs` (as passed to the candidate).
Result<std::vector<ViewSlot>> MakeViewSlots(const Task& task, const std::vector<std::vector<formula::OutputInfo>>& outputs,
                                            int variant, const Bindings& bindings,
                                            const std::vector<at::Tensor>& inputs);

// Where a returned view sits: its first element as an element offset into
// the viewed input's storage.
struct PlacedView {
  int64_t offset = 0;  // 0 for an empty view, whose start is not checked
  bool empty = false;  // a size is 0: it addresses no element
  at::Tensor tensor;  // the view itself, over the input's storage
};

// The view the candidate returned, or why it is not a view of its input
// (data or a stride not set, a start not on an element boundary, a negative
// stride, an element outside the input's allocation): the reason for a
// `wrong` verdict. Strides are non-negative, so the lowest element is the
// start and the highest is start + sum((size_d - 1) * stride_d).
Result<PlacedView> PlaceView(const Task& task, const ViewSlot& slot);

// Compares a placed view's strides and offset with ATen's view `reference`
// of the same input (`viewed`). nullopt when they agree; otherwise the reason.
// A reference that is not an alias of `viewed` is an error Status: the task's
// view_of is wrong, not the candidate.
Result<std::optional<std::string>> CheckViewContract(const Task& task, const ViewSlot& slot, const PlacedView& view,
                                                     const at::Tensor& reference);

}  // namespace anvil::worker
