// What the worker knows while it evaluates one candidate: the task (parsed
// from the text the orchestrator sent, with the same code that checked it),
// its reference (a formula's graphs or a PyTorch module, reference_model.h),
// the outputs' dtypes and shapes per dtype variant, the attributes, the
// loaded candidate, the device and the thread count. Built once per request.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formula/ir.h"
#include "task/cases.h"
#include "task/task_graph.h"
#include "task/task.h"
#include "verify/protocol.h"
#include "worker/candidate.h"
#include "worker/device.h"
#include "worker/reference_model.h"

namespace anvil::worker {

struct EvaluationContext {
  Task task;
  std::vector<DTypeVariant> variants;
  std::vector<std::vector<formula::OutputInfo>> outputs;  // per variant: name, dtype, symbolic shape
  // Statistical tasks: per variant, per output, its distribution's parameters.
  std::vector<std::vector<std::vector<DistributionParam>>> distribution_params;
  std::unique_ptr<ReferenceModel> reference;
  std::vector<ScalarValue> attr_values;
  NamedAttrs named_attrs;
  std::unique_ptr<Candidate> candidate;
  Device* device = nullptr;  // where tensors live; owned by the worker's main
  // The torch.compile baseline of the reference on the device, for a dtype
  // variant (GPU workers with Python; compiled_baseline.h); empty when there
  // is none. Returns the outputs.
  std::function<Result<std::vector<at::Tensor>>(int variant, const std::vector<at::Tensor>&, const ReferenceCase&)>
      compiled_baseline;
  int threads = 1;

  // Parses the task and builds its reference; does not load the candidate.
  // A module reference needs the embedded Python: `start_python` is called
  // first for such tasks (and only for them), and its error is returned.
  static Result<EvaluationContext> Create(const EvaluateRequest& request, const std::function<Status()>& start_python);

  // The sizes and device a reference call for `spec` runs with.
  ReferenceCase ReferenceCaseFor(const CaseSpec& spec) const;
};

}  // namespace anvil::worker
