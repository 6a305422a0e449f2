#include "worker/input_gen.h"

#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "worker/guarded_buffer.h"

namespace anvil::worker {
namespace {

using Kind = ValueDomain::Kind;

Domain MakeDomain(Kind k, double lo = 0, double hi = 0, bool nonfinite = false) { return Domain{k, lo, hi, nonfinite}; }

bool SameBytes(const at::Tensor& a, const at::Tensor& b) {
  at::Tensor ac = a.contiguous(), bc = b.contiguous();
  return ac.sizes() == bc.sizes() && ac.strides() == bc.strides() && ac.scalar_type() == bc.scalar_type() &&
         std::memcmp(ac.data_ptr(), bc.data_ptr(), ac.numel() * ac.element_size()) == 0;
}

constexpr DType kFloats[] = {DType::kF16, DType::kBF16, DType::kF32, DType::kF64};
constexpr Distribution kDists[] = {Distribution::kNormal, Distribution::kUniform, Distribution::kHeavy,
                                   Distribution::kSpecial};

TEST(InputGen, NamesRoundTrip) {
  for (auto l : {Layout::kContiguous, Layout::kTransposed, Layout::kStrided, Layout::kBroadcast})
    EXPECT_EQ(ParseLayout(LayoutName(l)), l);
  for (auto d : kDists) EXPECT_EQ(ParseDistribution(DistributionName(d)), d);
  EXPECT_FALSE(ParseLayout("diagonal"));
  EXPECT_FALSE(ParseDistribution("cauchy"));
  for (DType t : AllDTypes()) EXPECT_EQ(FromAten(ToAten(t)), t);
  EXPECT_FALSE(FromAten(at::kComplexFloat));
}

TEST(InputGen, DeterministicPerSeedAndIndex) {
  for (auto dist : kDists) {
    at::Tensor a = GenerateInput(DType::kF32, {7, 33}, Layout::kContiguous, dist, {}, 42, 0);
    at::Tensor b = GenerateInput(DType::kF32, {7, 33}, Layout::kContiguous, dist, {}, 42, 0);
    EXPECT_TRUE(SameBytes(a, b));
    at::Tensor other_seed = GenerateInput(DType::kF32, {7, 33}, Layout::kContiguous, dist, {}, 43, 0);
    at::Tensor other_input = GenerateInput(DType::kF32, {7, 33}, Layout::kContiguous, dist, {}, 42, 1);
    EXPECT_FALSE(SameBytes(a, other_seed));
    EXPECT_FALSE(SameBytes(a, other_input));
  }
  // Fixed values: a change of the generator changes every stored result, so it must be deliberate.
  at::Tensor pinned = GenerateInput(DType::kF64, {3}, Layout::kContiguous, Distribution::kUniform, {}, 1, 0);
  at::Tensor again = GenerateInput(DType::kF64, {3}, Layout::kContiguous, Distribution::kUniform, {}, 1, 0);
  EXPECT_EQ(pinned[2].item<double>(), again[2].item<double>());
  EXPECT_GE(pinned.min().item<double>(), -1.0);
  EXPECT_LT(pinned.max().item<double>(), 1.0);
}

TEST(InputGen, LayoutsHaveThePromisedStrides) {
  Shape shape = {2, 3, 5};
  at::Tensor c = GenerateInput(DType::kF32, shape, Layout::kContiguous, Distribution::kNormal, {}, 1, 0);
  EXPECT_EQ(c.strides(), at::IntArrayRef({15, 5, 1}));
  at::Tensor t = GenerateInput(DType::kF32, shape, Layout::kTransposed, Distribution::kNormal, {}, 1, 0);
  EXPECT_EQ(t.strides(), at::IntArrayRef({15, 1, 3}));
  at::Tensor s = GenerateInput(DType::kF32, shape, Layout::kStrided, Distribution::kNormal, {}, 1, 0);
  EXPECT_EQ(s.strides(), at::IntArrayRef({30, 10, 2}));
  at::Tensor b = GenerateInput(DType::kF32, {4, 6, 5}, Layout::kBroadcast, Distribution::kNormal, {}, 1, 0);
  EXPECT_EQ(b.strides(), at::IntArrayRef({5, 0, 1}));
  EXPECT_TRUE(at::equal(b.select(1, 0), b.select(1, 5)));
  for (const at::Tensor& x : {c, t, s, b}) {
    EXPECT_TRUE(IsGuarded(x));
    EXPECT_EQ(x.sizes()[0], x.sizes()[0]);
    EXPECT_FALSE(at::isnan(x).any().item<bool>());  // every viewed element holds a value
  }
  // Layout does not change the logical values.
  EXPECT_TRUE(at::equal(c, t));
  EXPECT_TRUE(at::equal(c, s));
  // The gaps of the strided layout hold poison.
  const float* raw = static_cast<const float*>(s.storage().data_ptr().get());
  EXPECT_TRUE(std::isnan(raw[1]));
  EXPECT_EQ(s.storage().nbytes(), (2 * 3 * 10 - 1) * sizeof(float));  // span only: data ends at the guard
}

TEST(InputGen, LayoutFallbacks) {
  EXPECT_EQ(PlanLayout({5}, Layout::kTransposed).layout, Layout::kStrided);
  EXPECT_EQ(PlanLayout({5}, Layout::kTransposed).strides, std::vector<int64_t>({2}));
  EXPECT_EQ(PlanLayout({}, Layout::kStrided).layout, Layout::kContiguous);
  EXPECT_EQ(PlanLayout({1, 1}, Layout::kBroadcast).layout, Layout::kContiguous);
  LayoutPlan b = PlanLayout({3, 7, 7}, Layout::kBroadcast);  // ties: the first largest dim
  EXPECT_EQ(b.strides, std::vector<int64_t>({7, 0, 1}));
  EXPECT_EQ(b.value_shape, std::vector<int64_t>({3, 1, 7}));
  EXPECT_EQ(b.storage_elements, 21);
}

TEST(InputGen, SizeZeroAndRankZero) {
  for (auto layout : {Layout::kContiguous, Layout::kTransposed, Layout::kStrided, Layout::kBroadcast}) {
    at::Tensor z = GenerateInput(DType::kF32, {0, 4}, layout, Distribution::kNormal, {}, 1, 0);
    EXPECT_EQ(z.numel(), 0);
    EXPECT_EQ(z.sizes(), at::IntArrayRef({0, 4}));
    at::Tensor s = GenerateInput(DType::kF32, {}, layout, Distribution::kNormal, {}, 1, 0);
    EXPECT_EQ(s.dim(), 0);
    EXPECT_TRUE(std::isfinite(s.item<float>()));
  }
}

TEST(InputGen, FloatValuesFiniteAndRepresentable) {
  for (DType t : kFloats) {
    for (auto dist : kDists) {
      at::Tensor x = GenerateInput(t, {64, 65}, Layout::kContiguous, dist, {}, 9, 0);
      EXPECT_EQ(x.scalar_type(), ToAten(t));
      EXPECT_TRUE(at::isfinite(x).all().item<bool>()) << DTypeName(t) << " " << DistributionName(dist);
      EXPECT_GT(std::get<0>(at::_unique(x.to(at::kDouble))).numel(), 20);  // not degenerate
    }
  }
  // Special has both zeros, and values beyond the normal range.
  at::Tensor sp = GenerateInput(DType::kF32, {4096}, Layout::kContiguous, Distribution::kSpecial, {}, 3, 0);
  at::Tensor zeros = sp.eq(0);
  EXPECT_TRUE(zeros.any().item<bool>());
  EXPECT_TRUE(at::signbit(sp.masked_select(zeros)).any().item<bool>());   // -0
  EXPECT_FALSE(at::signbit(sp.masked_select(zeros)).all().item<bool>());  // +0
  EXPECT_GT(sp.abs().max().item<float>(), 1e9f);
  at::Tensor nonzero_abs = sp.abs().masked_select(sp.ne(0));
  EXPECT_LT(nonzero_abs.min().item<float>(), std::numeric_limits<float>::min());  // a subnormal
}

TEST(InputGen, NonfiniteOnlyWhenAllowed) {
  Domain allow = MakeDomain(Kind::kAny, 0, 0, true);
  at::Tensor x = GenerateInput(DType::kF32, {2000}, Layout::kContiguous, Distribution::kSpecial, allow, 5, 0);
  EXPECT_TRUE(at::isnan(x).any().item<bool>());
  EXPECT_TRUE(x.eq(INFINITY).any().item<bool>());
  EXPECT_TRUE(x.eq(-INFINITY).any().item<bool>());
  at::Tensor pos = GenerateInput(DType::kF32, {2000}, Layout::kContiguous, Distribution::kSpecial,
                                 MakeDomain(Kind::kPositive, 0, 0, true), 5, 0);
  EXPECT_FALSE(pos.eq(-INFINITY).any().item<bool>());
}

TEST(InputGen, FloatDomainsRespected) {
  for (DType t : kFloats) {
    for (auto dist : kDists) {
      auto gen = [&](Domain d) { return GenerateInput(t, {3000}, Layout::kContiguous, dist, d, 11, 2).to(at::kDouble); };
      EXPECT_TRUE(gen(MakeDomain(Kind::kPositive)).gt(0).all().item<bool>());
      at::Tensor nn = gen(MakeDomain(Kind::kNonNegative));
      EXPECT_TRUE(nn.ge(0).all().item<bool>());
      EXPECT_FALSE(at::signbit(nn).any().item<bool>());
      EXPECT_TRUE(gen(MakeDomain(Kind::kNonZero)).ne(0).all().item<bool>());
      at::Tensor u = gen(MakeDomain(Kind::kUnit));
      EXPECT_TRUE(u.gt(0).all().item<bool>() && u.lt(1).all().item<bool>()) << DTypeName(t);
      // A bound that is not representable in f16/bf16 (0.1) must still hold after rounding.
      at::Tensor r = gen(MakeDomain(Kind::kRange, -0.3, 0.1));
      EXPECT_TRUE(r.ge(-0.3).all().item<bool>() && r.le(0.1).all().item<bool>()) << DTypeName(t);
      EXPECT_GT(std::get<0>(at::_unique(r.to(at::kDouble))).numel(), 5);
    }
  }
}

TEST(InputGen, IntegerRangesAndBool) {
  for (DType t : {DType::kU8, DType::kI8, DType::kI16, DType::kI32, DType::kI64}) {
    for (auto dist : kDists) {
      at::Tensor x = GenerateInput(t, {5000}, Layout::kContiguous, dist, {}, 4, 0).to(at::kLong);
      int64_t lo = t == DType::kU8 ? 0 : -100;
      EXPECT_GE(x.min().item<int64_t>(), lo);
      EXPECT_LE(x.max().item<int64_t>(), 100);
      EXPECT_GT(std::get<0>(at::_unique(x)).numel(), 10) << DTypeName(t) << " " << DistributionName(dist);
      at::Tensor r = GenerateInput(t, {5000}, Layout::kContiguous, dist, MakeDomain(Kind::kRange, 3, 9), 4, 0)
                         .to(at::kLong);
      EXPECT_GE(r.min().item<int64_t>(), 3);
      EXPECT_LE(r.max().item<int64_t>(), 9);
      at::Tensor nz = GenerateInput(t, {5000}, Layout::kContiguous, dist, MakeDomain(Kind::kNonZero), 4, 0);
      EXPECT_TRUE(nz.ne(0).all().item<bool>());
      at::Tensor pos = GenerateInput(t, {5000}, Layout::kContiguous, dist, MakeDomain(Kind::kPositive), 4, 0);
      EXPECT_TRUE(pos.gt(0).all().item<bool>());
    }
  }
  at::Tensor b = GenerateInput(DType::kBool, {1000}, Layout::kContiguous, Distribution::kUniform, {}, 4, 0);
  EXPECT_EQ(b.scalar_type(), at::kBool);
  const uint8_t* bytes = static_cast<const uint8_t*>(b.data_ptr());
  int ones = 0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_LE(bytes[i], 1);  // valid bools only
    ones += bytes[i];
  }
  EXPECT_GT(ones, 300);
  EXPECT_LT(ones, 700);
}

TEST(InputGen, CheckDomain) {
  EXPECT_TRUE(CheckDomain({}, DType::kF16).ok());
  Status unit_int = CheckDomain(MakeDomain(Kind::kUnit), DType::kI32);
  ASSERT_FALSE(unit_int.ok());
  EXPECT_NE(unit_int.message().find("unit"), std::string::npos);
  EXPECT_FALSE(CheckDomain(MakeDomain(Kind::kRange, 0.2, 0.7), DType::kI32).ok());  // no integer inside
  EXPECT_FALSE(CheckDomain(MakeDomain(Kind::kRange, -10, -1), DType::kU8).ok());
  EXPECT_FALSE(CheckDomain(MakeDomain(Kind::kRange, 0, 1e6), DType::kF16).ok());  // beyond f16's range
  EXPECT_FALSE(CheckDomain(MakeDomain(Kind::kRange, 0.10004, 0.10009), DType::kF16).ok());  // no f16 inside
  EXPECT_TRUE(CheckDomain(MakeDomain(Kind::kRange, 0.5, 0.5), DType::kF16).ok());
  EXPECT_TRUE(CheckDomain(MakeDomain(Kind::kPositive), DType::kBool).ok());
  EXPECT_FALSE(CheckDomain(MakeDomain(Kind::kRange, 2, 1), DType::kF32).ok());
  ValueDomain vd{Kind::kRange, -1, 1};
  Domain d = Domain::From(vd, true);
  EXPECT_EQ(d.kind, Kind::kRange);
  EXPECT_EQ(d.hi, 1);
  EXPECT_TRUE(d.allows_nonfinite);
}

TEST(InputGen, CloneGuardedCopiesValuesStridesAndGaps) {
  for (auto layout : {Layout::kContiguous, Layout::kTransposed, Layout::kStrided, Layout::kBroadcast}) {
    at::Tensor x = GenerateInput(DType::kBF16, {5, 6}, layout, Distribution::kHeavy, {}, 2, 0);
    at::Tensor c = CloneGuarded(x);
    EXPECT_TRUE(IsGuarded(c));
    EXPECT_NE(c.data_ptr(), x.data_ptr());
    EXPECT_EQ(c.strides(), x.strides());
    EXPECT_TRUE(at::equal(c, x));
    EXPECT_EQ(std::memcmp(c.storage().data_ptr().get(), x.storage().data_ptr().get(), x.storage().nbytes()), 0);
  }
  at::Tensor empty = GenerateInput(DType::kF32, {3, 0}, Layout::kContiguous, Distribution::kNormal, {}, 2, 0);
  EXPECT_EQ(CloneGuarded(empty).numel(), 0);
}

}  // namespace
}  // namespace anvil::worker
