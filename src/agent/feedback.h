// Distilling an evaluation into the few lines a model needs next.
//
// The feedback is part of the next prompt, so it is short and specific: what
// failed first and where, the one case that decided the verdict, and for a
// correct kernel how fast it is against the baselines and the device's limit.
//   build error  the first compiler errors with file:line, the first error
//                first, at most ~30 lines, paths shortened to the file name
//   not correct  verdict, reason, the worst case (dtype, shape bindings,
//                layout, distribution), its max abs/rel error against the
//                tolerance, a few mismatching values, how many cases passed
//   correct      per performance case: the kernel's median against eager and
//                torch.compile, the speed-of-light fraction (roofline) where
//                the device's ceilings are known, and what bounds the case
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "orchestrator/evaluator.h"

namespace anvil::agent {

struct FeedbackLimits {
  int compiler_lines = 30;  // lines of compiler output kept
  int mismatches = 4;       // mismatching values shown for the worst case
};

std::string DistilFeedback(const CandidateReport& report, const FeedbackLimits& limits = {});

// The first compiler errors of a build log (see the top of this file).
std::string FirstCompilerErrors(const std::string& log, int max_lines);

// What kind of failure a report is: its verdict's name ("build_error",
// "wrong", ...), "correct" when it is. The conductor redesigns a slot whose
// last two candidates failed the same way.
std::string FailureClass(const CandidateReport& report);

// "1.23 ms", "812 ns", "4.1 us".
std::string FormatNs(double ns);

}  // namespace anvil::agent
