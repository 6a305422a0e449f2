// include/anvil/fused_math.h on the host: the branch-free f16 -> float
// conversion gives the same bits as cpu_tensor.h's HalfToFloat, and the
// vectorisable float tanh/erf/expm1 stay within the error bounds their
// comments state (checked against double).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

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

}  // namespace
