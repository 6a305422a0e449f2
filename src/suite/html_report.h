// The suite run as one self-contained HTML page: readable offline, mailable,
// nothing fetched from the network (inline CSS, inline SVG charts, a few
// lines of inline JavaScript that only sort the table).
//
// Sections: the run (suite, target, generator, device, software), the
// headline metrics (correctness, build rate, fast_p and geometric-mean
// speedups against eager and torch.compile, speed of light), three charts
// (speedup distribution, per-op speedups, fraction of speed of light per
// case against the bytes it moves), metrics per dtype, and a sortable table
// of every task with its status and the reason it failed.
//
// Pure function; the caller writes the file.
#pragma once

#include <string>

#include "suite/suite_result.h"

namespace anvil::suite {

std::string RenderHtmlReport(const SuiteRun& run);

// Text with &, <, >, " and ' replaced by entities (for element text and attribute values).
std::string HtmlEscape(const std::string& text);

}  // namespace anvil::suite
