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
 * under `omp simd`); the rest call the C library.
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
inline float ToCompute(f16_t v) { return anvil::HalfToFloat(v.bits); }
inline float ToCompute(bf16_t v) { return anvil::BF16ToFloat(v.bits); }
template <class T> inline T FromCompute(float v) { return static_cast<T>(v); }
template <> inline f16_t FromCompute<f16_t>(float v) { return f16_t{anvil::FloatToHalf(v)}; }
template <> inline bf16_t FromCompute<bf16_t>(float v) { return bf16_t{anvil::FloatToBF16(v)}; }
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
ANVIL_FM_UNARY(Expm1, expm1f, expm1)
ANVIL_FM_UNARY(Log, logf, log)
ANVIL_FM_UNARY(Log2, log2f, log2)
ANVIL_FM_UNARY(Log10, log10f, log10)
ANVIL_FM_UNARY(Log1p, log1pf, log1p)
ANVIL_FM_UNARY(Sqrt, sqrtf, sqrt)
ANVIL_FM_UNARY(Sin, sinf, sin)
ANVIL_FM_UNARY(Cos, cosf, cos)
ANVIL_FM_UNARY(Tan, tanf, tan)
ANVIL_FM_UNARY(Asin, asinf, asin)
ANVIL_FM_UNARY(Acos, acosf, acos)
ANVIL_FM_UNARY(Atan, atanf, atan)
ANVIL_FM_UNARY(Sinh, sinhf, sinh)
ANVIL_FM_UNARY(Cosh, coshf, cosh)
ANVIL_FM_UNARY(Tanh, tanhf, tanh)
ANVIL_FM_UNARY(Asinh, asinhf, asinh)
ANVIL_FM_UNARY(Acosh, acoshf, acosh)
ANVIL_FM_UNARY(Atanh, atanhf, atanh)
ANVIL_FM_UNARY(Erf, erff, erf)
ANVIL_FM_UNARY(Erfc, erfcf, erfc)
ANVIL_FM_UNARY(Floor, floorf, floor)
ANVIL_FM_UNARY(Ceil, ceilf, ceil)
ANVIL_FM_UNARY(Trunc, truncf, trunc)
ANVIL_FM_UNARY(Rint, rintf, rint)  // round half to even (the default rounding mode), as torch.round
#undef ANVIL_FM_UNARY
ANVIL_FM float Fmod(float a, float b) { return fmodf(a, b); }
ANVIL_FM double Fmod(double a, double b) { return fmod(a, b); }
ANVIL_FM float Pow(float a, float b) { return powf(a, b); }
ANVIL_FM double Pow(double a, double b) { return pow(a, b); }
ANVIL_FM float Atan2(float a, float b) { return atan2f(a, b); }
ANVIL_FM double Atan2(double a, double b) { return atan2(a, b); }

template <class T> ANVIL_FM bool IsNan(T x) { return x != x; }
template <class T> ANVIL_FM T Nan() { return static_cast<T>(NAN); }

// ---- comparisons that propagate NaN (torch.maximum, clamp, amax) ----------------
template <class T> ANVIL_FM T Maximum(T a, T b) { return IsNan(a) ? a : IsNan(b) ? b : (a > b ? a : b); }
template <class T> ANVIL_FM T Minimum(T a, T b) { return IsNan(a) ? a : IsNan(b) ? b : (a < b ? a : b); }

// ---- activations -------------------------------------------------------------------
template <class T> ANVIL_FM T Relu(T x) { return x < T(0) ? T(0) : x; }  // NaN stays NaN
template <class T> ANVIL_FM T Sigmoid(T x) { return T(1) / (T(1) + Exp(-x)); }
template <class T> ANVIL_FM T Silu(T x) { return x / (T(1) + Exp(-x)); }
template <class T> ANVIL_FM T GeluErf(T x) { return T(0.5) * x * (T(1) + Erf(x * T(0.70710678118654752440))); }
template <class T> ANVIL_FM T GeluTanh(T x) {
  const T inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x);
  return T(0.5) * x * (T(1) + Tanh(inner));
}
// torch.nn.functional.softplus: x where beta * x > threshold, else log1p(exp(beta x)) / beta.
template <class T> ANVIL_FM T Softplus(T x, T beta, T threshold) {
  return x * beta > threshold ? x : Log1p(Exp(x * beta)) / beta;
}
template <class T> ANVIL_FM T Mish(T x) { return x * Tanh(Softplus(x, T(1), T(20))); }
template <class T> ANVIL_FM T Elu(T x, T alpha) { return x > T(0) ? x : alpha * Expm1(x); }
template <class T> ANVIL_FM T LeakyRelu(T x, T slope) { return x > T(0) ? x : x * slope; }
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
