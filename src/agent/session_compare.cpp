// Original vs replayed session (see session_compare.h).
#include "agent/session_compare.h"

#include <algorithm>

#include <fmt/format.h>

namespace anvil::agent {
namespace {

bool Same(const SessionCandidateRecord& a, const SessionCandidateRecord& b) {
  return a.round == b.round && a.slot == b.slot && a.action == b.action && a.source_hash == b.source_hash &&
         a.outcome == b.outcome && a.verdict == b.verdict;
}

}  // namespace

std::string DescribeCandidate(const SessionCandidateRecord& c) {
  return fmt::format("round {} slot {} {} {} {} {}", c.round, c.slot, c.action, c.outcome,
                     c.verdict.empty() ? "-" : c.verdict,
                     c.source_hash.empty() ? "(no code)" : c.source_hash.substr(0, 12));
}

SessionComparison CompareSessions(const SessionRow& original, const std::vector<SessionCandidateRecord>& before,
                                  const std::vector<SessionCandidateRecord>& after) {
  SessionComparison out;
  const size_t n = std::max(before.size(), after.size());
  for (size_t i = 0; i < n; ++i) {
    if (i < before.size() && i < after.size()) {
      ++out.compared;
      const bool same = Same(before[i], after[i]);
      out.lines.push_back(same ? DescribeCandidate(before[i]) + "  | same"
                               : DescribeCandidate(before[i]) + "  | replay: " + DescribeCandidate(after[i]));
      if (!same && out.identical) {
        out.identical = false;
        out.first_difference = fmt::format("candidate {}: the original had {}, the replay {}", i + 1,
                                           DescribeCandidate(before[i]), DescribeCandidate(after[i]));
      }
    } else if (i < before.size()) {
      out.lines.push_back(DescribeCandidate(before[i]) + "  | replay: (none)");
      if (out.identical) {
        out.identical = false;
        out.first_difference = fmt::format("candidate {}: the original had {}, the replay stopped before it", i + 1,
                                           DescribeCandidate(before[i]));
      }
    } else {
      out.lines.push_back("(none)  | replay: " + DescribeCandidate(after[i]));
      if (out.identical) {
        out.identical = false;
        out.first_difference = fmt::format("candidate {}: the replay went on with {} after the original had stopped",
                                           i + 1, DescribeCandidate(after[i]));
      }
    }
  }
  if (!out.identical && before.size() != after.size() &&
      original.stop_reason.find("target speedup") != std::string::npos)
    out.note = "the original stopped early because a candidate reached its target speedup; timings differ between "
               "runs, so the replay's measurement may have fallen on the other side of the target";
  return out;
}

}  // namespace anvil::agent
