// aten110.bernoulli (tasks/aten110/bernoulli.toml): out[i] = 1 with probability p[i].
// A counter-based generator: element i (row-major in the output) gets
// SplitMix64(key ^ i) with key = SplitMix64(seed), so the output depends only
// on the inputs and the seed, elements are independent, and threads share no
// state. Any strides, f32/f16/bf16.
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
  const DLTensor& p = call->inputs[0];
  const DLTensor& out = call->outputs[0];
  const AnvilAttr* seed = anvil::FindAttr(call, "seed");
  if (seed == nullptr || !(anvil::IsF32(p) || anvil::IsF16(p) || anvil::IsBF16(p))) {
    anvil::SetError(call, "needs a seed attribute and p in f32, f16 or bf16");
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const int64_t n = anvil::Numel(out);
  const uint64_t key = SplitMix64(static_cast<uint64_t>(seed->value.i));
#pragma omp parallel for schedule(static) num_threads(anvil::NumThreads(call))
  for (int64_t i = 0; i < n; ++i) {
    const double prob = anvil::LoadAsDouble(p, anvil::StridedOffset(p, i));
    anvil::StoreF(out, i, Uniform(key, i) < prob ? 1.0f : 0.0f);
  }
  return ANVIL_OK;
}
