// One task's suite result from the evaluation of its kernel: the status
// (correct / incorrect / build failed), the verdict and reason, and per
// performance case the candidate's, eager's and torch.compile's medians with
// the roofline facts, exactly as the evaluator measured them.
#pragma once

#include <string>

#include "orchestrator/evaluator.h"
#include "suite/suite_result.h"
#include "task/task.h"

namespace anvil::suite {

// The operator a task measures: its name without a leading "<suite>." prefix.
std::string OpName(const std::string& task_name);

// "f16" for a variant labelled "T=f16" (one type variable), the label itself otherwise.
std::string DtypeLabel(const std::string& variant_label);

// The task's dtype variants as DtypeLabel()s.
std::vector<std::string> TaskDtypes(const Task& task);

TaskResult TaskResultFromReport(const Task& task, const CandidateReport& report);

}  // namespace anvil::suite
