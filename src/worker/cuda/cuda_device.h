// The CUDA device: candidates' tensors in guarded GPU memory, one stream,
// and CUDA errors turned into verdicts.
//
// Guarded memory: each tensor is a view into its own allocation (LibTorch's
// caching allocator) laid out as
//
//   [canary zone, 64 KiB][data span][canary zone, 64 KiB]
//
// The data starts 256-byte aligned (as cudaMalloc's would); the trailing zone
// starts right at the end of the data, so a kernel without a bounds check on
// its tail (up to 16K floats past the end) writes into a canary and
// CheckGuards reports how far. A write further out lands in other memory or
// faults; compute-sanitizer (anvil --sanitize) is the tool for those.
//
// Faults: after each candidate call Finish() reads the launch error (the
// candidate shares this process's CUDA runtime, see
// backend/cuda/cuda_build.h) and synchronises the whole device, so work on
// any stream counts. An error that survives a second synchronisation is
// sticky: the context is lost (illegal address, misaligned access, a trap),
// the verdict is crash, and the worker must be replaced. Other errors
// (invalid launch configuration, out of memory) are runtime errors.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <unordered_map>

#include "worker/device.h"

namespace anvil::worker {

class CudaDevice final : public Device {
 public:
  // Device 0 of the visible ones; creates the context and the stream, and
  // makes the stream LibTorch's current one (so reference, baselines and
  // Triton launch on it too).
  static Result<std::unique_ptr<CudaDevice>> Open();

  bool is_cuda() const override { return true; }
  std::string name() const override;
  at::Tensor Place(const at::Tensor& host) override;
  at::Tensor NewOutput(at::ScalarType dtype, const Shape& shape) override;
  Status CheckGuards(const at::Tensor& t, const std::string& what) override;
  at::Tensor ToHost(const at::Tensor& t) override;
  void* stream() override { return stream_; }
  std::optional<DeviceFault> Finish() override;
  bool lost() const override { return lost_; }

  // Copies the data span of `src` over that of `dst` (same layout) on the
  // stream: refills a timing buffer with another value set without
  // allocating.
  void CopySpan(const at::Tensor& dst, const at::Tensor& src);
  int index() const { return index_; }
  const cudaDeviceProp& properties() const { return props_; }

 private:
  struct Zones {
    uint8_t* data = nullptr;
    size_t data_bytes = 0;
  };
  CudaDevice(int index, cudaStream_t stream, const cudaDeviceProp& props)
      : index_(index), stream_(stream), props_(props), zones_(std::make_shared<ZoneMap>()) {}
  at::Tensor MakeGuarded(at::ScalarType dtype, at::IntArrayRef sizes, at::IntArrayRef strides, size_t data_bytes);

  using ZoneMap = std::unordered_map<const void*, Zones>;
  int index_;
  cudaStream_t stream_;
  cudaDeviceProp props_;
  bool lost_ = false;
  // Shared with the tensors' deleters, which remove their entry; by data pointer.
  std::shared_ptr<ZoneMap> zones_;
};

// The version of the CUDA driver (kernel module), e.g. "580.159.04", or "".
std::string NvidiaDriverVersion();

}  // namespace anvil::worker
