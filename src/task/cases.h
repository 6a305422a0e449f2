// Expansion of a task's case matrix into the concrete cases the worker runs.
//
// Correctness: for every dtype variant and every shape, max(#seeds, #layouts,
// #distributions) cases that cycle through seeds, layouts and distributions,
// so each layout and each distribution meets every shape and variant while
// the count stays linear (not a full product). Performance: every variant and
// performance shape once, contiguous, normal values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "task/task.h"

namespace anvil {

struct CaseSpec {
  int index = 0;        // position in its list
  int variant = 0;      // index into Task::Variants()
  std::string variant_label;
  Bindings bindings;
  std::string layout = "contiguous";
  std::string distribution = "normal";
  uint64_t seed = 0;

  std::string Label() const;  // "f32 R=7, C=1000 transposed heavy seed=2"
};

std::vector<CaseSpec> CorrectnessCases(const Task& task);
std::vector<CaseSpec> PerformanceCases(const Task& task);

}  // namespace anvil
