#include "verify/verdict.h"

#include <array>
#include <utility>

namespace anvil {
namespace {

constexpr std::array<std::pair<Verdict, std::string_view>, 8> kNames = {{
    {Verdict::kCorrect, "correct"},
    {Verdict::kWrong, "wrong"},
    {Verdict::kSuspicious, "suspicious"},
    {Verdict::kRuntimeError, "runtime_error"},
    {Verdict::kCrash, "crash"},
    {Verdict::kTimeout, "timeout"},
    {Verdict::kLoadError, "load_error"},
    {Verdict::kBuildError, "build_error"},
}};

}  // namespace

std::string_view VerdictName(Verdict v) {
  for (auto& [k, n] : kNames)
    if (k == v) return n;
  return "unknown";
}

std::optional<Verdict> ParseVerdict(std::string_view s) {
  for (auto& [k, n] : kNames)
    if (n == s) return k;
  return std::nullopt;
}

int VerdictSeverity(Verdict v) {
  switch (v) {
    case Verdict::kCorrect: return 0;
    case Verdict::kWrong: return 1;
    case Verdict::kRuntimeError: return 2;
    case Verdict::kTimeout: return 3;
    case Verdict::kCrash: return 4;
    case Verdict::kLoadError: return 5;
    case Verdict::kBuildError: return 6;
    case Verdict::kSuspicious: return 7;
  }
  return 0;
}

Verdict Worse(Verdict a, Verdict b) { return VerdictSeverity(a) >= VerdictSeverity(b) ? a : b; }

}  // namespace anvil
