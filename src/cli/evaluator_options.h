// The Evaluator's options as the CLI's settings give them, for every command
// that evaluates candidates (verify, bench, gen).
#pragma once

#include <string>

#include "cli/config.h"
#include "orchestrator/evaluator.h"

namespace anvil::cli {

EvaluatorOptions EvaluatorOptionsFrom(const CliConfig& config, const std::string& target, EvalMode mode);

}  // namespace anvil::cli
