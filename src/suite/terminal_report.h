// The suite run as a terminal summary: the headline metrics (correctness,
// build rate, fast_p, geometric-mean speedups, speed of light, time,
// tokens), then one line per task, failures with their reason.
#pragma once

#include <string>

#include "suite/suite_result.h"

namespace anvil::suite {

std::string FormatSuiteSummary(const SuiteRun& run);

}  // namespace anvil::suite
