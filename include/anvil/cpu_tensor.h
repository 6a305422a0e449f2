/*
 * anvil/cpu_tensor.h — small helpers for CPU candidate kernels (C++17,
 * header-only, depends only on anvil/kernel.h). It includes
 * anvil/abi_helpers.h, the host helpers CPU and CUDA candidates share: dtype
 * checks (IsF32, ...), DTypeName, Numel, IsContiguous, Stride,
 * StridedOffset, DataPtr, SetError and FindAttr.
 *
 * What is here, for the CPU only:
 *   - bit-exact f16/bf16 <-> float conversions (round to nearest even; NaN,
 *     Inf and subnormals handled), plus the F16/BF16 storage types and
 *     ToFloat/FromFloat overloads so a kernel can be a template over its
 *     storage type;
 *   - element access by runtime dtype (LoadF, LoadAsDouble, StoreF): simple
 *     but a switch per element, so use templates in hot loops;
 *   - for hot loops: whole-run conversion between T and float (LoadFloats,
 *     StoreFloats, AsFloats; F16C instructions for f16 when the compiler
 *     targets them) and ExpF / ExpSumF, a float exp that vectorises inside `omp simd`;
 *   - DispatchFloat: runs a generic lambda for f32/f16/bf16, else reports
 *     ANVIL_ERROR_UNSUPPORTED;
 *   - NumThreads.
 *
 * Everything is inline, stateless and thread-safe; nothing allocates.
 * Offsets are in elements (DLPack strides are in elements); byte_offset is
 * honoured even though the harness always passes 0.
 */
#ifndef ANVIL_CPU_TENSOR_H_
#define ANVIL_CPU_TENSOR_H_

#include <string.h>

#include <cstdint>

#ifdef __F16C__
#include <immintrin.h>
#endif

#include "anvil/abi_helpers.h"
#include "anvil/kernel.h"

namespace anvil {

// ---- f16 / bf16 conversions ------------------------------------------------

inline uint32_t FloatBits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
inline float BitsFloat(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// IEEE binary16 -> float; exact for every input (subnormals, Inf, NaN payload).
inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return BitsFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return BitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

// float -> IEEE binary16, round to nearest even; overflow gives +-Inf, NaN stays NaN.
inline uint16_t FloatToHalf(float f) {
  const uint32_t x = FloatBits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x1ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520 rounds to Inf
  if (a >= 0x38800000u) {  // normal half: rebias exponent 127 -> 15, round away 13 bits
    const uint32_t b = a - 0x38000000u;
    return static_cast<uint16_t>(sign | ((b + 0xfffu + ((b >> 13) & 1u)) >> 13));
  }
  const uint32_t e = a >> 23;  // result is subnormal (or rounds up to the smallest normal)
  if (e < 102) return static_cast<uint16_t>(sign);  // below half of 2^-24: rounds to zero
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t m = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (m & 1u))) ++m;
  return static_cast<uint16_t>(sign | m);
}

// bfloat16 -> float: the high half of the float bits.
inline float BF16ToFloat(uint16_t b) { return BitsFloat(static_cast<uint32_t>(b) << 16); }

// float -> bfloat16, round to nearest even; NaN stays (quiet) NaN.
inline uint16_t FloatToBF16(float f) {
  const uint32_t x = FloatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

// Storage types for templates over the element type (same size as the data).
struct F16 { uint16_t bits; };
struct BF16 { uint16_t bits; };

inline float ToFloat(float v) { return v; }
inline float ToFloat(F16 v) { return HalfToFloat(v.bits); }
inline float ToFloat(BF16 v) { return BF16ToFloat(v.bits); }

template <class T> T FromFloat(float v);
template <> inline float FromFloat<float>(float v) { return v; }
template <> inline F16 FromFloat<F16>(float v) { return F16{FloatToHalf(v)}; }
template <> inline BF16 FromFloat<BF16>(float v) { return BF16{FloatToBF16(v)}; }

// ---- whole-run conversion and float math for hot loops ---------------------
// Converting one element at a time through HalfToFloat/FloatToHalf costs a
// few branches per element; these convert a run of n elements with the same
// results (round to nearest even) in loops the compiler vectorises, or with
// F16C's 8-wide instructions for contiguous f16 when the target has them.

// dst[i] = ToFloat(src[i * stride]) for i in [0, n); stride in elements (may be 0 or negative).
inline void LoadFloats(const float* src, int64_t stride, int64_t n, float* dst) {
  if (stride == 1) {
    memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}

inline void LoadFloats(const BF16* src, int64_t stride, int64_t n, float* dst) {
  if (stride == 1) {
    for (int64_t i = 0; i < n; ++i) dst[i] = BitsFloat(static_cast<uint32_t>(src[i].bits) << 16);
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = BitsFloat(static_cast<uint32_t>(src[i * stride].bits) << 16);
}

inline void LoadFloats(const F16* src, int64_t stride, int64_t n, float* dst) {
#ifdef __F16C__
  if (stride == 1) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    }
    if (i < n) {  // the last 1..7 values, through a zero-padded block of 8
      uint16_t in[8] = {};
      float out[8];
      memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(uint16_t));
      _mm256_storeu_ps(out, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))));
      memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(float));
    }
    return;
  }
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = HalfToFloat(src[i * stride].bits);
}

// dst[i] = FromFloat<T>(src[i]) for i in [0, n); dst is contiguous.
inline void StoreFloats(const float* src, int64_t n, float* dst) {
  memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

inline void StoreFloats(const float* src, int64_t n, BF16* dst) {
  // FloatToBF16 without the branch: NaN gets the quiet bit and keeps its top bits.
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t x = FloatBits(src[i]);
    const uint32_t r = (x & 0x7fffffffu) > 0x7f800000u ? (x | 0x00400000u) : x + 0x7fffu + ((x >> 16) & 1u);
    dst[i].bits = static_cast<uint16_t>(r >> 16);
  }
}

inline void StoreFloats(const float* src, int64_t n, F16* dst) {
#ifdef __F16C__
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  if (i < n) {  // the last 1..7 values, through a zero-padded block of 8
    float in[8] = {};
    uint16_t out[8];
    memcpy(in, src + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_cvtps_ph(_mm256_loadu_ps(in), _MM_FROUND_TO_NEAREST_INT));
    memcpy(dst + i, out, static_cast<size_t>(n - i) * sizeof(uint16_t));
  }
#else
  for (int64_t i = 0; i < n; ++i) dst[i].bits = FloatToHalf(src[i]);
#endif
}

// The n values src[i * stride] as floats: src itself when it is already a
// contiguous float run (no copy), else `buf` (room for n floats) after LoadFloats.
inline const float* AsFloats(const float* src, int64_t stride, int64_t n, float* buf) {
  if (stride == 1) return src;
  LoadFloats(src, stride, n, buf);
  return buf;
}
template <class T>
inline const float* AsFloats(const T* src, int64_t stride, int64_t n, float* buf) {
  LoadFloats(src, stride, n, buf);
  return buf;
}

// exp(x) in float, written so that a loop over it vectorises under
// `omp simd` (no calls, and no float operations under a condition, which GCC
// will not if-convert). exp(x) = 2^k * e^r with k = round(x / ln 2) and
// r = x - k ln 2 (ln 2 split in two parts so that k * ln2_hi is exact, as in
// Cephes), e^r by its degree-7 Taylor polynomial (truncation below 6e-9 for
// |r| <= ln2 / 2), and 2^k applied as two factors so that results in the
// subnormal range round once. Within 1.2 ulp of exp over all floats (checked
// exhaustively against double exp); +Inf above 88.73, 0 below -103.98, NaN stays NaN.
//
// ExpSumF(x, small) is exp(x + small) for a correction |small| < 1 that
// x + small in float would lose: it joins the reduced argument r exactly where
// x - k ln2_hi is exact. ExpF(x) = ExpSumF(x, 0).
inline float ExpSumF(float x, float small) {
  // Clamp x to [-104, 89] on an integer key that orders floats like their
  // values (integer min/max vectorise without branches); NaN is re-added last.
  const int32_t bits = static_cast<int32_t>(FloatBits(x));
  const int32_t key = bits ^ ((bits >> 31) & 0x7fffffff);
  const int32_t lo = static_cast<int32_t>(0xc2d00000u ^ 0x7fffffffu);  // key of -104.0f
  const int32_t hi = 0x42b20000;                                        // key of 89.0f
  const int32_t ck = key < lo ? lo : (key > hi ? hi : key);
  const float c = BitsFloat(static_cast<uint32_t>(ck ^ ((ck >> 31) & 0x7fffffff)));

  constexpr float kShifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
  const float kf = (c + small) * 1.44269504088896341f + kShifter;  // k from the whole argument: |r| stays <= ln2/2
  const float k = kf - kShifter;
  const float r = ((c - k * 0.693359375f) + small) + k * 2.12194440e-4f;
  float p = 1.98412698e-4f;  // 1/7!, then Horner down to 1/0!
  p = p * r + 1.38888889e-3f;
  p = p * r + 8.33333333e-3f;
  p = p * r + 4.16666667e-2f;
  p = p * r + 1.66666667e-1f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const uint32_t ki = FloatBits(kf) - 0x4b400000u;  // k as an integer, in [-150, 129]
  const uint32_t k1 = static_cast<uint32_t>(static_cast<int32_t>(ki) >> 1);
  const uint32_t k2 = ki - k1;
  const float e = p * BitsFloat((k1 + 127u) << 23) * BitsFloat((k2 + 127u) << 23);
  return e + (x != x ? x : 0.0f);  // NaN in, NaN out
}
inline float ExpF(float x) { return ExpSumF(x, 0.0f); }

// ---- element access by runtime dtype -------------------------------------------
// `offset` is an element offset (e.g. from StridedOffset). Unsupported dtypes
// read as 0 and are not written; check the dtype first.

inline double LoadAsDouble(const DLTensor& t, int64_t offset) {
  if (IsF32(t)) return DataPtr<const float>(t)[offset];
  if (IsF64(t)) return DataPtr<const double>(t)[offset];
  if (IsF16(t)) return HalfToFloat(DataPtr<const uint16_t>(t)[offset]);
  if (IsBF16(t)) return BF16ToFloat(DataPtr<const uint16_t>(t)[offset]);
  if (IsI32(t)) return DataPtr<const int32_t>(t)[offset];
  if (IsI64(t)) return static_cast<double>(DataPtr<const int64_t>(t)[offset]);
  if (IsBool(t)) return DataPtr<const uint8_t>(t)[offset] != 0 ? 1.0 : 0.0;
  return 0.0;
}

inline float LoadF(const DLTensor& t, int64_t offset) {
  return static_cast<float>(LoadAsDouble(t, offset));
}

// Stores `v` rounded to the tensor's floating dtype (f32, f16, bf16, f64).
inline void StoreF(const DLTensor& t, int64_t offset, float v) {
  if (IsF32(t)) DataPtr<float>(t)[offset] = v;
  else if (IsF64(t)) DataPtr<double>(t)[offset] = v;
  else if (IsF16(t)) DataPtr<uint16_t>(t)[offset] = FloatToHalf(v);
  else if (IsBF16(t)) DataPtr<uint16_t>(t)[offset] = FloatToBF16(v);
}

// ---- CPU call helpers -----------------------------------------------------------

// Threads to use in `num_threads(...)` clauses (at least 1).
inline int NumThreads(const AnvilCall* call) { return call->num_threads > 0 ? call->num_threads : 1; }

// Calls fn(float{}), fn(F16{}) or fn(BF16{}) according to `dtype` and returns
// its status; other dtypes get ANVIL_ERROR_UNSUPPORTED with a message.
template <class Fn>
int DispatchFloat(const AnvilCall* call, const DLTensor& like, Fn&& fn) {
  if (IsF32(like)) return fn(float{});
  if (IsF16(like)) return fn(F16{});
  if (IsBF16(like)) return fn(BF16{});
  SetError(call, "unsupported dtype %s: this kernel handles f32, f16 and bf16", DTypeName(like.dtype));
  return ANVIL_ERROR_UNSUPPORTED;
}

}  // namespace anvil

#endif  // ANVIL_CPU_TENSOR_H_
