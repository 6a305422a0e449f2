// "Did you mean ...?" for unknown names: the closest candidate by edit
// distance, when it is close enough to be a likely typo.
// Thread-safety: pure function.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anvil::formula {

// The candidate with the smallest edit distance (Levenshtein plus adjacent swaps) to `word` if that
// distance is at most max(1, len(word) / 3); ties go to the earlier candidate.
std::optional<std::string> ClosestName(std::string_view word, const std::vector<std::string_view>& candidates);

// " did you mean 'x'?" or "" — ready to append to a message.
std::string DidYouMean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace anvil::formula
