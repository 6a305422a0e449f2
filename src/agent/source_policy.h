// Checks on a candidate's source before anything is built.
//
// A model asked for a kernel sometimes hands back a call into PyTorch (the
// reference it was asked to replace) or forgets the entry point. Building and
// loading such code costs seconds and ends in a build or load error whose
// text does not say what was wrong; checking the source first costs nothing
// and the message tells the model exactly what to change.
//
//   cpu / cuda  must define anvil_kernel; must not include torch, ATen, c10,
//               pybind11 or Python headers, nor use at:: / torch:: / c10::
//               (comments and string literals are ignored).
//   triton      must define `def anvil_kernel` at the top level. The worker's
//               Triton gate (python/anvil_worker/triton_gate.py) remains the
//               authority on what a Triton candidate may call; its verdict
//               comes back through the evaluation and its feedback.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "util/status.h"

namespace anvil::agent {

// OK, or kInvalidInput whose message (naming the line) is the model's feedback.
Status CheckSourcePolicy(const std::string& source, const std::string& backend);

// `source` with comments and string/char literals blanked out (newlines kept,
// so line numbers stay): what the C++ checks read.
std::string StripCommentsAndStrings(const std::string& source);

}  // namespace anvil::agent
