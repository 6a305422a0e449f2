// aten110.exponential_ (tasks/aten110/exponential_.toml): x[i] ~ exponential(lambd),
// written in place into x (any strides). Inversion: -log1p(-u) / lambd with u in
// [0, 1), from the same counter-based generator as bernoulli.cpp.
#include <cmath>

#include "anvil/cpu_tensor.h"

namespace {
uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
double Uniform(uint64_t key, int64_t i) {  // [0, 1), 53 bits
  return static_cast<double>(SplitMix64(key ^ static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
}
}  // namespace

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->outputs[0];  // in place: the output is the input x
  const AnvilAttr* seed = anvil::FindAttr(call, "seed");
  const AnvilAttr* lambd = anvil::FindAttr(call, "lambd");
  if (seed == nullptr || lambd == nullptr || !(anvil::IsF32(x) || anvil::IsF16(x) || anvil::IsBF16(x))) {
    anvil::SetError(call, "needs seed and lambd attributes and x in f32, f16 or bf16");
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const int64_t n = anvil::Numel(x);
  const uint64_t key = SplitMix64(static_cast<uint64_t>(seed->value.i));
  const double rate = lambd->value.f;
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call))
  for (int64_t i = 0; i < n; ++i)
    anvil::StoreF(x, anvil::StridedOffset(x, i), static_cast<float>(-std::log1p(-Uniform(key, i)) / rate));
  return ANVIL_OK;
}
