// Rendering a CandidateReport for people (a compact block of text) and for
// machines (JSON with every field).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "orchestrator/evaluator.h"

namespace anvil::cli {

std::string FormatReport(const CandidateReport& report, bool color);
nlohmann::json ReportToJson(const CandidateReport& report);
std::string FormatDuration(double ns);  // "812 ns", "1.23 ms", "2.1 s"

}  // namespace anvil::cli
