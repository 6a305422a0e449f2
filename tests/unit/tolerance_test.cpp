#include "verify/tolerance.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace anvil {
namespace {

// Rounds to a binary format with `significand_bits` bits (11 for f16, 24 for
// f32), round-to-nearest-even; normal range only (enough for these tests).
double RoundToBits(double x, int significand_bits) {
  int exp = 0;
  double m = std::frexp(x, &exp);  // x = m * 2^exp, m in [0.5, 1)
  return std::ldexp(std::nearbyint(std::ldexp(m, significand_bits)), exp - significand_bits);
}

TEST(Tolerance, IntegersAndBoolAreExact) {
  for (DType t : {DType::kBool, DType::kU8, DType::kI8, DType::kI16, DType::kI32, DType::kI64}) {
    Tolerance tol = ToleranceFor(t, 100.0, 1000, {});
    EXPECT_TRUE(tol.exact) << DTypeName(t);
    EXPECT_EQ(tol.rtol, 0.0);
    EXPECT_EQ(tol.atol, 0.0);
    EXPECT_NE(tol.rule.find("exact"), std::string::npos);
    EXPECT_TRUE(WithinTolerance(tol, 7, 7));
    EXPECT_FALSE(WithinTolerance(tol, 7, 8));
  }
}

TEST(Tolerance, DefaultRtolPerFloatDtype) {
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF16, 1, 1, {}).rtol, 1e-3);
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kBF16, 1, 1, {}).rtol, 1.6e-2);
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF32, 1, 1, {}).rtol, 1.3e-6);
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF64, 1, 1, {}).rtol, 1e-7);
  EXPECT_DOUBLE_EQ(DefaultRtol(DType::kI32), 0.0);
  for (DType t : {DType::kF16, DType::kBF16, DType::kF32, DType::kF64}) {
    Tolerance tol = ToleranceFor(t, 1, 1, {});
    EXPECT_FALSE(tol.exact);
    EXPECT_DOUBLE_EQ(tol.atol, tol.rtol);  // scale 1, length 1
  }
}

TEST(Tolerance, AtolScalesWithOutputScaleAndSqrtOfReductionLength) {
  Tolerance base = ToleranceFor(DType::kF32, 2.0, 1, {});
  EXPECT_DOUBLE_EQ(base.atol, 1.3e-6 * 2.0);
  Tolerance reduced = ToleranceFor(DType::kF32, 2.0, 4096, {});
  EXPECT_DOUBLE_EQ(reduced.atol, 1.3e-6 * 2.0 * 64.0);
  Tolerance tiny = ToleranceFor(DType::kF32, 1e-6, 1, {});
  EXPECT_DOUBLE_EQ(tiny.atol, 1.3e-6 * 1e-6);  // small outputs get a small floor
  // Reduction length below 1 (size-0 reductions) counts as 1.
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF32, 2.0, 0, {}).atol, base.atol);
  EXPECT_NE(reduced.rule.find("4096"), std::string::npos);
}

TEST(Tolerance, AllZeroOutputGetsSmallestNormalFloor) {
  Tolerance f32 = ToleranceFor(DType::kF32, 0.0, 1, {});
  EXPECT_GT(f32.atol, 0.0);
  EXPECT_DOUBLE_EQ(f32.atol, 1.3e-6 * std::numeric_limits<float>::min());
  Tolerance f16 = ToleranceFor(DType::kF16, 0.0, 1, {});
  EXPECT_DOUBLE_EQ(f16.atol, 1e-3 * 6.103515625e-05);
  // Zeros cannot hide a real value: 1e-6 against an all-zero reference fails.
  EXPECT_FALSE(WithinTolerance(f32, 0.0, 1e-6));
  EXPECT_TRUE(WithinTolerance(f32, 0.0, 0.0));
  // A non-finite scale (no finite values) also falls back to the floor.
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF32, std::nan(""), 1, {}).atol, f32.atol);
}

TEST(Tolerance, OverridesReplaceDefaultsAndSaySo) {
  ToleranceOverrides ov;
  ov.per_dtype[DType::kF32].rtol = 1e-4;
  Tolerance rt = ToleranceFor(DType::kF32, 3.0, 16, ov);
  EXPECT_DOUBLE_EQ(rt.rtol, 1e-4);
  EXPECT_DOUBLE_EQ(rt.atol, 1e-4 * 3.0 * 4.0);  // derived from the overridden rtol
  EXPECT_NE(rt.rule.find("task override"), std::string::npos);

  ov.per_dtype[DType::kF32].atol = 0.5;
  Tolerance both = ToleranceFor(DType::kF32, 3.0, 16, ov);
  EXPECT_DOUBLE_EQ(both.atol, 0.5);  // used as given, not scaled

  // Other dtypes keep their defaults.
  EXPECT_DOUBLE_EQ(ToleranceFor(DType::kF16, 1, 1, ov).rtol, 1e-3);
  EXPECT_EQ(ToleranceFor(DType::kF16, 1, 1, ov).rule.find("task override"), std::string::npos);
}

TEST(Tolerance, Fp32RtolCatchesAValueComputedInFp16) {
  double exact = std::exp(0.1234567);
  double in_f32 = RoundToBits(exact, 24);
  double in_f16 = RoundToBits(exact, 11);
  ASSERT_NE(in_f16, in_f32);
  double scale = std::fabs(exact);
  Tolerance f32 = ToleranceFor(DType::kF32, scale, 1, {});
  Tolerance f16 = ToleranceFor(DType::kF16, scale, 1, {});
  EXPECT_TRUE(WithinTolerance(f32, in_f32, RoundToBits(exact * (1 + 2e-7), 24)));  // a few ulps of f32 pass
  EXPECT_FALSE(WithinTolerance(f32, in_f32, in_f16));  // f16 precision inside an f32 kernel fails
  EXPECT_TRUE(WithinTolerance(f16, in_f16, RoundToBits(in_f32, 11)));
  EXPECT_TRUE(WithinTolerance(f16, in_f32, in_f16));   // the same error is fine for an f16 output
}

TEST(Tolerance, EdgeOfTheRule) {
  Tolerance tol;
  tol.rtol = 0.01;
  tol.atol = 0.5;
  EXPECT_DOUBLE_EQ(AllowedError(tol, -100.0), 1.5);
  EXPECT_TRUE(WithinTolerance(tol, 100.0, 101.5));
  EXPECT_FALSE(WithinTolerance(tol, 100.0, 101.5000001));
  EXPECT_TRUE(WithinTolerance(tol, -100.0, -98.5));
}

TEST(Tolerance, NanAndInfRules) {
  Tolerance tol = ToleranceFor(DType::kF32, 1.0, 1, {});
  double inf = std::numeric_limits<double>::infinity();
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(WithinTolerance(tol, nan, nan));
  EXPECT_FALSE(WithinTolerance(tol, 0.25, nan));
  EXPECT_FALSE(WithinTolerance(tol, nan, 0.25));
  EXPECT_TRUE(WithinTolerance(tol, inf, inf));
  EXPECT_FALSE(WithinTolerance(tol, inf, -inf));
  EXPECT_FALSE(WithinTolerance(tol, 1e30, inf));
  Tolerance loose;
  loose.rtol = 1.0;
  loose.atol = 1e300;
  EXPECT_FALSE(WithinTolerance(loose, 1.0, inf));  // no tolerance admits an infinity
}

}  // namespace
}  // namespace anvil
