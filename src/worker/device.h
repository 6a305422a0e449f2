// Where a case's tensors live while a candidate runs, and how the harness
// checks them there.
//
// Inputs are always generated on the host (input_gen.h: the same values on
// every device and in every process) and then placed on the device under
// evaluation. The CPU device places a guarded host copy (guarded_buffer.h:
// guard pages + canaries). The CUDA device (cuda/cuda_device.h) places a
// device copy surrounded by canary zones, poisons outputs on the device,
// synchronises the whole device after every candidate call and turns CUDA
// errors into verdicts.
//
// The harness compares on the host: ToHost() is the identity on the CPU and
// a copy from the GPU. Not thread-safe; one device per worker.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "core/shape.h"
#include "util/status.h"
#include "verify/verdict.h"

namespace anvil::worker {

// A failure that surfaced on the device after a candidate call.
struct DeviceFault {
  Verdict verdict = Verdict::kRuntimeError;  // crash for faults that kill the CUDA context
  std::string message;                       // the CUDA error text, e.g. "an illegal memory access ..."
  bool context_lost = false;                 // the worker must be replaced
};

class Device {
 public:
  virtual ~Device() = default;
  virtual bool is_cuda() const = 0;
  // "cpu" or "cuda:0"; the device the worker evaluates on.
  virtual std::string name() const = 0;

  // A copy of a host tensor on this device: same dtype, sizes, strides and
  // bytes over the span the view reaches, in guarded memory. `host` is left
  // untouched (it is the pristine copy the harness compares inputs against).
  virtual at::Tensor Place(const at::Tensor& host) = 0;
  // A fresh contiguous output filled with the poison pattern, in guarded memory.
  virtual at::Tensor NewOutput(at::ScalarType dtype, const Shape& shape) = 0;
  // Ok when the guard zones around `t` (made by Place or NewOutput) are intact.
  virtual Status CheckGuards(const at::Tensor& t, const std::string& what) = 0;
  // The tensor's values on the host (contiguous); the identity on the CPU.
  virtual at::Tensor ToHost(const at::Tensor& t) = 0;
  // The stream candidates launch on (cudaStream_t), NULL on the CPU.
  virtual void* stream() = 0;
  // After a candidate call: waits for every stream of the device and reports
  // an error raised by the candidate's work. nullopt when all is well.
  virtual std::optional<DeviceFault> Finish() = 0;
  // True once a fault destroyed the device context: nothing more can run.
  virtual bool lost() const = 0;
};

// "cpu" or "cuda" (the first visible GPU). An error when the worker was built
// without CUDA or no GPU is visible.
Result<std::unique_ptr<Device>> OpenDevice(const std::string& kind);

// What the worker says about its device in the hello message: name, compute
// capability, memory, L2 size, driver, CUDA and PyTorch versions, and `key`
// (the identity device ceilings are cached under). {"name": "cpu"} on the CPU.
nlohmann::json DescribeDevice(const Device& device);

}  // namespace anvil::worker
