// A task file's text with its [performance] shapes changed: replaced by
// given sizes (`anvil gen --perf`) or every size divided by a factor
// (`anvil suite run --perf-scale`, so a suite of GPU-sized tasks can be
// timed on a small CPU). The worker reads the task's text, so the change is
// part of the task as stored and evaluated; the file on disk is untouched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/shape.h"
#include "util/status.h"

namespace anvil {

// kInvalidInput when the file does not parse as TOML (file:line in the message).
Result<std::string> WithPerformanceShapes(const std::string& path, const std::vector<Bindings>& shapes);

// Every size of every [performance] shape divided by `divisor`, rounded up
// (at least 1). The text unchanged when the task has no [performance] shapes.
Result<std::string> WithScaledPerformanceShapes(const std::string& path, int64_t divisor);

}  // namespace anvil
