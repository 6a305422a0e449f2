// The distribution a random operator's output must follow, as a task file
// states it on an [[outputs]] table of a task whose [compare] mode is
// "statistical" (docs/task-format.md):
//
//   distribution = "bernoulli(p)"
//   distribution = "uniform(where(x <= 0, lower, 1), where(x <= 0, upper, 1))"
//
// A random operator has no single right output, so such outputs are not
// compared value by value: the worker draws the candidate's samples and tests
// them against this distribution, element by element (each element has its
// own parameters), in worker/statistical_test.h.
//
// Each parameter is an expression over the task's inputs and attributes: a
// number, an input or attribute name, or a formula (docs/formula.md) that
// uses at least one input; it broadcasts to the output's shape. Parameters
// are resolved against a task in task/task_graph.h (ResolveDistributionParam).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace anvil {

enum class DistributionKind {
  kBernoulli,    // bernoulli(p): 1 with probability p, else 0
  kUniform,      // uniform(low, high): continuous on [low, high]; a point mass where low == high
  kNormal,       // normal(mean, std); a point mass where std == 0
  kExponential,  // exponential(rate): density rate * exp(-rate * x) on x >= 0
  kPoisson,      // poisson(rate): P(k) = rate^k exp(-rate) / k!, k = 0, 1, ...
};

struct DistributionSpec {
  DistributionKind kind = DistributionKind::kBernoulli;
  std::vector<std::string> params;  // one expression per parameter, as written (trimmed)
  std::string text;                 // the whole expression as written, for messages
};

// "bernoulli(p)" -> spec. kInvalidInput names the known kinds with their
// parameters when the name or the number of arguments is wrong.
Result<DistributionSpec> ParseDistribution(std::string_view text);

std::string_view DistributionKindName(DistributionKind kind);
// The parameters' names in order, e.g. {"low", "high"}: for messages and docs.
const std::vector<std::string>& DistributionParamNames(DistributionKind kind);
// Discrete kinds take integer values only (bernoulli, poisson).
bool IsDiscrete(DistributionKind kind);

}  // namespace anvil
