// The reference of a formula task: the formula's graph per dtype variant,
// evaluated by LibTorch (reference/evaluate.h), compiled for the
// torch.compile baseline by emitting it as Python (formula/python_emit.h).
#pragma once

#include <vector>

#include "core/scalar.h"
#include "formula/ir.h"
#include "worker/reference_model.h"

namespace anvil::worker {

class FormulaReference final : public ReferenceModel {
 public:
  FormulaReference(std::vector<formula::Graph> graphs, std::vector<ScalarValue> attrs)
      : graphs_(std::move(graphs)), attrs_(std::move(attrs)) {}

  // A formula's sizes all come from its inputs: `where` is not needed.
  Result<std::vector<at::Tensor>> Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                           const ReferenceCase& where,
                                           reference::Precision precision) const override;
  int64_t ReductionLength(int variant, size_t output, const Bindings& bindings) const override;
  Result<CompiledReference> Compile(int variant) const override;

 private:
  std::vector<formula::Graph> graphs_;  // per dtype variant
  std::vector<ScalarValue> attrs_;
};

}  // namespace anvil::worker
