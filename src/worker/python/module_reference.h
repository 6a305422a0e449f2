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
// Keyword-only parameters of forward (after `*`) are filled per call: a size
// symbol bound in every case gets the case's size, a type variable the
// variant's torch.dtype (f64 / f32 under the upcast precisions, as floating
// inputs are cast), `device` the harness's torch.device. That is how a task
// with no tensor input (arange, zeros) makes outputs of the case's sizes and
// dtype where the candidate runs; any other keyword-only name fails to load.
//
// The tolerance's reduction length is the task's [compare] reduction_length
// (dims whose product is the number of values summed into one output
// element); 1 (elementwise) when absent: the module's code is opaque.
#pragma once

#include <map>
#include <memory>
#include <string>
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
                                           const ReferenceCase& where,
                                           reference::Precision precision) const override;
  int64_t ReductionLength(int variant, size_t output, const Bindings& bindings) const override;
  Result<CompiledReference> Compile(int variant) const override;

 private:
  ModuleReference(const Task& task, std::vector<std::vector<formula::OutputInfo>> outputs, PyRef model,
                  PyRef caller, std::vector<std::string> keywords, PyRef make_keywords);
  // forward's keyword arguments for one call (a borrowed dict, or null when
  // forward takes none), made once per variant, precision, sizes and device.
  Result<PyObject*> Keywords(int variant, const ReferenceCase& where, reference::Precision precision) const;

  std::vector<DTypeVariant> variants_;
  std::vector<ScalarValue> attrs_;  // passed after the inputs
  std::vector<std::string> keywords_;  // forward's keyword-only parameters
  PyRef make_keywords_;                // the bridge's reference_keywords
  mutable std::map<std::string, PyRef> keyword_cache_;
  std::vector<std::vector<formula::OutputInfo>> outputs_;  // per variant
  std::optional<SymShape> reduction_dims_;
  std::string path_;
  PyRef model_;   // the nn.Module instance (what torch.compile compiles)
  PyRef caller_;  // model(*inputs) under no_grad, as a tuple
  // (variant, precision, the case's sizes) whose outputs passed the count,
  // shape and dtype checks: not checked again.
  mutable std::set<std::vector<int64_t>> checked_;
};

}  // namespace anvil::worker::python
