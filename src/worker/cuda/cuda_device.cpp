#include "worker/cuda/cuda_device.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAStream.h>

#include <fstream>
#include <regex>
#include <vector>

#include <fmt/format.h>

#include "worker/guarded_buffer.h"
#include "worker/input_gen.h"

namespace anvil::worker {
namespace {

constexpr size_t kZoneBytes = 64 << 10;
constexpr size_t kAlign = 256;

// The canary byte at offset `i` of a zone: position-dependent, so a kernel
// writing one repeated value cannot restore it by accident.
uint8_t CanaryAt(size_t i) {
  return static_cast<uint8_t>(0xA5u ^ static_cast<uint8_t>(i * 29u) ^ static_cast<uint8_t>(i >> 8));
}

// Long enough for the trailing zone, which also covers the alignment padding.
const std::vector<uint8_t>& CanaryZone() {
  static const std::vector<uint8_t> zone = [] {
    std::vector<uint8_t> z(kZoneBytes + kAlign);
    for (size_t i = 0; i < z.size(); ++i) z[i] = CanaryAt(i);
    return z;
  }();
  return zone;
}

std::string ErrorText(cudaError_t e) {
  return fmt::format("{} ({})", cudaGetErrorString(e), cudaGetErrorName(e));
}

void Check(cudaError_t e, const char* what) {
  TORCH_CHECK(e == cudaSuccess, "anvil-worker: ", what, ": ", ErrorText(e));
}

}  // namespace

std::string NvidiaDriverVersion() {
  std::ifstream f("/proc/driver/nvidia/version");
  std::string line;
  std::getline(f, line);
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"((\d+\.\d+(\.\d+)?))"))) return m[1];
  return "";
}

Result<std::unique_ptr<CudaDevice>> CudaDevice::Open() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0)
    return Unsupported(
                         fmt::format("no CUDA device visible to the worker ({})",
                                     e == cudaSuccess ? "0 devices" : ErrorText(e)));
  const int index = 0;
  if ((e = cudaSetDevice(index)) != cudaSuccess || (e = cudaFree(nullptr)) != cudaSuccess)
    return Unsupported( "cannot create a CUDA context on device 0: " + ErrorText(e));
  cudaDeviceProp props{};
  cudaGetDeviceProperties(&props, index);
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, static_cast<c10::DeviceIndex>(index));
  c10::cuda::setCurrentCUDAStream(stream);
  return std::unique_ptr<CudaDevice>(new CudaDevice(index, stream.stream(), props));
}

std::string CudaDevice::name() const { return fmt::format("cuda:{}", index_); }

at::Tensor CudaDevice::MakeGuarded(at::ScalarType dtype, at::IntArrayRef sizes, at::IntArrayRef strides,
                                   size_t data_bytes) {
  const size_t padded = (data_bytes + kAlign - 1) / kAlign * kAlign;
  at::Tensor base = at::empty({static_cast<int64_t>(kZoneBytes + padded + kZoneBytes)},
                              at::TensorOptions().dtype(at::kByte).device(at::kCUDA, index_));
  uint8_t* front = base.data_ptr<uint8_t>();
  uint8_t* data = front + kZoneBytes;
  const auto& canary = CanaryZone();
  Check(cudaMemcpyAsync(front, canary.data(), kZoneBytes, cudaMemcpyHostToDevice, stream_), "canary");
  // The trailing zone starts at the data's end (unaligned), padding included.
  Check(cudaMemcpyAsync(data + data_bytes, canary.data(), kZoneBytes + padded - data_bytes, cudaMemcpyHostToDevice,
                        stream_),
        "canary");
  Check(cudaStreamSynchronize(stream_), "canary");
  (*zones_)[data] = Zones{data, data_bytes};
  std::shared_ptr<ZoneMap> zones = zones_;
  return at::from_blob(
      data, sizes, strides, [base, zones](void* p) mutable { zones->erase(p); },
      at::TensorOptions().dtype(dtype).device(at::kCUDA, index_));
}

at::Tensor CudaDevice::Place(const at::Tensor& host) {
  TORCH_CHECK(host.device().is_cpu(), "Place takes a host tensor");
  const size_t bytes = static_cast<size_t>(SpanElements(host.sizes(), host.strides())) * host.element_size();
  at::Tensor t = MakeGuarded(host.scalar_type(), host.sizes(), host.strides(), bytes);
  if (bytes > 0) {
    Check(cudaMemcpyAsync(t.data_ptr(), host.data_ptr(), bytes, cudaMemcpyHostToDevice, stream_), "input copy");
    Check(cudaStreamSynchronize(stream_), "input copy");
  }
  return t;
}

at::Tensor CudaDevice::NewOutput(at::ScalarType dtype, const Shape& shape) {
  // Poisoned on the host with the very pattern the CPU harness uses, then copied.
  at::Tensor host = at::empty(shape, at::TensorOptions().dtype(dtype));
  Poison(host);
  return Place(host);
}

void CudaDevice::CopySpan(const at::Tensor& dst, const at::Tensor& src) {
  const size_t bytes = static_cast<size_t>(SpanElements(src.sizes(), src.strides())) * src.element_size();
  TORCH_CHECK(dst.sizes() == src.sizes() && dst.strides() == src.strides() && dst.dtype() == src.dtype(),
              "CopySpan needs identical layouts");
  if (bytes > 0)
    Check(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), bytes, cudaMemcpyDeviceToDevice, stream_), "refill");
}

Status CudaDevice::CheckGuards(const at::Tensor& t, const std::string& what) {
  // By the storage's pointer: data_ptr() of an empty tensor is null.
  auto it = t.has_storage() ? zones_->find(t.storage().data()) : zones_->end();
  if (it == zones_->end()) return InternalError("CheckGuards: " + what + " is not a guarded device tensor");
  const Zones& z = it->second;
  const size_t padded = (z.data_bytes + kAlign - 1) / kAlign * kAlign;
  const size_t back_bytes = kZoneBytes + padded - z.data_bytes;
  std::vector<uint8_t> front(kZoneBytes), back(back_bytes);
  cudaError_t e = cudaMemcpyAsync(front.data(), z.data - kZoneBytes, kZoneBytes, cudaMemcpyDeviceToHost, stream_);
  if (e == cudaSuccess)
    e = cudaMemcpyAsync(back.data(), z.data + z.data_bytes, back_bytes, cudaMemcpyDeviceToHost, stream_);
  if (e == cudaSuccess) e = cudaStreamSynchronize(stream_);
  if (e != cudaSuccess) return InternalError("reading the guard zones of " + what + ": " + ErrorText(e));
  const auto& canary = CanaryZone();
  for (size_t i = 0; i < kZoneBytes; ++i)  // farthest from the data first
    if (front[i] != canary[i])
      return InvalidInput(fmt::format("wrote {} bytes before the start of {}", kZoneBytes - i, what));
  for (size_t i = back_bytes; i-- > 0;)
    if (back[i] != canary[i])
      return InvalidInput(fmt::format("wrote {} bytes past the end of {}", i + 1, what));
  return Status::Ok();
}

at::Tensor CudaDevice::ToHost(const at::Tensor& t) { return t.contiguous().cpu(); }

std::optional<DeviceFault> CudaDevice::Finish() {
  if (lost_) return DeviceFault{Verdict::kCrash, "the CUDA context was already lost", true};
  cudaError_t launch = cudaGetLastError();
  cudaError_t sync = cudaDeviceSynchronize();
  cudaError_t err = sync != cudaSuccess ? sync : launch;
  if (err == cudaSuccess) return std::nullopt;
  (void)cudaGetLastError();
  DeviceFault fault;
  fault.message = "CUDA error: " + ErrorText(err);
  if (cudaDeviceSynchronize() != cudaSuccess) {
    lost_ = true;
    fault.verdict = Verdict::kCrash;
    fault.context_lost = true;
    fault.message += " — the CUDA context is lost; the worker is replaced";
  } else if (launch != cudaSuccess && sync == cudaSuccess) {
    fault.message += " (a kernel launch failed; check cudaGetLastError() after launching and return an error)";
  }
  return fault;
}

}  // namespace anvil::worker
