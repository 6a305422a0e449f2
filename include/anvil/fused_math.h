/*
 * anvil/fused_math.h — the element math of kernels printed by Anvil's
 * built-in compiler (src/compiler/c_expr.cpp), for g++ (CPU) and nvcc (CUDA,
 * host and device) alike. Each function states the PyTorch semantics it
 * follows, NaN included; the reference is ATen itself, so a mismatch is a
 * verification failure, never a silent difference.
 *
 * Storage: fm::f16_t and fm::bf16_t are the 16-bit element types of the
 * dialect (anvil::F16 / BF16 on the CPU, __half / __nv_bfloat16 in CUDA);
 * ToCompute widens any element to its compute type (float for f16, bf16 and
 * f32), FromCompute<T> rounds back to nearest even. Round16/RoundBF16 give a
 * float rounded to that precision (a cast between floating dtypes).
 *
 * Speed: on the CPU, Exp(float) is anvil::ExpF (within 1.2 ulp, vectorises
 * under `omp simd`), and Log1p, Tanh, Erf and Expm1 of float are written out
 * below so that they vectorise too; the rest call the C library.
 */
#ifndef ANVIL_FUSED_MATH_H_
#define ANVIL_FUSED_MATH_H_

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define ANVIL_FM __host__ __device__ __forceinline__
#else
#include "anvil/cpu_tensor.h"
#define ANVIL_FM inline
#endif

namespace anvil {
namespace fm {

// ---- storage ------------------------------------------------------------------
#if defined(__CUDACC__)
typedef __half f16_t;
typedef __nv_bfloat16 bf16_t;
ANVIL_FM float ToCompute(f16_t v) { return __half2float(v); }
ANVIL_FM float ToCompute(bf16_t v) { return __bfloat162float(v); }
template <class T> ANVIL_FM T FromCompute(float v) { return static_cast<T>(v); }
template <> ANVIL_FM f16_t FromCompute<f16_t>(float v) { return __float2half_rn(v); }
template <> ANVIL_FM bf16_t FromCompute<bf16_t>(float v) { return __float2bfloat16_rn(v); }
#else
typedef anvil::F16 f16_t;
typedef anvil::BF16 bf16_t;
// f16 -> float without branches, so that loops over f16 inputs vectorise:
// the 15 exponent-and-mantissa bits placed in a float and scaled by 2^112
// give every normal and subnormal half exactly; Inf and NaN are selected
// apart. The same values as anvil::HalfToFloat.
inline float ToCompute(f16_t v) {
  const uint32_t em = v.bits & 0x7fffu;
  const uint32_t sign = static_cast<uint32_t>(v.bits & 0x8000u) << 16;
  const uint32_t finite = anvil::FloatBits(anvil::BitsFloat(em << 13) * 0x1p112f);
  const uint32_t special = (em << 13) | 0x7f800000u;
  return anvil::BitsFloat(sign | (em >= 0x7c00u ? special : finite));
}
template <class T> inline T FromCompute(float v) { return static_cast<T>(v); }
// float -> f16 and bf16 without branches, so that the loops that store them
// vectorise: every case is computed and one selected. The same bits as
// anvil::FloatToHalf / FloatToBF16 (round to nearest even, overflow to +-Inf,
// NaN quieted with its top payload bits). For f16, a result that is normal
// comes from the rebiased bits with the 13 dropped bits rounded; a subnormal
// one (|v| < 2^-14) from the float addition |v| + 0.5, whose last mantissa
// bit is 2^-24, the spacing of subnormal halves, so the hardware rounds it.
// 1M stores in a vectorised loop, one thread: 0.77 ms, against 1.36 ms for
// FloatToHalf inlined (if-converted) there.
template <> inline f16_t FromCompute<f16_t>(float v) {
  const uint32_t x = anvil::FloatBits(v);
  const uint32_t a = x & 0x7fffffffu;
  const uint32_t b = a - 0x38000000u;  // exponent rebiased from 127 to 15
  const uint32_t normal = (b + 0xfffu + ((b >> 13) & 1u)) >> 13;
  const uint32_t subnormal = anvil::FloatBits(anvil::BitsFloat(a) + 0.5f) - 0x3f000000u;
  const uint32_t nan = 0x7e00u | ((a >> 13) & 0x1ffu);
  // (>= 65520 rounds to Inf.) One chain of selects on 32-bit values: GCC did not
  // vectorise the same choice split into two statements.
  const uint32_t r = a > 0x7f800000u ? nan : a >= 0x477ff000u ? 0x7c00u : a >= 0x38800000u ? normal : subnormal;
  return f16_t{static_cast<uint16_t>(((x >> 16) & 0x8000u) | r)};
}
// dst[i] = FromCompute<f16_t>(src[i]) for i in [0, n): with F16C's 8-wide
// conversion where the target has it (GCC does not vectorise a float -> half
// conversion on its own; 1M stores, one thread: 0.12 ms against 0.77 ms),
// else in a loop that vectorises. The same bits either way (round to nearest
// even, NaN quieted with its top payload bits). The CPU printer stages f16
// outputs of unit-stride loops in float tiles and stores them through this.
// (No `omp simd` here: -O3 vectorises the loop, and the header must build without -fopenmp.)
inline void StoreHalves(const float* src, int64_t n, f16_t* dst) {
#if defined(__F16C__)
  anvil::StoreFloats(src, n, dst);
#else
  for (int64_t i = 0; i < n; ++i) dst[i] = FromCompute<f16_t>(src[i]);
#endif
}
inline float ToCompute(bf16_t v) { return anvil::BF16ToFloat(v.bits); }
template <> inline bf16_t FromCompute<bf16_t>(float v) {
  const uint32_t x = anvil::FloatBits(v);
  const uint32_t r = (x & 0x7fffffffu) > 0x7f800000u ? (x | 0x00400000u) : x + 0x7fffu + ((x >> 16) & 1u);
  return bf16_t{static_cast<uint16_t>(r >> 16)};
}
#endif
ANVIL_FM float ToCompute(float v) { return v; }
ANVIL_FM double ToCompute(double v) { return v; }
template <class T> ANVIL_FM T ToCompute(T v) { return v; }  // integers and bool
ANVIL_FM float Round16(float v) { return ToCompute(FromCompute<f16_t>(v)); }
ANVIL_FM float RoundBF16(float v) { return ToCompute(FromCompute<bf16_t>(v)); }

// ---- C library, one name for float and double ----------------------------------
#if defined(__CUDACC__)
ANVIL_FM float Exp(float x) { return expf(x); }
#else
inline float Exp(float x) { return anvil::ExpF(x); }
#endif
ANVIL_FM double Exp(double x) { return exp(x); }
#define ANVIL_FM_UNARY(Name, f32, f64) \
  ANVIL_FM float Name(float x) { return f32(x); } \
  ANVIL_FM double Name(double x) { return f64(x); }
ANVIL_FM_UNARY(Exp2, exp2f, exp2)
ANVIL_FM_UNARY(Log, logf, log)
ANVIL_FM_UNARY(Log2, log2f, log2)
ANVIL_FM_UNARY(Log10, log10f, log10)
ANVIL_FM_UNARY(Sqrt, sqrtf, sqrt)
ANVIL_FM_UNARY(Sin, sinf, sin)
ANVIL_FM_UNARY(Cos, cosf, cos)
ANVIL_FM_UNARY(Tan, tanf, tan)
ANVIL_FM_UNARY(Asin, asinf, asin)
ANVIL_FM_UNARY(Acos, acosf, acos)
ANVIL_FM_UNARY(Atan, atanf, atan)
ANVIL_FM_UNARY(Sinh, sinhf, sinh)
ANVIL_FM_UNARY(Cosh, coshf, cosh)
ANVIL_FM_UNARY(Asinh, asinhf, asinh)
ANVIL_FM_UNARY(Acosh, acoshf, acosh)
ANVIL_FM_UNARY(Atanh, atanhf, atanh)
ANVIL_FM_UNARY(Erfc, erfcf, erfc)
ANVIL_FM_UNARY(Floor, floorf, floor)
ANVIL_FM_UNARY(Ceil, ceilf, ceil)
ANVIL_FM_UNARY(Trunc, truncf, trunc)
ANVIL_FM_UNARY(Rint, rintf, rint)  // round half to even (the default rounding mode), as torch.round
#undef ANVIL_FM_UNARY
ANVIL_FM double Tanh(double x) { return tanh(x); }
ANVIL_FM double Expm1(double x) { return expm1(x); }
ANVIL_FM double Erf(double x) { return erf(x); }
ANVIL_FM double Log1p(double x) { return log1p(x); }
#if defined(__CUDACC__)
ANVIL_FM float Log1p(float x) { return log1pf(x); }
ANVIL_FM float Expm1(float x) { return expm1f(x); }
ANVIL_FM float Tanh(float x) { return tanhf(x); }
ANVIL_FM float Erf(float x) { return erff(x); }
#else
// log1p, tanh, erf and expm1 in float without calls or branches, so that loops
// over them vectorise (the C library's are scalar calls): both sides of every
// choice are computed and one is selected. Errors (checked against double on a
// sweep of [-30, 30]): tanh within 3.3e-7 relative, erf within 3.4e-7 absolute,
// expm1 within 1.3e-7 relative; log1p within 0.87 ulp (8.2e-8 relative) over
// every float, with log1pf's bits for NaN, +-Inf, -1, below -1, +-0 and subnormals.
inline float Log1p(float x) {
  const float u = 1.0f + x;
  // u lost the low bits of x when it was rounded; c is what it lost (exact), and
  // log(u + c) = log(u) + c / u within float precision.
  const float c = u >= 2.0f ? 1.0f - (u - x) : x - (u - 1.0f);
  // u = 2^k * m with m in [sqrt(1/2), sqrt(2)): offsetting the bits makes the
  // exponent field roll over at sqrt(2)'s mantissa instead of at 2.
  const uint32_t ub = anvil::FloatBits(u) + (0x3f800000u - 0x3f3504f3u);
  const float k = static_cast<float>(static_cast<int32_t>(ub >> 23) - 127);
  const float f = anvil::BitsFloat((ub & 0x007fffffu) + 0x3f3504f3u) - 1.0f;  // m - 1, exact
  // log(1 + f) = f - f^2/2 + s (f^2/2 + R) with s = f / (2 + f), z = s^2 and
  // R = 2 (z/3 + z^2/5 + ... + z^5/11), the rest of the atanh series (|s| < 0.172).
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float r = z * (2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9 + z * (2.0f / 11)))));
  const float hfsq = 0.5f * f * f;
  // k ln 2 with ln 2 split in two (as in anvil::ExpF) so that k * ln2_hi is exact.
  const float lg = k * 0.693359375f + (f - (hfsq - (s * (hfsq + r) + (k * -2.12194440e-4f + c / u))));
  const float a = x < 0.0f ? -x : x;
  const float small = a < 0x1p-24f ? x : lg;  // log1p(x) rounds to x there (-0 and subnormals kept)
  const float below = x == -1.0f ? -INFINITY : NAN;
  const float r1 = x > -1.0f ? small : below;
  const float r2 = x == INFINITY ? x : r1;
  return x != x ? x : r2;
}
inline float Expm1(float x) {
  // |x| < 0.5: the series to x^8 (next term below 1e-9 relative); otherwise e^x - 1.
  const float series =
      x * (1.0f + x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720 + x * (1.0f / 5040 + x / 40320)))))));
  const float far = anvil::ExpF(x) - 1.0f;
  const float a = x < 0.0f ? -x : x;
  const float r = a < 0.5f ? series : far;
  return x != x ? x : r;
}
inline float Tanh(float x) {
  const float a = x < 0.0f ? -x : x;
  // |x| < 0.25: the odd series to x^9 (next term below 1e-8 relative).
  const float x2 = x * x;
  const float series = x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315 + x2 * (62.0f / 2835)))));
  // Otherwise 1 - 2 / (e^(2|x|) + 1), with the sign of x; e^(2|x|) is +Inf past ~44, giving 1.
  const float far = 1.0f - 2.0f / (anvil::ExpF(2.0f * a) + 1.0f);
  const float signed_far = x < 0.0f ? -far : far;
  const float r = a < 0.25f ? series : signed_far;
  return x != x ? x : r;
}
inline float Erf(float x) {
  const float a = x < 0.0f ? -x : x;
  const float x2 = x * x;
  // |x| < 0.5: 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320).
  const float series = 1.12837916709551257f * x *
                       (1.0f + x2 * (-1.0f / 3 + x2 * (1.0f / 10 + x2 * (-1.0f / 42 + x2 * (1.0f / 216 - x2 / 1320)))));
  // Otherwise Abramowitz & Stegun 7.1.26: 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-x^2), t = 1 / (1 + p|x|).
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float far = 1.0f - poly * anvil::ExpF(-x2);
  const float signed_far = x < 0.0f ? -far : far;
  const float r = a < 0.5f ? series : signed_far;
  return x != x ? x : r;
}
#endif
ANVIL_FM float Fmod(float a, float b) { return fmodf(a, b); }
ANVIL_FM double Fmod(double a, double b) { return fmod(a, b); }
ANVIL_FM float Pow(float a, float b) { return powf(a, b); }
ANVIL_FM double Pow(double a, double b) { return pow(a, b); }
ANVIL_FM float Atan2(float a, float b) { return atan2f(a, b); }
ANVIL_FM double Atan2(double a, double b) { return atan2(a, b); }

// A product rounded on its own, never fused with a following add into an FMA
// (the CPU printer turns contraction off for the whole file).
#if defined(__CUDA_ARCH__)
ANVIL_FM float Mul(float a, float b) { return __fmul_rn(a, b); }
ANVIL_FM double Mul(double a, double b) { return __dmul_rn(a, b); }
#else
ANVIL_FM float Mul(float a, float b) { return a * b; }
ANVIL_FM double Mul(double a, double b) { return a * b; }
#endif

template <class T> ANVIL_FM bool IsNan(T x) { return x != x; }
template <class T> ANVIL_FM T Nan() { return static_cast<T>(NAN); }

// ---- comparisons that propagate NaN (torch.maximum, clamp, amax) ----------------
template <class T> ANVIL_FM T Maximum(T a, T b) { return IsNan(a) ? a : IsNan(b) ? b : (a > b ? a : b); }
template <class T> ANVIL_FM T Minimum(T a, T b) { return IsNan(a) ? a : IsNan(b) ? b : (a < b ? a : b); }

// ---- activations -------------------------------------------------------------------
template <class T> ANVIL_FM T Relu(T x) { return x < T(0) ? T(0) : x; }  // NaN stays NaN
template <class T> ANVIL_FM T Sigmoid(T x) { return T(1) / (T(1) + Exp(-x)); }
template <class T> ANVIL_FM T Silu(T x) { return x / (T(1) + Exp(-x)); }
// gelu(x) = x/2 (1 + erf(x / sqrt 2)) = x/2 erfc(-x / sqrt 2): erfc keeps its
// relative accuracy where 1 + erf(x / sqrt 2) cancels (x < 0; at x = -2 an
// erf within 3.4e-7 gives gelu only within 7.5e-6 relative).
template <class T> ANVIL_FM T GeluErf(T x) { return T(0.5) * x * Erfc(-x * T(0.70710678118654752440)); }
#if !defined(__CUDACC__)
// erfc(a) for a >= 0 without calls or branches, given a^2 = sq_hi + sq_lo
// (sq_hi exact): the Chebyshev fit t exp(-a^2 + P(t)), t = 1 / (1 + a/2),
// whose fractional error is below 1.2e-7 for every a >= 0 (Numerical
// Recipes' erfcc). Past a = 4 the result is as sensitive to the rounding of
// a^2 as a^2 is large, hence the split square, whose small part joins the
// exponential's reduced argument (ExpSumF).
inline float ErfcFromSquare(float a, float sq_hi, float sq_lo) {
  const float t = 1.0f / (1.0f + 0.5f * a);
  const float p = -1.26551223f +
                  t * (1.00002368f +
                       t * (0.37409196f +
                            t * (0.09678418f +
                                 t * (-0.18628806f +
                                      t * (0.27886807f +
                                           t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  const float r = t * anvil::ExpSumF(-sq_hi, p - sq_lo);
  return a > 10.1f ? 0.0f : r;  // (erfc underflows there; also keeps Inf - Inf out of sq_lo)
}
// x with its low 12 mantissa bits cleared: its square is exact in float.
inline float SplitHigh(float x) { return anvil::BitsFloat(anvil::FloatBits(x) & 0xfffff000u); }
// erfc(a), a >= 0: within 4e-7 relative up to a = 9 (tested); 0 past 10.1, NaN for NaN.
inline float ErfcNonNegative(float a) {
  const float hi = SplitHigh(a);
  return ErfcFromSquare(a, hi * hi, (a - hi) * (a + hi));
}
// With e = erfc(|x| / sqrt 2): x/2 e for x < 0, x (1 - e/2) otherwise (1 - e/2 is in
// [1/2, 1]: no cancellation either side). |x|^2 / 2 comes from x itself (the
// rounding of x / sqrt 2 would cost 1e-5 relative near x = -12).
template <> inline float GeluErf(float x) {
  const float a = (x < 0.0f ? -x : x) * 0.70710678118654752440f;
  const float hi = SplitHigh(x);
  const float half_e = 0.5f * ErfcFromSquare(a, 0.5f * (hi * hi), 0.5f * ((x - hi) * (x + hi)));
  const float r = x < 0.0f ? x * half_e : x * (1.0f - half_e);  // (keeps +Inf and -0)
  return x != x ? x : r;
}
#endif
template <class T> ANVIL_FM T GeluTanh(T x) {
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + Tanh(inner));
}
// torch.nn.functional.softplus: x where beta * x > threshold, else log1p(exp(beta x)) / beta.
// (Both sides computed, then one selected: a choice between computed values
// vectorises, a floating operation under a condition does not.)
template <class T> ANVIL_FM T Softplus(T x, T beta, T threshold) {
  const T soft = Log1p(Exp(x * beta)) / beta;
  return x * beta > threshold ? x : soft;
}
template <class T> ANVIL_FM T Mish(T x) { return x * Tanh(Softplus(x, T(1), T(20))); }
template <class T> ANVIL_FM T Elu(T x, T alpha) {
  const T neg = alpha * Expm1(x);
  return x > T(0) ? x : neg;
}
template <class T> ANVIL_FM T LeakyRelu(T x, T slope) {
  const T neg = x * slope;
  return x > T(0) ? x : neg;
}
// min(max(x, lo), hi) with NaN in x kept (as ATen's hardtanh / hardsigmoid).
template <class T> ANVIL_FM T ClampNanKeep(T x, T lo, T hi) { return x < lo ? lo : (x > hi ? hi : x); }
template <class T> ANVIL_FM T Hardtanh(T x, T lo, T hi) { return ClampNanKeep(x, lo, hi); }
template <class T> ANVIL_FM T Hardsigmoid(T x) { return ClampNanKeep(x + T(3), T(0), T(6)) / T(6); }
template <class T> ANVIL_FM T Hardswish(T x) { return x * ClampNanKeep(x + T(3), T(0), T(6)) / T(6); }
template <class T> ANVIL_FM T Sign(T x) { return IsNan(x) ? x : static_cast<T>((T(0) < x) - (x < T(0))); }

// ---- division-like ops with Python's rounding ------------------------------------------
// a % b with the sign of b (torch.remainder).
template <class T> ANVIL_FM T RemainderF(T a, T b) {
  T m = Fmod(a, b);
  return (m != T(0) && ((b < T(0)) != (m < T(0)))) ? m + b : m;
}
template <class T> ANVIL_FM T RemainderI(T a, T b) {
  T m = a % b;
  return (m != 0 && ((b < 0) != (m < 0))) ? m + b : m;
}
// a // b rounded toward -inf (torch.floor_divide / div(rounding_mode="floor")).
template <class T> ANVIL_FM T FloorDivideF(T a, T b) {
  if (b == T(0)) return a / b;
  const T m = Fmod(a, b);
  T q = (a - m) / b;
  if (m != T(0) && ((b < T(0)) != (m < T(0)))) q -= T(1);
  if (q == T(0)) return copysign(T(0), a / b);
  T f = Floor(q);
  return q - f > T(0.5) ? f + T(1) : f;
}
template <class T> ANVIL_FM T FloorDivideI(T a, T b) {
  T q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace fm
}  // namespace anvil

#endif  // ANVIL_FUSED_MATH_H_
