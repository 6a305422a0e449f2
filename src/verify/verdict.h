// Verdict classes: how a candidate (or one case of it) was judged.
//
//   correct        every case matched the reference under the policy
//   wrong          an output differs (values, NaN/Inf positions, unwritten
//                  elements, writes past the end of an output, nondeterminism)
//   suspicious     the candidate broke a rule of the harness: changed its
//                  inputs, returned a constant where the reference varies,
//                  imported process-control symbols (dlopen, fork ...), made a
//                  forbidden system call
//   runtime_error  the candidate returned a non-OK status
//   crash          the worker died with a signal while running the candidate
//   timeout        the candidate did not return within the limit
//   load_error     the shared object did not load or lacks anvil_kernel
//   build_error    the source did not compile or link
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace anvil {

enum class Verdict { kCorrect, kWrong, kSuspicious, kRuntimeError, kCrash, kTimeout, kLoadError, kBuildError };

std::string_view VerdictName(Verdict v);
std::optional<Verdict> ParseVerdict(std::string_view s);

// Which of two case verdicts decides the candidate's verdict: suspicious
// first (a rule was broken), then the failures that end an evaluation
// (crash, timeout), then runtime_error, wrong, correct.
int VerdictSeverity(Verdict v);
Verdict Worse(Verdict a, Verdict b);

}  // namespace anvil
