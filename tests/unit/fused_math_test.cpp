// include/anvil/fused_math.h on the host: the branch-free f16 -> float
// conversion gives the same bits as cpu_tensor.h's HalfToFloat, the
// branch-free float -> f16/bf16 stores the same bits as FloatToHalf and
// FloatToBF16, and the
// vectorisable float log1p/tanh/erf/expm1 stay within the error bounds their
// comments state (checked against double).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "anvil/fused_math.h"

namespace {

TEST(FusedMath, HalfToFloatMatchesTheReferenceOnEveryHalf) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const float want = anvil::HalfToFloat(static_cast<uint16_t>(b));
    const float got = anvil::fm::ToCompute(anvil::fm::f16_t{static_cast<uint16_t>(b)});
    ASSERT_EQ(0, std::memcmp(&want, &got, 4)) << std::hex << b;
  }
}

TEST(FusedMath, FloatTanhErfExpm1StayWithinTheirStatedErrors) {
  double tanh_rel = 0, erf_abs = 0, expm1_rel = 0;
  for (float x = -30.0f; x <= 30.0f; x += 1.0f / 4096) {
    for (float y : {x, x * 1e-4f}) {  // also small arguments, where relative errors are hardest
      const double t = std::tanh(static_cast<double>(y)), m = std::expm1(static_cast<double>(y));
      if (t != 0) tanh_rel = std::max(tanh_rel, std::fabs((anvil::fm::Tanh(y) - t) / t));
      erf_abs = std::max(erf_abs, std::fabs(anvil::fm::Erf(y) - std::erf(static_cast<double>(y))));
      if (m != 0 && std::isfinite(m)) expm1_rel = std::max(expm1_rel, std::fabs((anvil::fm::Expm1(y) - m) / m));
    }
  }
  EXPECT_LT(tanh_rel, 3.3e-7);
  EXPECT_LT(erf_abs, 3.4e-7);
  EXPECT_LT(expm1_rel, 1.3e-7);
  EXPECT_TRUE(std::isnan(anvil::fm::Tanh(NAN)));
  EXPECT_EQ(anvil::fm::Tanh(INFINITY), 1.0f);
  EXPECT_EQ(anvil::fm::Erf(-INFINITY), -1.0f);
  EXPECT_EQ(anvil::fm::Expm1(-INFINITY), -1.0f);
}

// GELU (exact) keeps a relative error bound where 1 + erf(x / sqrt 2) cancels
// (x < 0): found by the verifier on a one-element linear layer whose GELU input
// was near -2 (rel. error 3e-6 against rtol 1.3e-6 for f32).
TEST(FusedMath, FloatGeluErfAndErfcStayWithinARelativeBound) {
  double gelu_rel = 0, erfc_rel = 0;
  for (float x = -12.7f; x <= 12.0f; x += 1.0f / 8192) {
    const double xd = x;
    const double want = 0.5 * xd * std::erfc(-xd / std::sqrt(2.0));
    if (want != 0 && std::fabs(want) > 1e-37) gelu_rel = std::max(gelu_rel, std::fabs((anvil::fm::GeluErf(x) - want) / want));
    if (x >= 0 && x <= 9.0f) {
      const double e = std::erfc(xd);
      erfc_rel = std::max(erfc_rel, std::fabs((anvil::fm::ErfcNonNegative(x) - e) / e));
    }
  }
  EXPECT_LT(gelu_rel, 5e-7);
  EXPECT_LT(erfc_rel, 4e-7);
  EXPECT_TRUE(std::isnan(anvil::fm::GeluErf(NAN)));
  EXPECT_EQ(anvil::fm::GeluErf(INFINITY), INFINITY);
  EXPECT_EQ(anvil::fm::GeluErf(-30.0f), -0.0f);
  EXPECT_TRUE(std::signbit(anvil::fm::GeluErf(-0.0f)));
  EXPECT_EQ(anvil::fm::ErfcNonNegative(11.0f), 0.0f);
}

// Floats where rounding to 16 bits changes: each value of the 16-bit format whose
// float bits are `top << shift`, the floats next to it, and the midpoints to the next
// value with their neighbours (ties to even, just below and just above).
std::vector<float> RoundingEdges(int shift) {
  std::vector<float> xs;
  for (uint32_t top = 0; top < 65536; ++top) {
    const uint32_t v = top << shift, mid = v + (1u << (shift - 1));
    for (uint32_t b : {v - 1, v, v + 1, mid - 1, mid, mid + 1}) xs.push_back(anvil::BitsFloat(b));
  }
  return xs;
}

// Random bit patterns (every NaN payload, Inf, subnormal and overflow class turns up) and named specials.
std::vector<float> RandomAndSpecialFloats() {
  std::vector<float> xs;
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) xs.push_back(anvil::BitsFloat(static_cast<uint32_t>(rng())));
  for (float x : {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, 65504.0f, 65519.99f, 65520.0f, 1e6f, -1e38f, 0x1p-14f,
                  0x1p-24f, 0x1p-25f, 0x1.8p-25f, 0x1p-26f, std::numeric_limits<float>::denorm_min(),
                  std::numeric_limits<float>::max(), std::numeric_limits<float>::min()})
    xs.push_back(x);
  for (uint32_t nan : {0x7f800001u, 0x7fc00000u, 0x7fffffffu, 0xff800001u, 0x7fa00000u, 0x7f802000u})
    xs.push_back(anvil::BitsFloat(nan));
  return xs;
}

TEST(FusedMath, HalfStoreMatchesFloatToHalfBitForBit) {
  // A half's spacing is not a fixed number of float bits (subnormal halves), so the
  // edges come from the halves themselves: each half as a float, the midpoint to the
  // next half, and the floats on either side of both.
  std::vector<float> xs = RandomAndSpecialFloats();
  for (uint32_t h = 0; h < 65536; ++h) {
    const float v = anvil::HalfToFloat(static_cast<uint16_t>(h));
    const float next = anvil::HalfToFloat(static_cast<uint16_t>(h + 1 < 65536 ? h + 1 : h));
    const float mid = static_cast<float>((static_cast<double>(v) + next) / 2);  // exact: one more bit than a half
    for (float x : {v, mid}) {
      const uint32_t b = anvil::FloatBits(x);
      for (uint32_t n : {b - 1, b, b + 1}) xs.push_back(anvil::BitsFloat(n));
    }
  }
  for (float x : xs)
    ASSERT_EQ(anvil::FloatToHalf(x), anvil::fm::FromCompute<anvil::fm::f16_t>(x).bits)
        << std::hex << anvil::FloatBits(x);
  // The run store (F16C when this test is built for a target with it), over a length
  // that leaves a partial block of 8 at the end.
  std::vector<anvil::fm::f16_t> run(xs.size() - 3);
  anvil::fm::StoreHalves(xs.data(), static_cast<int64_t>(run.size()), run.data());
  for (size_t i = 0; i < run.size(); ++i)
    ASSERT_EQ(anvil::FloatToHalf(xs[i]), run[i].bits) << std::hex << anvil::FloatBits(xs[i]);
}

TEST(FusedMath, BFloat16StoreMatchesFloatToBF16BitForBit) {
  std::vector<float> xs = RandomAndSpecialFloats();
  const std::vector<float> edges = RoundingEdges(16);
  xs.insert(xs.end(), edges.begin(), edges.end());
  for (float x : xs)
    ASSERT_EQ(anvil::FloatToBF16(x), anvil::fm::FromCompute<anvil::fm::bf16_t>(x).bits)
        << std::hex << anvil::FloatBits(x);
}

// The error of a float result in units of the float spacing at the exact (double) value.
double UlpError(float got, double want) {
  int e = 0;
  std::frexp(want, &e);
  const double ulp = std::ldexp(1.0, std::max(e - 24, -149));
  return std::fabs(got - want) / ulp;
}

TEST(FusedMath, FloatLog1pStaysWithinItsStatedErrorOverEveryExponent) {
  // Every 4099th float bit pattern (an odd stride, so every exponent and many
  // mantissas of each, subnormals included), then a dense sweep near -1 and 0.
  double worst_ulp = 0, worst_rel = 0;
  float worst_x = 0;
  auto check = [&](float x) {
    if (!(x > -1.0f) || std::isinf(x)) return;
    const double want = std::log1p(static_cast<double>(x));
    const float got = anvil::fm::Log1p(x);
    const double ulp = UlpError(got, want);
    if (ulp > worst_ulp) worst_ulp = ulp, worst_x = x;
    if (want != 0) worst_rel = std::max(worst_rel, std::fabs((got - want) / want));
  };
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += 4099) check(anvil::BitsFloat(static_cast<uint32_t>(b)));
  for (float x = -1.0f; x <= 4.0f; x += 1.0f / 65536) check(x);
  EXPECT_LT(worst_ulp, 0.87) << "at x = " << worst_x;
  EXPECT_LT(worst_rel, 8.2e-8);
}

TEST(FusedMath, FloatLog1pSpecialValuesAreTheCLibrarysBits) {
  const float denorm = std::numeric_limits<float>::denorm_min();
  for (float x : {0.0f, -0.0f, denorm, -denorm, 1e-40f, -1e-40f, 1e-30f, -1e-30f, 0x1p-25f, -0x1p-25f, -1.0f,
                  -1.5f, -INFINITY, INFINITY, NAN, -NAN, std::numeric_limits<float>::max(), -0.999999940f}) {
    const float want = std::log1p(x), got = anvil::fm::Log1p(x);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << x;
    } else {
      EXPECT_EQ(anvil::FloatBits(want), anvil::FloatBits(got)) << std::hexfloat << x << ": " << got << " vs " << want;
    }
  }
}

}  // namespace
