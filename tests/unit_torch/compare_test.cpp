#include "worker/compare.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "worker/guarded_buffer.h"

namespace anvil::worker {
namespace {

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

Tolerance Loose(double rtol, double atol) {
  Tolerance t;
  t.rtol = rtol;
  t.atol = atol;
  return t;
}

Tolerance Exact() {
  Tolerance t;
  t.exact = true;
  return t;
}

TEST(Compare, DtypeAndShapeMismatch) {
  at::Tensor e = at::zeros({4, 8}, at::kFloat);
  CompareResult dt = Compare(e, at::zeros({4, 8}, at::kHalf), Loose(1e-3, 1e-3), CompareMode::kAllClose, -1);
  EXPECT_FALSE(dt.ok);
  EXPECT_EQ(dt.reason, "output dtype f16, expected f32");
  CompareResult sh = Compare(e, at::zeros({4, 7}, at::kFloat), Loose(1e-3, 1e-3), CompareMode::kAllClose, -1);
  EXPECT_FALSE(sh.ok);
  EXPECT_EQ(sh.reason, "shape [4, 7] but expected [4, 8]");
}

TEST(Compare, EqualAndEmptyPass) {
  at::Tensor e = at::randn({5, 6}, at::kDouble);
  CompareResult same = Compare(e, e.clone(), ToleranceFor(DType::kF64, 1, 1, {}), CompareMode::kAllClose, -1);
  EXPECT_TRUE(same.ok) << same.reason;
  EXPECT_EQ(same.mismatches, 0);
  EXPECT_EQ(same.numel, 30);
  EXPECT_TRUE(same.reason.empty());
  EXPECT_TRUE(Compare(at::empty({0, 3}), at::empty({0, 3}), Exact(), CompareMode::kAllClose, -1).ok);
}

TEST(Compare, ToleranceEdgeInsidePassesOutsideFails) {
  Tolerance tol = Loose(0.01, 0.5);  // allowed at 100: 1.5
  at::Tensor e = at::full({3}, 100.0, at::kDouble);
  at::Tensor inside = e.clone();
  inside[1] = 101.5;
  EXPECT_TRUE(Compare(e, inside, tol, CompareMode::kAllClose, -1).ok);
  at::Tensor outside = e.clone();
  outside[1] = 101.5000001;
  CompareResult r = Compare(e, outside, tol, CompareMode::kAllClose, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 1);
  EXPECT_EQ(r.first_mismatches.at(0).index, std::vector<int64_t>({1}));
  EXPECT_NEAR(r.max_abs_err, 1.5000001, 1e-9);
  EXPECT_NEAR(r.max_rel_err, 0.015000001, 1e-9);
  EXPECT_GT(r.worst_ratio, 1.0);
  EXPECT_LT(r.worst_ratio, 1.0001);
}

TEST(Compare, ReportsCountFirstAndWorstWithMultiDimIndices) {
  at::Tensor e = at::full({4, 5}, 1.0, at::kFloat);
  at::Tensor a = e.clone();
  a[1][2] = 1.1f;
  a[3][4] = 3.0f;  // the worst
  a[2][0] = 1.2f;
  Tolerance tol = ToleranceFor(DType::kF32, 1.0, 1, {});
  CompareResult r = Compare(e, a, tol, CompareMode::kAllClose, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 3);
  ASSERT_EQ(r.first_mismatches.size(), 3u);
  EXPECT_EQ(r.first_mismatches[0].index, std::vector<int64_t>({1, 2}));
  EXPECT_EQ(r.first_mismatches[1].index, std::vector<int64_t>({2, 0}));
  EXPECT_DOUBLE_EQ(r.first_mismatches[0].expected, 1.0);
  EXPECT_NEAR(r.first_mismatches[0].actual, 1.1, 1e-6);
  ASSERT_TRUE(r.worst_index.has_value());
  EXPECT_EQ(*r.worst_index, std::vector<int64_t>({3, 4}));
  EXPECT_NEAR(r.worst_ratio, 2.0 / (tol.atol + tol.rtol), 1.0);
  EXPECT_TRUE(Contains(r.reason, "3 of 20 elements differ beyond tolerance (rtol=1.3e-06, atol=1.3e-06)")) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "first at [1, 2]: expected 1 got 1.1")) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "worst at [3, 4]: expected 1 got 3")) << r.reason;
}

TEST(Compare, AtMostFiveReported) {
  at::Tensor e = at::zeros({100}, at::kFloat);
  CompareResult r = Compare(e, at::ones({100}, at::kFloat), Loose(1e-3, 1e-3), CompareMode::kAllClose, -1);
  EXPECT_EQ(r.mismatches, 100);
  EXPECT_EQ(r.first_mismatches.size(), 5u);
  EXPECT_EQ(r.first_mismatches[4].index, std::vector<int64_t>({4}));
}

TEST(Compare, NanPositionsMustMatch) {
  at::Tensor e = at::tensor({0.5, 0.25, NAN, 1.0}, at::kDouble).view({2, 2});
  Tolerance huge = Loose(1e9, 1e9);  // no tolerance excuses a NaN
  EXPECT_TRUE(Compare(e, e.clone(), huge, CompareMode::kAllClose, -1).ok);

  at::Tensor extra = e.clone();
  extra[0][1] = NAN;
  CompareResult r = Compare(e, extra, huge, CompareMode::kAllClose, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.reason, "first at [0, 1]: NaN where the reference is 0.25")) << r.reason;
  EXPECT_TRUE(Contains(r.reason, "1 NaN where the reference is a number")) << r.reason;
  EXPECT_TRUE(std::isinf(r.worst_ratio));

  at::Tensor missing = e.clone();
  missing[1][0] = 7.0;
  CompareResult m = Compare(e, missing, huge, CompareMode::kAllClose, -1);
  EXPECT_FALSE(m.ok);
  EXPECT_TRUE(Contains(m.reason, "1 numbers where the reference is NaN")) << m.reason;
  EXPECT_TRUE(Contains(m.reason, "[1, 0]: expected NaN got 7")) << m.reason;
}

TEST(Compare, InfinitiesMustMatchInPositionAndSign) {
  at::Tensor e = at::tensor({INFINITY, -INFINITY, 1.0f});
  Tolerance huge = Loose(1e9, 1e30);
  EXPECT_TRUE(Compare(e, e.clone(), huge, CompareMode::kAllClose, -1).ok);
  CompareResult sign = Compare(e, at::tensor({INFINITY, INFINITY, 1.0f}), huge, CompareMode::kAllClose, -1);
  EXPECT_FALSE(sign.ok);
  EXPECT_TRUE(Contains(sign.reason, "1 with a wrong infinity")) << sign.reason;
  EXPECT_TRUE(Contains(sign.reason, "first at [1]: expected -inf got inf")) << sign.reason;
  CompareResult finite = Compare(e, at::tensor({INFINITY, -INFINITY, INFINITY}), huge, CompareMode::kAllClose, -1);
  EXPECT_FALSE(finite.ok);
  EXPECT_EQ(finite.first_mismatches.at(0).index, std::vector<int64_t>({2}));
}

TEST(Compare, UnwrittenElementsAreNamed) {
  at::Tensor e = at::ones({2, 3}, at::kFloat);
  at::Tensor out = AllocateGuarded(at::kFloat, {2, 3}, {3, 1}, 6);
  Poison(out);
  out.select(0, 0).fill_(1.0f);  // second row never written
  CompareResult r = Compare(e, out, ToleranceFor(DType::kF32, 1, 1, {}), CompareMode::kAllClose, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 3);
  EXPECT_TRUE(Contains(r.reason, "first at [1, 0]: never written (still the poison value) where the reference is 1"))
      << r.reason;
}

TEST(Compare, ExactIntegersAndInvalidBools) {
  at::Tensor e = at::arange(10, at::kInt);
  at::Tensor a = e.clone();
  // Integers are exact even when handed a float tolerance.
  EXPECT_TRUE(Compare(e, a, Loose(1, 1), CompareMode::kAllClose, -1).ok);
  a[7] = 8;
  CompareResult r = Compare(e, a, Loose(1, 1), CompareMode::kAllClose, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.reason, "1 of 10 elements differ beyond tolerance (exact comparison); first at [7]: expected 7 got 8"))
      << r.reason;
  EXPECT_EQ(*r.worst_index, std::vector<int64_t>({7}));

  // A mismatch shows whole numbers whole: 16777217 vs 16777216 (2^24 + 1, not
  // a float) and f32 values at float precision, not 7 digits that hide the
  // difference (-1.677722e+07 for both).
  at::Tensor wide = at::full({1}, 16777217, at::kLong);
  CompareResult off = Compare(wide, wide - 1, Exact(), CompareMode::kExact, -1);
  EXPECT_TRUE(Contains(off.reason, "expected 16777217 got 16777216")) << off.reason;
  at::Tensor f = at::full({1}, -16777215.0f, at::kFloat);
  CompareResult off_f = Compare(f, f + 2, Exact(), CompareMode::kExact, -1);
  EXPECT_TRUE(Contains(off_f.reason, "expected -16777215 got -16777213")) << off_f.reason;

  // int64 values beyond 2^53 differ by one: still caught.
  at::Tensor big = at::full({2}, (int64_t{1} << 60) + 1, at::kLong);
  at::Tensor big2 = big.clone();
  big2[1] = (int64_t{1} << 60);
  EXPECT_FALSE(Compare(big, big2, Exact(), CompareMode::kExact, -1).ok);

  at::Tensor be = at::tensor({1, 0, 1}).to(at::kBool);
  at::Tensor bo = AllocateGuarded(at::kBool, {3}, {1}, 3);
  Poison(bo);
  static_cast<uint8_t*>(bo.data_ptr())[0] = 1;
  static_cast<uint8_t*>(bo.data_ptr())[1] = 0;  // [2] holds 0x5A: "true" to a sloppy reader
  CompareResult b = Compare(be, bo, Exact(), CompareMode::kExact, -1);
  EXPECT_FALSE(b.ok);
  EXPECT_EQ(b.mismatches, 1);
  EXPECT_TRUE(Contains(b.reason, "[2]: never written")) << b.reason;
}

TEST(Compare, ExactModeForFloats) {
  at::Tensor e = at::tensor({1.0f, NAN, 0.0f});
  EXPECT_TRUE(Compare(e, at::tensor({1.0f, NAN, -0.0f}), Loose(0, 0), CompareMode::kExact, -1).ok);
  CompareResult r = Compare(e, at::tensor({std::nextafter(1.0f, 2.0f), NAN, 0.0f}), Loose(1, 1), CompareMode::kExact, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 1);
}

TEST(Compare, UnorderedSortsAlongTheDimWithTiesAndNan) {
  at::Tensor e = at::tensor({3.0f, 1.0f, 1.0f, 2.0f, NAN, 5.0f, 5.0f, 4.0f}).view({2, 4});
  at::Tensor a = at::tensor({1.0f, 2.0f, 3.0f, 1.0f, 5.0f, 4.0f, NAN, 5.0f}).view({2, 4});
  Tolerance tol = ToleranceFor(DType::kF32, 5, 1, {});
  EXPECT_FALSE(Compare(e, a, tol, CompareMode::kAllClose, -1).ok);
  EXPECT_TRUE(Compare(e, a, tol, CompareMode::kUnordered, -1).ok);
  EXPECT_TRUE(Compare(e, a, tol, CompareMode::kUnordered, 1).ok);
  EXPECT_FALSE(Compare(e, a, tol, CompareMode::kUnordered, 0).ok);  // wrong dim: rows differ
  at::Tensor wrong = a.clone();
  wrong[0][3] = 2.0f;  // sorted row 0: {1, 2, 2, 3} vs the reference's {1, 1, 2, 3}
  CompareResult r = Compare(e, wrong, tol, CompareMode::kUnordered, -1);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(Contains(r.reason, "(after sorting along dim 1)")) << r.reason;
  EXPECT_EQ(r.first_mismatches.at(0).index, std::vector<int64_t>({0, 1}));
  // Integers unordered: exact.
  at::Tensor ie = at::tensor({5, 1, 3}, at::kLong), ia = at::tensor({3, 5, 1}, at::kLong);
  EXPECT_TRUE(Compare(ie, ia, Exact(), CompareMode::kUnordered, 0).ok);
  EXPECT_FALSE(Compare(ie, at::tensor({3, 5, 2}, at::kLong), Exact(), CompareMode::kUnordered, 0).ok);
  EXPECT_FALSE(Compare(ie, ia, Exact(), CompareMode::kUnordered, 3).ok);  // out of range, not a crash
}

TEST(Compare, NonContiguousActualAndHalfPrecision) {
  at::Tensor e = at::randn({6, 5}, at::kHalf);
  at::Tensor a = e.t().contiguous().t();  // same values, transposed strides
  EXPECT_TRUE(Compare(e, a, ToleranceFor(DType::kF16, 3, 1, {}), CompareMode::kAllClose, -1).ok);
}

TEST(Compare, VectorisedRuleMatchesTheScalarRule) {
  at::manual_seed(3);
  at::Tensor e = at::randn({5000}, at::kDouble);
  at::Tensor a = e + at::randn({5000}, at::kDouble) * 1e-6;
  a[10] = NAN;
  a[11] = INFINITY;
  Tolerance tol = ToleranceFor(DType::kF64, OutputScale(e), 1, {});
  CompareResult r = Compare(e, a, tol, CompareMode::kAllClose, -1);
  int64_t scalar_bad = 0;
  for (int64_t i = 0; i < 5000; ++i)
    scalar_bad += !WithinTolerance(tol, e[i].item<double>(), a[i].item<double>());
  EXPECT_EQ(r.mismatches, scalar_bad);
  EXPECT_GT(scalar_bad, 100);
}

TEST(Compare, LargeOutputsAcrossChunksAreFast) {
  const int64_t n = 10'000'000;
  at::Tensor e = at::randn({n}, at::kFloat);
  at::Tensor a = e.clone();
  a[n - 3] = a[n - 3].item<float>() + 1.0f;  // only in the last chunk
  Tolerance tol = ToleranceFor(DType::kF32, OutputScale(e), 1, {});
  auto t0 = std::chrono::steady_clock::now();
  CompareResult r = Compare(e.view({1000, 10000}), a.view({1000, 10000}), tol, CompareMode::kAllClose, -1);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.mismatches, 1);
  EXPECT_EQ(r.first_mismatches.at(0).index, std::vector<int64_t>({999, 9997}));
  EXPECT_EQ(*r.worst_index, std::vector<int64_t>({999, 9997}));
  EXPECT_LT(seconds, 5.0);  // about a second on one busy core, randn and clone excluded
}

TEST(Compare, BitwiseEqual) {
  at::Tensor a = at::tensor({1.0f, NAN, -0.0f});
  EXPECT_TRUE(BitwiseEqual(a, a.clone()));
  EXPECT_FALSE(BitwiseEqual(a, at::tensor({1.0f, NAN, 0.0f})));  // zero sign differs
  at::Tensor payload = a.clone();
  uint32_t other_nan = 0x7FC00001u;
  std::memcpy(static_cast<float*>(payload.data_ptr()) + 1, &other_nan, 4);
  EXPECT_FALSE(BitwiseEqual(a, payload));  // NaN payload differs
  EXPECT_FALSE(BitwiseEqual(a, a.to(at::kDouble)));
  EXPECT_FALSE(BitwiseEqual(a, a.view({3, 1})));
  at::Tensor m = at::randn({4, 3});
  EXPECT_TRUE(BitwiseEqual(m, m.t().contiguous().t()));  // strides may differ
}

TEST(Compare, IsConstant) {
  EXPECT_TRUE(IsConstant(at::zeros({10})));
  EXPECT_TRUE(IsConstant(at::tensor({0.0f, -0.0f, 0.0f})));  // mixing zero signs does not escape
  EXPECT_TRUE(IsConstant(at::full({3, 3}, NAN)));
  EXPECT_TRUE(IsConstant(at::full({4}, 7, at::kInt)));
  EXPECT_TRUE(IsConstant(at::ones({4}, at::kBool)));
  EXPECT_FALSE(IsConstant(at::tensor({1.0f, 1.0f, 2.0f})));
  EXPECT_FALSE(IsConstant(at::tensor({NAN, 1.0f})));
  EXPECT_FALSE(IsConstant(at::tensor({1.0f, NAN})));
  EXPECT_FALSE(IsConstant(at::ones({1})));  // a single element is not "constant"
  EXPECT_FALSE(IsConstant(at::empty({0})));
}

TEST(Compare, OutputScale) {
  EXPECT_DOUBLE_EQ(OutputScale(at::tensor({-3.0f, 2.0f, INFINITY, NAN})), 3.0);
  EXPECT_DOUBLE_EQ(OutputScale(at::tensor({NAN, INFINITY})), 0.0);
  EXPECT_DOUBLE_EQ(OutputScale(at::tensor({-7, 5}, at::kInt)), 7.0);
  EXPECT_DOUBLE_EQ(OutputScale(at::tensor({1, 0}).to(at::kBool)), 1.0);
  EXPECT_DOUBLE_EQ(OutputScale(at::empty({0})), 0.0);
  EXPECT_DOUBLE_EQ(OutputScale(at::tensor({0.5, -65504.0}).to(at::kHalf)), 65504.0);
}

}  // namespace
}  // namespace anvil::worker
