#include "worker/device.h"

#include <fmt/format.h>

#include "worker/cpu_device.h"
#if ANVIL_WITH_CUDA
#include <cuda_runtime_api.h>

#include "worker/cuda/cuda_device.h"
#endif

namespace anvil::worker {

Result<std::unique_ptr<Device>> OpenDevice(const std::string& kind) {
  if (kind == "cpu") return std::unique_ptr<Device>(new CpuDevice());
  if (kind == "cuda") {
#if ANVIL_WITH_CUDA
    ANVIL_ASSIGN_OR_RETURN(std::unique_ptr<CudaDevice> d, CudaDevice::Open());
    return std::unique_ptr<Device>(std::move(d));
#else
    return Unsupported("this anvil-worker was built against a LibTorch without CUDA; build on the GPU machine "
                       "with scripts/gpu/build.sh");
#endif
  }
  return InvalidInput(fmt::format("unknown device '{}' (cpu or cuda)", kind));
}

nlohmann::json DescribeDevice(const Device& device) {
#if ANVIL_WITH_CUDA
  if (device.is_cuda()) {
    const auto& cuda = static_cast<const CudaDevice&>(device);
    const cudaDeviceProp& p = cuda.properties();
    int runtime = 0, driver_api = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver_api);
    std::string driver = NvidiaDriverVersion();
    std::string cuda_version = fmt::format("{}.{}", runtime / 1000, (runtime % 1000) / 10);
    return {{"name", p.name},
            {"compute_capability", fmt::format("{}.{}", p.major, p.minor)},
            {"cc_major", p.major},
            {"cc_minor", p.minor},
            {"memory_bytes", static_cast<int64_t>(p.totalGlobalMem)},
            {"l2_bytes", p.l2CacheSize},
            {"sm_count", p.multiProcessorCount},
            {"driver", driver},
            {"cuda_runtime", cuda_version},
            {"torch", ANVIL_TORCH_VERSION},
            {"key", fmt::format("{}|driver {}|cuda {}|torch {}", p.name, driver, cuda_version, ANVIL_TORCH_VERSION)}};
  }
#endif
  return {{"name", device.name()}};
}

}  // namespace anvil::worker
