// How suite reports write their numbers, the same in the terminal, the HTML
// page and `report compare`: speedups as "2.21x", fractions as "87.0%".
#pragma once

#include <optional>
#include <string>

#include <fmt/format.h>

namespace anvil::suite {

// "2.21x"; "-" when there is no speedup (not correct, or not timed).
inline std::string FormatSpeedup(const std::optional<double>& s) { return s ? fmt::format("{:.2f}x", *s) : "-"; }

// 0.87 -> "87.0%".
inline std::string FormatPercent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

}  // namespace anvil::suite
