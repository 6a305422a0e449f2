// The reference of a task written as a PyTorch module file (task.h,
// ModuleReference): the module's class instantiated once in the embedded
// interpreter and called on views of the harness's tensors (no copies).
//
// Precisions: kNative calls the module on the inputs as they are (PyTorch
// eager, the timing baseline); kUpcast64 first converts floating inputs to
// f64 and kUpcast32 converts f16/bf16 inputs to f32, and both cast the
// outputs back to the declared dtypes. A module that fixes its own compute
// dtype (x.float()) keeps it; the reference is then as precise as the
// module is. Outputs are checked against the declared count, dtypes (native)
// and shapes (sizes bound from the inputs' declared shapes), so a reference
// that disagrees with its task is reported as the reference's failure, never
// as the candidate's.
//
// The tolerance's reduction length is the task's [compare] reduction_length
// (dims whose product is the number of values summed into one output
// element); 1 (elementwise) when absent: the module's code is opaque.
#pragma once

#include <memory>
#include <set>
#include <vector>

#include "formula/ir.h"
#include "task/task.h"
#include "worker/python/py_ref.h"
#include "worker/reference_model.h"

namespace anvil::worker::python {

class ModuleReference final : public ReferenceModel {
 public:
  // Needs python::Initialize(). `outputs` per dtype variant (task_graph.h,
  // TaskOutputs). kInvalidInput when the module cannot serve (no such
  // class, parameters, a forward that takes a different number of inputs),
  // with the module's own error text when its code raises.
  static Result<std::unique_ptr<ModuleReference>> Load(const Task& task,
                                                       std::vector<std::vector<formula::OutputInfo>> outputs);

  Result<std::vector<at::Tensor>> Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                           reference::Precision precision) const override;
  int64_t ReductionLength(int variant, size_t output, const Bindings& bindings) const override;
  Result<CompiledReference> Compile(int variant) const override;

 private:
  ModuleReference(const Task& task, std::vector<std::vector<formula::OutputInfo>> outputs, PyRef model,
                  PyRef caller);
  // Size bindings read from the inputs' shapes against their declared shapes.
  Result<Bindings> BindSizes(const std::vector<at::Tensor>& inputs) const;

  std::vector<SymShape> input_shapes_;
  std::vector<ScalarValue> attrs_;  // passed after the inputs
  std::vector<std::vector<formula::OutputInfo>> outputs_;  // per variant
  std::optional<SymShape> reduction_dims_;
  std::string path_;
  PyRef model_;   // the nn.Module instance (what torch.compile compiles)
  PyRef caller_;  // model(*inputs) under no_grad, as a tuple
  // (variant, precision, each input's rank and sizes) whose outputs passed
  // the count, shape and dtype checks: not checked again.
  mutable std::set<std::vector<int64_t>> checked_;
};

}  // namespace anvil::worker::python
