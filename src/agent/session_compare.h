// Comparing a replayed session with the session it replays.
//
// A replay serves the recorded replies again, so it must reach the same
// candidates with the same verdicts: the sequence of (round, slot, action,
// source hash, outcome, verdict) must be identical. Timings are not
// compared (they differ between runs); but where the original stopped early
// because a candidate reached the target speedup, a replay's timing may fall
// on the other side of the target and stop elsewhere: the comparison says so
// when the sequences diverge there.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"

namespace anvil::agent {

struct SessionComparison {
  bool identical = true;
  int compared = 0;                 // candidates present in both
  std::string first_difference;     // "" when identical
  std::string note;                 // e.g. the timing-target caveat
  std::vector<std::string> lines;   // one per candidate: "r1 s0 design evaluated build_error 3f2a.. | same"
};

// One candidate as the comparison prints it.
std::string DescribeCandidate(const SessionCandidateRecord& c);

SessionComparison CompareSessions(const SessionRow& original, const std::vector<SessionCandidateRecord>& before,
                                  const std::vector<SessionCandidateRecord>& after);

}  // namespace anvil::agent
