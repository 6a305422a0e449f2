// View outputs: slots, the alias check and the contract check (view_output.h).
#include "worker/view_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace anvil::worker {
namespace {

std::string Label(const Task& task, const ViewSlot& slot) {
  return fmt::format("output '{}' is not a view of input '{}'", task.outputs[slot.output].name,
                     task.inputs[slot.input].name);
}

}  // namespace

Result<std::vector<ViewSlot>> MakeViewSlots(const Task& task, const std::vector<std::vector<formula::OutputInfo>>& outputs,
                                            int variant, const Bindings& bindings,
                                            const std::vector<at::Tensor>& inputs) {
  std::vector<ViewSlot> slots;
  for (size_t j = 0; j < task.outputs.size(); ++j) {
    const TaskOutput& o = task.outputs[j];
    if (!o.view_of) continue;
    ViewSlot v;
    v.output = j;
    v.input = static_cast<size_t>(task.InputIndex(*o.view_of));
    v.viewed = inputs[v.input];
    ANVIL_ASSIGN_OR_RETURN(v.shape, Concretize(outputs[variant][j].shape, bindings));
    slots.push_back(std::move(v));
  }
  return slots;
}

Result<PlacedView> PlaceView(const Task& task, const ViewSlot& slot) {
  const std::string what = Label(task, slot);
  const at::Tensor& in = slot.viewed;
  for (size_t d = 0; d < slot.strides.size(); ++d) {
    if (slot.strides[d] == ViewSlot::kUnsetStride)
      return InvalidInput(fmt::format("{} (strides[{}] was not set)", what, d));
    if (slot.strides[d] < 0)
      return InvalidInput(fmt::format("output '{}': strides[{}] = {} is negative; ATen's views never step backwards",
                                      task.outputs[slot.output].name, d, slot.strides[d]));
  }
  bool empty = false;
  for (int64_t s : slot.shape) empty = empty || s == 0;
  PlacedView placed;
  placed.empty = empty;
  if (empty) {
    // An empty view addresses nothing, so where it starts cannot matter (an
    // empty input's own data pointer is NULL, and so is its view's).
    placed.offset = 0;
    placed.tensor = in.as_strided(slot.shape, slot.strides, 0);
    return placed;
  }
  if (slot.data == nullptr) return InvalidInput(what + " (data was left NULL: set it to the view's start)");
  const int64_t item = static_cast<int64_t>(in.element_size());
  const char* base = static_cast<const char*>(in.storage().data());
  const int64_t storage_numel = static_cast<int64_t>(in.storage().nbytes()) / item;
  // Pointer difference as integers: the candidate's pointer may lie anywhere.
  const __int128 bytes = static_cast<__int128>(reinterpret_cast<intptr_t>(slot.data)) +
                         static_cast<__int128>(slot.byte_offset) -
                         static_cast<__int128>(reinterpret_cast<intptr_t>(base));
  if (bytes % item != 0)
    return InvalidInput(fmt::format("{} (its start is {} bytes from the input's storage, not a whole number of "
                                    "{}-byte elements)",
                                    what, static_cast<long long>(bytes), item));
  const __int128 offset = bytes / item;
  __int128 hi = offset;
  for (size_t d = 0; d < slot.shape.size(); ++d)
    hi += static_cast<__int128>(slot.shape[d] - 1) * slot.strides[d];
  if (offset < 0 || hi >= storage_numel)
    return InvalidInput(fmt::format("{} (it addresses elements {}..{} of the input's storage, which holds {}; "
                                    "strides [{}])",
                                    what, static_cast<long long>(offset), static_cast<long long>(hi), storage_numel,
                                    fmt::join(slot.strides, ", ")));
  placed.offset = static_cast<int64_t>(offset);
  placed.tensor = in.as_strided(slot.shape, slot.strides, placed.offset);
  return placed;
}

Result<std::optional<std::string>> CheckViewContract(const Task& task, const ViewSlot& slot, const PlacedView& view,
                                                     const at::Tensor& reference) {
  const std::string& out = task.outputs[slot.output].name;
  const std::string& in = task.inputs[slot.input].name;
  // An empty view addresses nothing: neither its strides nor its start can be wrong.
  if (view.empty) return std::optional<std::string>();
  // Aliasing is judged by address, not storage identity: a module reference
  // hands its outputs back through DLPack, which keeps the data pointer but
  // wraps it in a new storage.
  const at::Tensor& input = slot.viewed;
  const int64_t item = static_cast<int64_t>(input.element_size());
  const auto base = reinterpret_cast<intptr_t>(input.storage().data());
  const auto nbytes = static_cast<intptr_t>(input.storage().nbytes());
  int64_t reference_offset = 0;
  if (reference.defined() && reference.numel() > 0) {
    const intptr_t start = reinterpret_cast<intptr_t>(reference.data_ptr()) - base;
    if (start < 0 || start >= nbytes || start % item != 0)
      return InvalidInput(fmt::format("task error: output '{}' declares view_of = \"{}\", but the reference's "
                                      "output is not an alias of that input (fix the task's view_of)",
                                      out, in));
    reference_offset = static_cast<int64_t>(start / item);
  }
  if (reference.sizes() != at::IntArrayRef(slot.shape))
    return InvalidInput(fmt::format("task error: output '{}' is declared with sizes [{}] but ATen's view has [{}]",
                                    out, fmt::join(slot.shape, ", "), fmt::join(reference.sizes(), ", ")));
  for (size_t d = 0; d < slot.shape.size(); ++d)
    if (slot.shape[d] > 1 && slot.strides[d] != reference.stride(static_cast<int64_t>(d)))
      return std::optional<std::string>(fmt::format(
          "output '{}': stride of dim {} is {} where ATen's view of input '{}' has {} (strides [{}] vs ATen's [{}])",
          out, d, slot.strides[d], in, reference.stride(static_cast<int64_t>(d)), fmt::join(slot.strides, ", "),
          fmt::join(reference.strides(), ", ")));
  if (reference.numel() > 0 && view.offset != reference_offset)
    return std::optional<std::string>(fmt::format("output '{}': the view starts at element {} of input '{}''s "
                                                  "storage where ATen's starts at {}",
                                                  out, view.offset, in, reference_offset));
  return std::optional<std::string>();
}

}  // namespace anvil::worker
