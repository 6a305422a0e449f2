#include "worker/cpu_device.h"

#include "worker/guarded_buffer.h"
#include "worker/input_gen.h"

namespace anvil::worker {

at::Tensor CpuDevice::Place(const at::Tensor& host) { return CloneGuarded(host); }

at::Tensor CpuDevice::NewOutput(at::ScalarType dtype, const Shape& shape) {
  at::Tensor t = AllocateGuarded(dtype, shape, at::detail::defaultStrides(shape), NumElements(shape));
  Poison(t);
  return t;
}

Status CpuDevice::CheckGuards(const at::Tensor& t, const std::string& what) { return worker::CheckGuards(t, what); }

}  // namespace anvil::worker
