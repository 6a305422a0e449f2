// aten110.rrelu_with_noise_training (tasks/aten110/rrelu_with_noise_training.toml):
// where x <= 0 a slope r ~ uniform(lower, upper), out = x * r, noise = r;
// elsewhere out = x and noise = 1. noise is written in place (any strides).
// Counter-based generator as bernoulli.cpp.
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
  const DLTensor& x = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  const DLTensor& noise = call->outputs[1];  // in place: the input noise
  const AnvilAttr* seed = anvil::FindAttr(call, "seed");
  const AnvilAttr* lower = anvil::FindAttr(call, "lower");
  const AnvilAttr* upper = anvil::FindAttr(call, "upper");
  if (seed == nullptr || lower == nullptr || upper == nullptr ||
      !(anvil::IsF32(x) || anvil::IsF16(x) || anvil::IsBF16(x))) {
    anvil::SetError(call, "needs seed, lower and upper attributes and x in f32, f16 or bf16");
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const int64_t n = anvil::Numel(out);
  const uint64_t key = SplitMix64(static_cast<uint64_t>(seed->value.i));
  const double lo = lower->value.f, hi = upper->value.f;
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call))
  for (int64_t i = 0; i < n; ++i) {
    const double v = anvil::LoadAsDouble(x, anvil::StridedOffset(x, i));
    const double r = v <= 0 ? lo + (hi - lo) * Uniform(key, i) : 1.0;
    anvil::StoreF(out, i, static_cast<float>(v * r));
    anvil::StoreF(noise, anvil::StridedOffset(noise, i), static_cast<float>(r));
  }
  return ANVIL_OK;
}
