#include "worker/random_distribution.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "reference/evaluate.h"
#include "worker/compare.h"

namespace anvil::worker {
namespace {

using Kind = DistributionKind;

// The first element where `bad` holds, as "[i, j]", or "" when none does.
std::string FirstWhere(const at::Tensor& bad) {
  if (bad.numel() == 0 || !bad.any().item<bool>()) return "";
  const int64_t flat = at::nonzero(bad.reshape({-1}))[0][0].item<int64_t>();
  return fmt::format("[{}]", fmt::join(Unravel(flat, bad.sizes()), ", "));
}

Result<at::Tensor> EvaluateParam(const DistributionParam& p, const std::string& expr,
                                 const std::vector<at::Tensor>& host_inputs, const std::vector<ScalarValue>& attrs) {
  switch (p.source) {
    case DistributionParam::Source::kNumber:
      return at::scalar_tensor(p.number, at::kDouble);
    case DistributionParam::Source::kInput:
      return host_inputs.at(p.input).to(at::kDouble);
    case DistributionParam::Source::kFormula: {
      // The graph declares floating inputs as f64 (task_graph.h), so the
      // parameter is computed from the inputs' exact values, unrounded.
      std::vector<at::Tensor> inputs;
      for (int i : p.graph_inputs) {
        const at::Tensor& t = host_inputs.at(i);
        inputs.push_back(at::isFloatingType(t.scalar_type()) ? t.to(at::kDouble) : t);
      }
      std::vector<ScalarValue> used_attrs;
      for (int a : p.graph_attrs) used_attrs.push_back(attrs.at(a));
      auto out = reference::Evaluate(p.graph, inputs, used_attrs, reference::Precision::kUpcast64);
      if (!out.ok()) return out.status().Context(fmt::format("distribution parameter '{}'", expr));
      return out->at(0).to(at::kDouble);
    }
  }
  return InternalError("unknown distribution parameter source");
}

// The condition each parameter must meet, and the words for it.
struct ParamRule {
  at::Tensor ok;
  const char* requirement;
};

std::vector<ParamRule> ParamRules(const CaseDistribution& d) {
  const auto& p = d.params;
  auto finite = [](const at::Tensor& t) { return at::isfinite(t); };
  switch (d.kind) {
    case Kind::kBernoulli: return {{(p[0] >= 0) & (p[0] <= 1), "in [0, 1]"}};
    case Kind::kUniform:
      return {{finite(p[0]), "finite"}, {finite(p[1]) & (p[1] >= p[0]), "finite and >= low"}};
    case Kind::kNormal: return {{finite(p[0]), "finite"}, {finite(p[1]) & (p[1] >= 0), "finite and >= 0"}};
    case Kind::kExponential: return {{finite(p[0]) & (p[0] > 0), "finite and > 0"}};
    case Kind::kPoisson: return {{finite(p[0]) & (p[0] >= 0), "finite and >= 0"}};
  }
  return {};
}

// CDF of a continuous kind at x (f64; -inf and +inf give 0 and 1). A point
// mass is a step at its value.
at::Tensor ContinuousCdf(const CaseDistribution& d, const at::Tensor& x) {
  const auto& p = d.params;
  switch (d.kind) {
    case Kind::kUniform: {
      at::Tensor width = p[1] - p[0];
      at::Tensor ramp = ((x - p[0]) / at::where(width > 0, width, at::ones_like(width))).clamp(0, 1);
      return at::where(width > 0, ramp, (x >= p[0]).to(at::kDouble));
    }
    case Kind::kNormal: {
      at::Tensor z = (x - p[0]) / (at::where(p[1] > 0, p[1], at::ones_like(p[1])) * std::sqrt(2.0));
      return at::where(p[1] > 0, 0.5 * at::erfc(-z), (x >= p[0]).to(at::kDouble));
    }
    case Kind::kExponential:
      return at::where(x > 0, -at::expm1(-p[0] * x), at::zeros_like(x));
    default: break;
  }
  return at::Tensor();
}

// The interval of reals a floating dtype rounds to each value of `sample`
// (round to nearest): from half way to the next value below to half way to
// the next value above. Found by stepping the bit pattern, which orders
// floats of one sign by magnitude. f64 samples are taken as exact. `slack`
// is the cell widened by one more rounding step on each side: the support
// check accepts it, since a kernel (or PyTorch itself: its bf16 rrelu puts
// values just past x * upper, as if the slope were rounded to bf16 first)
// may round an intermediate to the output dtype before the last operation.
struct Cell {
  at::Tensor lo, hi, slack_lo, slack_hi;
};
Cell RoundingCell(const at::Tensor& sample) {
  at::Tensor x = sample.to(at::kDouble);
  const at::ScalarType st = sample.scalar_type();
  if (st == at::kDouble) return {x, x, x, x};
  const at::ScalarType bits_type = sample.element_size() == 2 ? at::kShort : at::kInt;
  at::Tensor bits = sample.contiguous().view(bits_type).to(at::kLong);
  at::Tensor negative = bits < 0;  // the sign bit
  at::Tensor up = at::where(negative, bits - 1, bits + 1);
  at::Tensor down = at::where(negative, bits + 1, bits - 1);
  // +0 and -0: the neighbours are the smallest subnormals of either sign.
  const int64_t sign_bit = bits_type == at::kShort ? -32768 : static_cast<int64_t>(INT32_MIN);
  at::Tensor zero = x == 0;
  up = at::where(zero, at::ones_like(up), up);
  down = at::where(zero, at::full_like(down, sign_bit + 1), down);
  auto as_value = [&](const at::Tensor& b) { return b.to(bits_type).view(st).to(at::kDouble); };
  at::Tensor below = as_value(down), above = as_value(up);
  at::Tensor lo = (below + x) / 2, hi = (x + above) / 2;
  at::Tensor slack_lo = below - (x - below) / 2, slack_hi = above + (above - x) / 2;
  auto shaped = [&](const at::Tensor& t) { return t.reshape(sample.sizes()); };
  return {shaped(lo), shaped(hi), shaped(slack_lo), shaped(slack_hi)};
}

}  // namespace

Result<CaseDistribution> EvaluateDistribution(const DistributionSpec& spec,
                                              const std::vector<DistributionParam>& params,
                                              const std::vector<at::Tensor>& host_inputs,
                                              const std::vector<ScalarValue>& attrs, const Shape& shape) {
  CaseDistribution d{spec.kind, spec.text, {}};
  const std::vector<std::string>& names = DistributionParamNames(spec.kind);
  for (size_t k = 0; k < params.size(); ++k) {
    ANVIL_ASSIGN_OR_RETURN(at::Tensor value, EvaluateParam(params[k], spec.params[k], host_inputs, attrs));
    try {
      d.params.push_back(value.expand(shape).contiguous());
    } catch (const c10::Error&) {
      return InvalidInput(fmt::format("{}: parameter {} = '{}' has shape [{}], which does not broadcast to the "
                                      "output's [{}]",
                                      spec.text, names[k], spec.params[k], fmt::join(value.sizes(), ", "),
                                      fmt::join(shape, ", ")));
    }
  }
  const std::vector<ParamRule> rules = ParamRules(d);
  for (size_t k = 0; k < rules.size(); ++k) {
    std::string where = FirstWhere(~rules[k].ok);
    if (!where.empty()) {
      const double bad = d.params[k].reshape({-1})[at::nonzero((~rules[k].ok).reshape({-1}))[0][0]].item<double>();
      return InvalidInput(fmt::format("{}: parameter {} = '{}' is {} at {}; it must be {} (the task's distribution "
                                      "or its inputs' domain is wrong)",
                                      spec.text, names[k], spec.params[k], bad, where, rules[k].requirement));
    }
  }
  return d;
}

at::Tensor PointMass(const CaseDistribution& d) {
  const auto& p = d.params;
  switch (d.kind) {
    case Kind::kBernoulli: return (p[0] == 0) | (p[0] == 1);
    case Kind::kUniform: return p[0] == p[1];
    case Kind::kNormal: return p[1] == 0;
    case Kind::kExponential: return at::zeros_like(p[0], at::kBool);
    case Kind::kPoisson: return p[0] == 0;
  }
  return at::Tensor();
}

at::Tensor DistributionMean(const CaseDistribution& d) {
  const auto& p = d.params;
  switch (d.kind) {
    case Kind::kBernoulli: return p[0];
    case Kind::kUniform: return (p[0] + p[1]) / 2;
    case Kind::kNormal: return p[0];
    case Kind::kExponential: return 1 / p[0];
    case Kind::kPoisson: return p[0];
  }
  return at::Tensor();
}

at::Tensor DistributionVariance(const CaseDistribution& d) {
  const auto& p = d.params;
  switch (d.kind) {
    case Kind::kBernoulli: return p[0] * (1 - p[0]);
    case Kind::kUniform: return (p[1] - p[0]).square() / 12;
    case Kind::kNormal: return p[1].square();
    case Kind::kExponential: return 1 / p[0].square();
    case Kind::kPoisson: return p[0];
  }
  return at::Tensor();
}

ProbabilityInterval ObservedProbability(const CaseDistribution& d, const at::Tensor& sample) {
  at::Tensor x = sample.to(at::kDouble);
  at::Tensor finite = at::isfinite(x);
  at::Tensor zero = at::zeros_like(x);
  const auto& p = d.params;
  if (d.kind == Kind::kBernoulli) {
    at::Tensor is0 = x == 0, is1 = x == 1;
    at::Tensor q = 1 - p[0];
    at::Tensor lo = at::where(is1, q, zero);
    at::Tensor hi = at::where(is1, at::ones_like(x), at::where(is0, q, zero));
    return {lo, hi, hi > lo};
  }
  if (d.kind == Kind::kPoisson) {
    // P(X <= k) = Q(k + 1, rate), the regularised upper incomplete gamma.
    at::Tensor valid = finite & (x >= 0) & (x == at::floor(x));
    at::Tensor k = at::where(valid, x, zero);
    at::Tensor hi = at::igammac(k + 1, p[0]);
    at::Tensor lo = at::where(k > 0, at::igammac(at::clamp_min(k, 1), p[0]), zero);
    hi = at::where(valid, hi, zero);
    lo = at::where(valid, lo, zero);
    return {lo, hi, hi > lo};
  }
  const Cell cell = RoundingCell(sample);
  const at::Tensor &a = cell.slack_lo, &b = cell.slack_hi;
  at::Tensor lo = ContinuousCdf(d, cell.lo), hi = ContinuousCdf(d, cell.hi);
  // Whether the (slack) cell reaches the support, checked directly: an f64
  // sample's cell is one point, with no probability from the CDF difference.
  at::Tensor possible;
  switch (d.kind) {
    case Kind::kUniform: possible = (a <= p[1]) & (b >= p[0]); break;
    case Kind::kNormal: possible = (p[1] > 0) | ((a <= p[0]) & (b >= p[0])); break;
    case Kind::kExponential: possible = b >= 0; break;
    default: possible = at::ones_like(finite); break;
  }
  possible = possible & finite;
  return {at::where(possible, lo, zero), at::where(possible, hi, zero), possible};
}

}  // namespace anvil::worker
