#include "task/distribution_spec.h"

#include <array>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace anvil {
namespace {

struct KindInfo {
  DistributionKind kind;
  std::string_view name;
  std::vector<std::string> params;
};

const std::array<KindInfo, 5>& Kinds() {
  static const std::array<KindInfo, 5> kinds = {{
      {DistributionKind::kBernoulli, "bernoulli", {"p"}},
      {DistributionKind::kUniform, "uniform", {"low", "high"}},
      {DistributionKind::kNormal, "normal", {"mean", "std"}},
      {DistributionKind::kExponential, "exponential", {"rate"}},
      {DistributionKind::kPoisson, "poisson", {"rate"}},
  }};
  return kinds;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string KnownKinds() {
  std::vector<std::string> all;
  for (const KindInfo& k : Kinds()) all.push_back(fmt::format("{}({})", k.name, fmt::join(k.params, ", ")));
  return fmt::format("{}", fmt::join(all, ", "));
}

}  // namespace

Result<DistributionSpec> ParseDistribution(std::string_view text) {
  const std::string_view whole = Trim(text);
  const size_t open = whole.find('(');
  if (open == std::string_view::npos || whole.back() != ')')
    return InvalidInput(fmt::format("distribution '{}' is not of the form kind(parameters); the kinds are {}", whole,
                                    KnownKinds()));
  const std::string_view name = Trim(whole.substr(0, open));
  const KindInfo* info = nullptr;
  for (const KindInfo& k : Kinds())
    if (k.name == name) info = &k;
  if (!info) return InvalidInput(fmt::format("unknown distribution '{}'; the kinds are {}", name, KnownKinds()));

  // Split the arguments at the commas outside parentheses and brackets: a
  // parameter may itself be a formula with calls, e.g. where(x <= 0, lo, 1).
  DistributionSpec spec{info->kind, {}, std::string(whole)};
  const std::string_view args = whole.substr(open + 1, whole.size() - open - 2);
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= args.size(); ++i) {
    const char c = i < args.size() ? args[i] : ',';
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth < 0) return InvalidInput(fmt::format("distribution '{}': unbalanced parentheses", whole));
    if (c == ',' && depth == 0) {
      std::string_view arg = Trim(args.substr(start, i - start));
      if (arg.empty()) return InvalidInput(fmt::format("distribution '{}': an empty parameter", whole));
      spec.params.emplace_back(arg);
      start = i + 1;
    }
  }
  if (depth != 0) return InvalidInput(fmt::format("distribution '{}': unbalanced parentheses", whole));
  if (spec.params.size() != info->params.size())
    return InvalidInput(fmt::format("distribution '{}': {} takes {} parameter{} ({}), not {}", whole, info->name,
                                    info->params.size(), info->params.size() == 1 ? "" : "s",
                                    fmt::join(info->params, ", "), spec.params.size()));
  return spec;
}

std::string_view DistributionKindName(DistributionKind kind) {
  for (const KindInfo& k : Kinds())
    if (k.kind == kind) return k.name;
  return "?";
}

const std::vector<std::string>& DistributionParamNames(DistributionKind kind) {
  for (const KindInfo& k : Kinds())
    if (k.kind == kind) return k.params;
  return Kinds()[0].params;
}

bool IsDiscrete(DistributionKind kind) {
  return kind == DistributionKind::kBernoulli || kind == DistributionKind::kPoisson;
}

}  // namespace anvil
