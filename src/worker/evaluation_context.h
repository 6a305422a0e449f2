// What the worker knows while it evaluates one candidate: the task (parsed
// from the text the orchestrator sent, with the same code that checked it),
// one compiled formula graph per dtype variant, the attributes, the loaded
// candidate and the thread count. Built once per request.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formula/formula.h"
#include "task/task.h"
#include "verify/protocol.h"
#include "worker/candidate_library.h"

namespace anvil::worker {

struct EvaluationContext {
  Task task;
  std::vector<DTypeVariant> variants;
  std::vector<formula::Graph> graphs;  // per variant
  std::vector<ScalarValue> attr_values;
  std::vector<std::pair<std::string, ScalarValue>> named_attrs;
  std::unique_ptr<CandidateLibrary> library;
  int threads = 1;

  // Parses the task and compiles its graphs; does not load the candidate.
  static Result<EvaluationContext> Create(const EvaluateRequest& request);
};

}  // namespace anvil::worker
