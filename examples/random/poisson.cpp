// aten110.poisson (tasks/aten110/poisson.toml): out[i] ~ poisson(rate[i]).
// Inversion by sequential search (one uniform per element): exact, and short
// for the task's rates (at most 30). Counter-based generator as bernoulli.cpp.
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
  const DLTensor& rate = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  const AnvilAttr* seed = anvil::FindAttr(call, "seed");
  if (seed == nullptr || !(anvil::IsF32(rate) || anvil::IsF16(rate) || anvil::IsBF16(rate))) {
    anvil::SetError(call, "needs a seed attribute and rate in f32, f16 or bf16");
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const int64_t n = anvil::Numel(out);
  const uint64_t key = SplitMix64(static_cast<uint64_t>(seed->value.i));
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call))
  for (int64_t i = 0; i < n; ++i) {
    const double lambda = anvil::LoadAsDouble(rate, anvil::StridedOffset(rate, i));
    const double u = Uniform(key, i);
    double term = std::exp(-lambda), cdf = term;
    int k = 0;
    while (u >= cdf && term > 0 && k < 100000) {  // term underflows only far in the tail
      ++k;
      term *= lambda / k;
      cdf += term;
    }
    anvil::StoreF(out, i, static_cast<float>(k));
  }
  return ANVIL_OK;
}
