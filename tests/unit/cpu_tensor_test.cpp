// Tests of the hot-loop helpers in include/anvil/cpu_tensor.h: the run
// conversions agree bit for bit with the per-element conversions, and ExpF
// stays within 1.2 ulp of exp with the documented special values.
#include "anvil/cpu_tensor.h"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace anvil {
namespace {

bool SameOrBothNaN(float a, float b) { return FloatBits(a) == FloatBits(b) || (std::isnan(a) && std::isnan(b)); }

TEST(CpuTensorRuns, LoadFloatsMatchesPerElementConversionForEveryPattern) {
  std::vector<F16> h(65536);
  std::vector<BF16> b(65536);
  for (int i = 0; i < 65536; ++i) h[i].bits = b[i].bits = static_cast<uint16_t>(i);
  std::vector<float> f(65536);
  LoadFloats(h.data(), 1, 65536, f.data());
  for (int i = 0; i < 65536; ++i) ASSERT_TRUE(SameOrBothNaN(f[i], HalfToFloat(i))) << i;
  LoadFloats(h.data() + 65535, -1, 65536, f.data());  // negative stride
  for (int i = 0; i < 65536; ++i) ASSERT_TRUE(SameOrBothNaN(f[i], HalfToFloat(65535 - i))) << i;
  LoadFloats(b.data(), 1, 65536, f.data());
  for (int i = 0; i < 65536; ++i) ASSERT_EQ(FloatBits(f[i]), FloatBits(BF16ToFloat(i))) << i;
  LoadFloats(b.data() + 7, 0, 3, f.data());  // stride 0: broadcast
  for (int i = 0; i < 3; ++i) EXPECT_EQ(FloatBits(f[i]), FloatBits(BF16ToFloat(7)));
}

TEST(CpuTensorRuns, StoreFloatsRoundsLikeFromFloat) {
  std::vector<float> src;
  for (uint32_t bits = 0; bits < 0xffffffffu - 0x10000u; bits += 0x10001u) src.push_back(BitsFloat(bits));
  for (uint32_t bits = 0x33000000u; bits < 0x47800000u; bits += 0x1fffu) {  // around every f16 rounding boundary
    src.push_back(BitsFloat(bits));
    src.push_back(BitsFloat(bits | 0x80000000u));
    src.push_back(BitsFloat(bits + 0x1000u));
  }
  std::vector<F16> h(src.size());
  std::vector<BF16> b(src.size());
  StoreFloats(src.data(), static_cast<int64_t>(src.size()), h.data());
  StoreFloats(src.data(), static_cast<int64_t>(src.size()), b.data());
  for (size_t i = 0; i < src.size(); ++i) {
    ASSERT_TRUE(SameOrBothNaN(HalfToFloat(h[i].bits), HalfToFloat(FloatToHalf(src[i])))) << src[i];
    ASSERT_EQ(b[i].bits, FloatToBF16(src[i])) << src[i];
  }
}

TEST(CpuTensorRuns, ShortRunsAndTailsConvertEveryElementAndNoMore) {
  for (int64_t n = 0; n <= 17; ++n) {
    std::vector<float> src(n), back(n + 1, -7.0f);
    for (int64_t i = 0; i < n; ++i) src[i] = 0.25f * static_cast<float>(i) - 1.0f;
    std::vector<F16> h(n + 1, F16{0x1234});
    std::vector<BF16> b(n + 1, BF16{0x1234});
    StoreFloats(src.data(), n, h.data());
    StoreFloats(src.data(), n, b.data());
    EXPECT_EQ(h[n].bits, 0x1234) << "wrote past the end, n = " << n;
    EXPECT_EQ(b[n].bits, 0x1234) << "wrote past the end, n = " << n;
    LoadFloats(h.data(), 1, n, back.data());
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(back[i], src[i]) << n << " " << i;  // exact in f16
    EXPECT_EQ(back[n], -7.0f);
    LoadFloats(b.data(), 1, n, back.data());
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(back[i], src[i]) << n << " " << i;  // exact in bf16
  }
}

TEST(CpuTensorRuns, AsFloatsCopiesOnlyWhenItMust) {
  float data[4] = {1, 2, 3, 4};
  float buf[4] = {};
  EXPECT_EQ(AsFloats(data, 1, 4, buf), data);
  const float* strided = AsFloats(data, 2, 2, buf);
  EXPECT_EQ(strided, buf);
  EXPECT_EQ(buf[0], 1.0f);
  EXPECT_EQ(buf[1], 3.0f);
}

TEST(CpuTensorRuns, ExpFIsWithinOnePointTwoUlp) {
  double worst = 0;
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 97) {
    const float x = BitsFloat(static_cast<uint32_t>(bits));
    if (!(x > -110.0f && x < 95.0f)) continue;
    const double ref = std::exp(static_cast<double>(x));
    const float got = ExpF(x);
    if (ref > std::numeric_limits<float>::max()) {
      ASSERT_TRUE(std::isinf(got)) << x;
      continue;
    }
    const double ulp = std::max(std::ldexp(1.0, std::ilogb(std::max(ref, 1e-300)) - 23), std::ldexp(1.0, -149));
    worst = std::max(worst, std::fabs(got - ref) / ulp);
  }
  EXPECT_LE(worst, 1.25);
  EXPECT_EQ(ExpF(0.0f), 1.0f);
  EXPECT_EQ(ExpF(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isinf(ExpF(std::numeric_limits<float>::infinity())));
  EXPECT_TRUE(std::isnan(ExpF(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(ExpF(-1e30f), 0.0f);
  EXPECT_TRUE(std::isinf(ExpF(1e30f)));
}

}  // namespace
}  // namespace anvil
