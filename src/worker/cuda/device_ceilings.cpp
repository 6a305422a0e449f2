#include "worker/cuda/device_ceilings.h"

#include <cuda_runtime_api.h>
#include <time.h>

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "worker/timing.h"

namespace anvil::worker {
namespace {

constexpr int64_t kCopyBytes = int64_t{1} << 30;  // 1 GiB: far beyond any L2, so the copy streams DRAM
constexpr int kCopyWarmup = 3, kCopyTrials = 20;
constexpr int kMatmulWarmup = 3, kMatmulTrials = 10;
constexpr int64_t kMatmulN = 8192, kMatmulNF64 = 4096;  // f64 is ~10x slower: a smaller n keeps it short

Status CudaCheck(cudaError_t rc, const std::string& what) {
  if (rc == cudaSuccess) return Status::Ok();
  return IoError(fmt::format("measuring device ceilings: {}: {} ({})", what, cudaGetErrorString(rc),
                             cudaGetErrorName(rc)));
}

// One start/end event pair per trial, destroyed with the object.
class EventPairs {
 public:
  EventPairs() = default;
  EventPairs(const EventPairs&) = delete;
  EventPairs& operator=(const EventPairs&) = delete;
  ~EventPairs() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }
  Status Create(int pairs) {
    for (int i = 0; i < 2 * pairs; ++i) {
      cudaEvent_t e = nullptr;
      ANVIL_RETURN_IF_ERROR(CudaCheck(cudaEventCreate(&e), "creating a CUDA event"));
      events_.push_back(e);
    }
    return Status::Ok();
  }
  cudaEvent_t start(int i) const { return events_[2 * i]; }
  cudaEvent_t end(int i) const { return events_[2 * i + 1]; }

 private:
  std::vector<cudaEvent_t> events_;
};

// Median time in seconds of `trials` runs of `op` after `warmup` untimed
// ones, all queued on `stream` without waiting in between.
Result<double> MedianSeconds(cudaStream_t stream, int warmup, int trials, const std::function<void()>& op,
                             const std::string& what) {
  EventPairs events;
  ANVIL_RETURN_IF_ERROR(events.Create(trials));
  for (int i = 0; i < warmup; ++i) op();
  for (int i = 0; i < trials; ++i) {
    ANVIL_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(events.start(i), stream), what + ": recording an event"));
    op();
    ANVIL_RETURN_IF_ERROR(CudaCheck(cudaEventRecord(events.end(i), stream), what + ": recording an event"));
  }
  ANVIL_RETURN_IF_ERROR(CudaCheck(cudaStreamSynchronize(stream), what));
  std::vector<double> seconds;
  for (int i = 0; i < trials; ++i) {
    float ms = 0;
    ANVIL_RETURN_IF_ERROR(
        CudaCheck(cudaEventElapsedTime(&ms, events.start(i), events.end(i)), what + ": reading an event"));
    seconds.push_back(static_cast<double>(ms) * 1e-3);
  }
  double median = 0, q1 = 0, q3 = 0;
  Summarize(seconds, median, q1, q3);
  if (!(median > 0)) return IoError("measuring device ceilings: " + what + ": the events measured no time");
  return median;
}

// Turns TF32 off for cuBLAS while alive and restores the previous setting:
// the switch is process-global and the worker's other timings must not see
// it changed.
class NoTf32 {
 public:
  NoTf32() : previous_(at::globalContext().allowTF32CuBLAS()) { at::globalContext().setAllowTF32CuBLAS(false); }
  ~NoTf32() { at::globalContext().setAllowTF32CuBLAS(previous_); }
  NoTf32(const NoTf32&) = delete;
  NoTf32& operator=(const NoTf32&) = delete;

 private:
  bool previous_;
};

// CUDA's integer versions: 1000 * major + 10 * minor (13000 -> "13.0").
std::string CudaVersionText(int v) { return fmt::format("{}.{}", v / 1000, (v % 1000) / 10); }

std::string UtcNow() {
  time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  struct tm utc {};
  gmtime_r(&now, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

Result<DeviceCeilings> Measure() {
  if (!at::cuda::is_available()) return Unsupported("measuring device ceilings: no CUDA device is visible");
  const int device = at::cuda::current_device();
  cudaDeviceProp prop{};
  ANVIL_RETURN_IF_ERROR(CudaCheck(cudaGetDeviceProperties(&prop, device), "reading the device properties"));
  int runtime = 0;
  ANVIL_RETURN_IF_ERROR(CudaCheck(cudaRuntimeGetVersion(&runtime), "reading the runtime version"));

  DeviceCeilings c;
  c.device_name = prop.name;
  // c.device_key is the caller's to set: DescribeDevice (worker/device.h) owns the device's identity.
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream().stream();
  const auto on_device = at::TensorOptions().device(at::kCUDA, device);

  {
    // Random bytes, not zeros: nothing on the way can shortcut a constant.
    at::Tensor src = at::empty({kCopyBytes}, on_device.dtype(at::kByte)).random_();
    at::Tensor dst = at::empty({kCopyBytes}, on_device.dtype(at::kByte));
    ANVIL_ASSIGN_OR_RETURN(
        double s, MedianSeconds(stream, kCopyWarmup, kCopyTrials, [&] { dst.copy_(src); }, "copying 1 GiB"));
    c.copy_gbps = 2.0 * static_cast<double>(kCopyBytes) / s / 1e9;
  }

  struct MatmulSpec {
    const char* name;
    at::ScalarType type;
    int64_t n;
  };
  const MatmulSpec specs[] = {{"f16", at::kHalf, kMatmulN},
                              {"bf16", at::kBFloat16, kMatmulN},
                              {"f32", at::kFloat, kMatmulN},
                              {"f64", at::kDouble, kMatmulNF64}};
  NoTf32 no_tf32;
  for (const MatmulSpec& m : specs) {
    // Random normal operands: zeros would draw less power and run at higher
    // clocks than real data does.
    at::Tensor a = at::randn({m.n, m.n}, on_device.dtype(m.type));
    at::Tensor b = at::randn({m.n, m.n}, on_device.dtype(m.type));
    at::Tensor out = at::empty({m.n, m.n}, on_device.dtype(m.type));
    ANVIL_ASSIGN_OR_RETURN(double s, MedianSeconds(stream, kMatmulWarmup, kMatmulTrials,
                                                   [&] { at::mm_out(out, a, b); },
                                                   fmt::format("{} matmul {}x{}", m.name, m.n, m.n)));
    const double n = static_cast<double>(m.n);
    c.matmul_tflops[m.name] = 2.0 * n * n * n / s / 1e12;
  }

  c.method = fmt::format(
      "copy: Tensor::copy_ of a {} GiB byte tensor into another on the current stream, {} warm-ups, median of {} "
      "copies timed with CUDA events, (bytes read + bytes written) / time; matmul: at::mm_out of random normal "
      "n x n matrices (n = {}, f64 n = {}), TF32 off, {} warm-ups, median of {} timed with CUDA events, "
      "2 n^3 / time; torch {}, CUDA runtime {}",
      kCopyBytes >> 30, kCopyWarmup, kCopyTrials, kMatmulN, kMatmulNF64, kMatmulWarmup, kMatmulTrials, ANVIL_TORCH_VERSION,
      CudaVersionText(runtime));
  c.measured_at = UtcNow();
  return c;
}

}  // namespace

Result<DeviceCeilings> MeasureDeviceCeilings() {
  // PyTorch reports allocation failures (out of memory) and CUDA errors in
  // its own calls as exceptions; here they become values.
  try {
    return Measure();
  } catch (const c10::Error& e) {
    return IoError(fmt::format("measuring device ceilings: {}", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return IoError(fmt::format("measuring device ceilings: {}", e.what()));
  }
}

}  // namespace anvil::worker
