// What the worker knows while it evaluates one candidate: the task (parsed
// from the text the orchestrator sent, with the same code that checked it),
// one compiled formula graph per dtype variant, the attributes, the loaded
// candidate, the device and the thread count. Built once per request.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formula/formula.h"
#include "task/task.h"
#include "verify/protocol.h"
#include "worker/candidate.h"
#include "worker/device.h"

namespace anvil::worker {

struct EvaluationContext {
  Task task;
  std::vector<DTypeVariant> variants;
  std::vector<formula::Graph> graphs;  // per variant
  std::vector<ScalarValue> attr_values;
  NamedAttrs named_attrs;
  std::unique_ptr<Candidate> candidate;
  Device* device = nullptr;  // where tensors live; owned by the worker's main
  // The torch.compile baseline of the formula on the device, for a dtype
  // variant (GPU workers with Python; compiled_baseline.h); empty when there
  // is none. Returns the outputs.
  std::function<Result<std::vector<at::Tensor>>(int variant, const std::vector<at::Tensor>&)> compiled_baseline;
  int threads = 1;

  // Parses the task and compiles its graphs; does not load the candidate.
  static Result<EvaluationContext> Create(const EvaluateRequest& request);
};

}  // namespace anvil::worker
