// The CPU device: guarded host memory (guarded_buffer.h), no streams, and
// nothing to wait for after a call (a fault there is a signal that kills the
// worker, which the orchestrator records).
#pragma once

#include "worker/device.h"

namespace anvil::worker {

class CpuDevice final : public Device {
 public:
  bool is_cuda() const override { return false; }
  std::string name() const override { return "cpu"; }
  at::Tensor Place(const at::Tensor& host) override;
  at::Tensor NewOutput(at::ScalarType dtype, const Shape& shape) override;
  Status CheckGuards(const at::Tensor& t, const std::string& what) override;
  at::Tensor ToHost(const at::Tensor& t) override { return t; }
  void* stream() override { return nullptr; }
  std::optional<DeviceFault> Finish() override { return std::nullopt; }
  bool lost() const override { return false; }
};

}  // namespace anvil::worker
