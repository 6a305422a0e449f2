#include "worker/input_gen.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "util/check.h"
#include "worker/guarded_buffer.h"

namespace anvil::worker {
namespace {

constexpr std::array<std::string_view, 4> kLayoutNames = {"contiguous", "transposed", "strided", "broadcast"};
constexpr std::array<std::string_view, 4> kDistributionNames = {"normal", "uniform", "heavy", "special"};

// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and its output depends
// only on the seed, so inputs are identical across processes and library
// versions (at::Generator's streams are an implementation detail of LibTorch).
class Rng {
 public:
  Rng(uint64_t seed, int input_index) : state_(Mix(seed ^ Mix(0x9E3779B97F4A7C15ULL * (input_index + 1)))) {}
  uint64_t Next() { return Mix(state_ += 0x9E3779B97F4A7C15ULL); }
  double Uniform01() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform01(); }
  double Normal() {  // Box-Muller; one value per call keeps the stream position simple
    double u1 = 1.0 - Uniform01();  // (0, 1]
    double u2 = Uniform01();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  int64_t Int(int64_t lo, int64_t hi) {  // inclusive; the modulo bias is irrelevant here
    uint64_t width = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
    return width == 0 ? static_cast<int64_t>(Next()) : lo + static_cast<int64_t>(Next() % width);
  }

 private:
  static uint64_t Mix(uint64_t z) { return MixBits(z); }
  uint64_t state_;
};

struct FloatFormat {
  double max;             // largest finite value
  double smallest_normal;
  int mantissa_bits;      // explicit fraction bits
  int emin, emax;         // exponent range of normal numbers
};

FloatFormat FormatOf(DType t) {
  switch (t) {
    case DType::kF16: return {65504.0, 0x1p-14, 10, -14, 15};
    case DType::kBF16: return {3.3895313892515355e38, 0x1p-126, 7, -126, 127};
    case DType::kF32: return {std::numeric_limits<float>::max(), 0x1p-126, 23, -126, 127};
    case DType::kF64: return {std::numeric_limits<double>::max(), 0x1p-1022, 52, -1022, 1023};
    default: ANVIL_CHECK(false && "not a floating dtype");
  }
  return {};
}

// Rounds to the nearest value of the dtype (as the tensor cast does).
double Represent(double x, DType t) {
  switch (t) {
    case DType::kF16: return static_cast<float>(c10::Half(static_cast<float>(x)));
    case DType::kBF16: return static_cast<float>(c10::BFloat16(static_cast<float>(x)));
    case DType::kF32: return static_cast<float>(x);
    default: return x;
  }
}

// The next value of the dtype after r (representable) toward +inf or -inf.
template <typename H>
double Step16(double r, bool up) {
  H h(static_cast<float>(r));
  uint16_t b = h.x;
  bool negative = (b & 0x8000) != 0;
  if ((b & 0x7FFF) == 0) b = up ? 0x0001 : 0x8001;
  else if (negative != up) ++b;  // away from zero
  else --b;                      // toward zero
  return static_cast<float>(H(b, H::from_bits()));
}

double Step(double r, bool up, DType t) {
  double dir = up ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
  switch (t) {
    case DType::kF16: return Step16<c10::Half>(r, up);
    case DType::kBF16: return Step16<c10::BFloat16>(r, up);
    case DType::kF32: return std::nextafter(static_cast<float>(r), static_cast<float>(dir));
    default: return std::nextafter(r, dir);
  }
}

double Sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double DrawFloat(Rng& rng, Distribution dist, const FloatFormat& f, bool nonfinite) {
  switch (dist) {
    case Distribution::kNormal: return rng.Normal();
    case Distribution::kUniform: return rng.Uniform(-1.0, 1.0);
    case Distribution::kHeavy: {
      double a = rng.Normal();
      return a * std::exp(1.5 * rng.Normal());
    }
    case Distribution::kSpecial: break;
  }
  static constexpr std::array<double, 6> kRepeated = {-2.0, -1.0, -0.5, 0.5, 1.0, 2.0};
  double sign = rng.Uniform01() < 0.5 ? -1.0 : 1.0;
  double pick = rng.Uniform01();
  if (nonfinite) {
    if (pick < 0.05) return std::numeric_limits<double>::quiet_NaN();
    if (pick < 0.10) return std::numeric_limits<double>::infinity();
    if (pick < 0.15) return -std::numeric_limits<double>::infinity();
  }
  if (pick < 0.40) return rng.Normal();
  if (pick < 0.50) return 0.0;
  if (pick < 0.60) return -0.0;
  if (pick < 0.70) {  // tiny: exponents from half the mantissa below emin up to emin + 2
    int e = static_cast<int>(rng.Int(f.emin - f.mantissa_bits / 2, f.emin + 2));
    return sign * std::ldexp(rng.Uniform(1.0, 2.0), e);
  }
  if (pick < 0.80) {
    int e = static_cast<int>(rng.Int(f.emax / 4, f.emax / 2));
    return sign * std::ldexp(rng.Uniform(1.0, 2.0), e);
  }
  return kRepeated[rng.Int(0, kRepeated.size() - 1)];
}

// Maps a drawn value into the domain and rounds it to the dtype. NaN passes
// through (it is only drawn when the domain allows non-finite values).
double ApplyFloatDomain(double x, const Domain& d, DType t, const FloatFormat& f) {
  if (std::isnan(x)) return x;
  double y = x;
  switch (d.kind) {
    case ValueDomain::Kind::kAny: break;
    case ValueDomain::Kind::kPositive: y = std::max(std::fabs(x), f.smallest_normal); break;
    case ValueDomain::Kind::kNonNegative: y = std::fabs(x); break;
    case ValueDomain::Kind::kNonZero:
      if (std::fabs(x) < f.smallest_normal) y = std::copysign(f.smallest_normal, x);
      break;
    case ValueDomain::Kind::kUnit:
      // The clamp bounds are representable (1 - 2^-(p) is the largest value
      // below 1), so rounding cannot leave (0, 1).
      y = std::clamp(Sigmoid(x), f.smallest_normal, 1.0 - std::ldexp(1.0, -(f.mantissa_bits + 1)));
      break;
    case ValueDomain::Kind::kRange:
      if (!(x >= d.lo && x <= d.hi)) y = d.lo + (d.hi - d.lo) * Sigmoid(x);
      y = std::clamp(y, d.lo, d.hi);
      break;
  }
  if (std::isfinite(y)) y = std::clamp(y, -f.max, f.max);
  double r = Represent(y, t);
  if (d.kind == ValueDomain::Kind::kRange) {  // rounding may step just outside a non-representable bound
    if (r > d.hi) r = Step(r, false, t);
    if (r < d.lo) r = Step(r, true, t);
  }
  return r;
}

struct IntRange {
  int64_t lo, hi;
};

IntRange DTypeIntRange(DType t) {
  switch (t) {
    case DType::kBool: return {0, 1};
    case DType::kU8: return {0, 255};
    case DType::kI8: return {-128, 127};
    case DType::kI16: return {-32768, 32767};
    case DType::kI32: return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    default: return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
  }
}

// The integer range a domain allows for a dtype; lo > hi when empty.
IntRange IntDomainRange(const Domain& d, DType t) {
  IntRange type = DTypeIntRange(t);
  IntRange r = t == DType::kBool ? IntRange{0, 1} : IntRange{-100, 100};
  switch (d.kind) {
    case ValueDomain::Kind::kAny:
    case ValueDomain::Kind::kNonZero: break;
    case ValueDomain::Kind::kPositive: r.lo = 1; break;
    case ValueDomain::Kind::kNonNegative: r.lo = 0; break;
    case ValueDomain::Kind::kUnit: return {1, 0};
    case ValueDomain::Kind::kRange: {
      // Clamp in double before converting: a bound beyond int64 must not overflow.
      double lo = std::clamp(std::ceil(d.lo), -9.2e18, 9.2e18), hi = std::clamp(std::floor(d.hi), -9.2e18, 9.2e18);
      r = {static_cast<int64_t>(lo), static_cast<int64_t>(hi)};
      break;
    }
  }
  r.lo = std::max(r.lo, type.lo);
  r.hi = std::min(r.hi, type.hi);
  if (d.kind == ValueDomain::Kind::kNonZero && r.lo == 0 && r.hi == 0) return {1, 0};
  return r;
}

int64_t DrawInt(Rng& rng, Distribution dist, IntRange r) {
  double centre = 0.5 * (static_cast<double>(r.lo) + static_cast<double>(r.hi));
  double width = static_cast<double>(r.hi) - static_cast<double>(r.lo);
  auto clamp_round = [&](double v) {
    v = std::clamp(std::nearbyint(v), static_cast<double>(r.lo), static_cast<double>(r.hi));
    return std::clamp(static_cast<int64_t>(v), r.lo, r.hi);
  };
  switch (dist) {
    case Distribution::kUniform: return rng.Int(r.lo, r.hi);
    case Distribution::kNormal: return clamp_round(centre + rng.Normal() * width / 6.0);
    case Distribution::kHeavy: {
      double a = rng.Normal();
      return clamp_round(centre + a * std::exp(1.5 * rng.Normal()) * width / 12.0);
    }
    case Distribution::kSpecial: break;
  }
  double pick = rng.Uniform01();
  if (pick < 0.15) return r.lo;
  if (pick < 0.30) return r.hi;
  if (pick < 0.45) return std::clamp<int64_t>(0, r.lo, r.hi);
  if (pick < 0.60) return std::clamp<int64_t>(rng.Uniform01() < 0.5 ? -1 : 1, r.lo, r.hi);
  if (pick < 0.75) return clamp_round(centre);
  return rng.Int(r.lo, r.hi);
}

std::string_view DomainKindName(ValueDomain::Kind k) {
  switch (k) {
    case ValueDomain::Kind::kAny: return "any";
    case ValueDomain::Kind::kPositive: return "positive";
    case ValueDomain::Kind::kNonNegative: return "nonnegative";
    case ValueDomain::Kind::kNonZero: return "nonzero";
    case ValueDomain::Kind::kUnit: return "unit";
    case ValueDomain::Kind::kRange: return "range";
  }
  return "?";
}

std::vector<int64_t> ContiguousStrides(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> strides(sizes.size());
  int64_t s = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(1, sizes[i]);
  }
  return strides;
}

}  // namespace

int64_t SpanElements(at::IntArrayRef sizes, at::IntArrayRef strides) {
  int64_t span = 1;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return 0;
    span += (sizes[d] - 1) * strides[d];
  }
  return span;
}

std::optional<Layout> ParseLayout(std::string_view name) {
  for (size_t i = 0; i < kLayoutNames.size(); ++i)
    if (name == kLayoutNames[i]) return static_cast<Layout>(i);
  return std::nullopt;
}
std::string_view LayoutName(Layout l) { return kLayoutNames[static_cast<size_t>(l)]; }

std::optional<Distribution> ParseDistribution(std::string_view name) {
  for (size_t i = 0; i < kDistributionNames.size(); ++i)
    if (name == kDistributionNames[i]) return static_cast<Distribution>(i);
  return std::nullopt;
}
std::string_view DistributionName(Distribution d) { return kDistributionNames[static_cast<size_t>(d)]; }

Domain Domain::From(const ValueDomain& d, bool allows_nonfinite) {
  return Domain{d.kind, d.lo, d.hi, allows_nonfinite};
}

Status CheckDomain(const Domain& domain, DType dtype) {
  if (domain.kind == ValueDomain::Kind::kRange && !(domain.lo <= domain.hi))
    return InvalidInput(fmt::format("domain [{}, {}] is empty", domain.lo, domain.hi));
  if (IsFloating(dtype)) {
    if (domain.kind != ValueDomain::Kind::kRange) return Status::Ok();
    FloatFormat f = FormatOf(dtype);
    if (!(domain.lo >= -f.max && domain.hi <= f.max))
      return InvalidInput(fmt::format("domain [{}, {}] exceeds the finite range of {}", domain.lo, domain.hi,
                                      DTypeName(dtype)));
    double lo = Represent(domain.lo, dtype);
    if (lo < domain.lo) lo = Step(lo, true, dtype);
    if (lo > domain.hi)
      return InvalidInput(fmt::format("domain [{}, {}] holds no value of {}", domain.lo, domain.hi, DTypeName(dtype)));
    return Status::Ok();
  }
  IntRange r = IntDomainRange(domain, dtype);
  if (r.lo > r.hi) {
    std::string name = domain.kind == ValueDomain::Kind::kRange ? fmt::format("[{}, {}]", domain.lo, domain.hi)
                                                                 : std::string(DomainKindName(domain.kind));
    return InvalidInput(fmt::format("domain {} has no values of dtype {}", name, DTypeName(dtype)));
  }
  return Status::Ok();
}

LayoutPlan PlanLayout(const Shape& shape, Layout layout) {
  const size_t rank = shape.size();
  if (layout == Layout::kTransposed && rank < 2) layout = Layout::kStrided;
  if (layout == Layout::kStrided && rank == 0) layout = Layout::kContiguous;
  int broadcast_dim = -1;
  if (layout == Layout::kBroadcast) {
    for (size_t d = 0; d < rank; ++d)
      if (shape[d] > 1 && (broadcast_dim < 0 || shape[d] > shape[broadcast_dim])) broadcast_dim = static_cast<int>(d);
    if (broadcast_dim < 0) layout = Layout::kContiguous;
  }

  LayoutPlan plan;
  plan.layout = layout;
  plan.value_shape = shape;
  switch (layout) {
    case Layout::kContiguous: plan.strides = ContiguousStrides(shape); break;
    case Layout::kTransposed: {
      std::vector<int64_t> swapped = shape;
      std::swap(swapped[rank - 1], swapped[rank - 2]);
      plan.strides = ContiguousStrides(swapped);
      std::swap(plan.strides[rank - 1], plan.strides[rank - 2]);
      break;
    }
    case Layout::kStrided: {
      std::vector<int64_t> wide = shape;
      wide[rank - 1] *= 2;
      plan.strides = ContiguousStrides(wide);
      plan.strides[rank - 1] = 2;
      break;
    }
    case Layout::kBroadcast:
      plan.value_shape[broadcast_dim] = 1;
      plan.strides = ContiguousStrides(plan.value_shape);
      plan.strides[broadcast_dim] = 0;
      break;
  }
  plan.storage_elements = SpanElements(shape, plan.strides);
  return plan;
}

at::Tensor GenerateInput(DType dtype, const Shape& shape, Layout layout, Distribution dist, const Domain& domain,
                         uint64_t seed, int input_index) {
  ANVIL_CHECK(CheckDomain(domain, dtype).ok());
  LayoutPlan plan = PlanLayout(shape, layout);
  const int64_t n = NumElements(plan.value_shape);
  Rng rng(seed, input_index);

  at::Tensor values;  // contiguous, value_shape, exactly representable in dtype
  if (IsFloating(dtype)) {
    FloatFormat f = FormatOf(dtype);
    values = at::empty({n}, at::kDouble);
    double* v = values.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i)
      v[i] = ApplyFloatDomain(DrawFloat(rng, dist, f, domain.allows_nonfinite), domain, dtype, f);
  } else {
    IntRange r = IntDomainRange(domain, dtype);
    values = at::empty({n}, at::kLong);
    int64_t* v = values.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = DrawInt(rng, dist, r);
      if (x == 0 && domain.kind == ValueDomain::Kind::kNonZero) x = r.hi > 0 ? 1 : -1;
      v[i] = x;
    }
  }

  at::Tensor t = AllocateGuarded(ToAten(dtype), shape, plan.strides, plan.storage_elements);
  Poison(t);  // gaps of strided layouts keep the poison
  if (n > 0) t.as_strided(plan.value_shape, plan.strides).copy_(values.view(plan.value_shape));
  return t;
}

at::Tensor CloneGuarded(const at::Tensor& t) {
  const int64_t span = SpanElements(t.sizes(), t.strides());
  at::Tensor c = AllocateGuarded(t.scalar_type(), t.sizes(), t.strides(), span);
  if (span > 0) std::memcpy(c.data_ptr(), t.data_ptr(), static_cast<size_t>(span) * t.element_size());
  return c;
}

uint64_t MixBits(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace anvil::worker
