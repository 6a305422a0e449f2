// Tests of backend/cuda/cuda_build: building .cu candidates with nvcc, the
// cache, compile and link errors, and the import gate. They need nvcc but no
// GPU, and skip when nvcc cannot be found. About four nvcc runs in all.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "backend/build_common.h"
#include "backend/cuda/cuda_build.h"

namespace anvil {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class CudaBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nvcc = FindNvcc("");
    if (!nvcc.ok()) GTEST_SKIP() << "nvcc not found: CUDA build tests skipped";
    std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-cuda-build-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    options_.nvcc = *nvcc;
    options_.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
    options_.cache_dir = dir_ + "/cache";
    options_.arch = "sm_90a";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
  CudaBuildOptions options_;
};

// y = 2 * x for f32/f16/bf16, with every helper of cuda_tensor.h on the path.
const char* kScale = R"cu(#include <anvil/cuda_tensor.h>

template <class T>
__global__ void Scale(const T* x, T* y, int64_t n) {
  const int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) y[i] = anvil::cuda::FromFloat<T>(2.0f * anvil::cuda::ToFloat(x[i]));
}

extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) {
  const DLTensor& x = call->inputs[0];
  const DLTensor& y = call->outputs[0];
  if (!anvil::IsContiguous(x) || !anvil::SameDType(x, y)) {
    anvil::SetError(call, "x must be contiguous and of y's dtype (%s)", anvil::DTypeName(y.dtype));
    return ANVIL_ERROR_UNSUPPORTED;
  }
  const int64_t n = anvil::Numel(x);
  if (n == 0) return ANVIL_OK;
  return anvil::cuda::DispatchFloat(call, x, [&](auto tag) -> int {
    using T = decltype(tag);
    Scale<T><<<anvil::CeilDiv(n, 256), 256, 0, anvil::StreamOf(call)>>>(
        anvil::DataPtr<const T>(x), anvil::DataPtr<T>(y), n);
    ANVIL_CUDA_CHECK(call, cudaGetLastError());
    return ANVIL_OK;
  });
}
)cu";

TEST_F(CudaBuildTest, BuildsWithSharedCudartThenServesFromTheCache) {
  std::string src = Write("k.cu", kScale);
  auto first = BuildCudaCandidate(src, options_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(first->ok) << first->command << "\n" << first->log;
  EXPECT_FALSE(first->cached);
  EXPECT_TRUE(std::filesystem::exists(first->library_path));
  EXPECT_NE(first->command.find("arch=compute_90a,code=sm_90a"), std::string::npos) << first->command;
  EXPECT_NE(first->command.find("-cudart shared"), std::string::npos) << first->command;
  EXPECT_NE(first->command.find("-Xlinker --no-undefined"), std::string::npos) << first->command;
  EXPECT_TRUE(first->forbidden_imports.empty());
  // Shared cudart: the runtime's entry points are imports, not linked in.
  auto imports = ImportedSymbols(first->library_path);
  ASSERT_TRUE(imports.ok()) << imports.status().message();
  EXPECT_TRUE(Contains(*imports, "cudaGetLastError"));

  auto second = BuildCudaCandidate(src, options_);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->ok);
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->library_path, first->library_path);
  EXPECT_EQ(second->cache_key, first->cache_key);
}

TEST_F(CudaBuildTest, CompileErrorsAreResultsWithNvccsMessage) {
  std::string src = Write("bad.cu", std::string(kScale) + "\n__global__ void Broken( {\n");
  auto r = BuildCudaCandidate(src, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->ok);
  EXPECT_TRUE(r->library_path.empty());
  EXPECT_NE(r->log.find("error"), std::string::npos) << r->log;
  EXPECT_NE(r->log.find("kernel.cu"), std::string::npos) << r->log;
}

TEST_F(CudaBuildTest, UndefinedSymbolsFailAtLink) {
  std::string src = Write("undefined.cu", R"(#include <anvil/kernel.h>
namespace at { void manual_seed_everything(int); }
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall*) { at::manual_seed_everything(0); return ANVIL_OK; })");
  auto r = BuildCudaCandidate(src, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->log.find("manual_seed_everything"), std::string::npos) << r->log;
}

TEST_F(CudaBuildTest, ForbiddenImportsAreListed) {
  std::string src = Write("dlopen.cu", R"(#include <anvil/kernel.h>
#include <dlfcn.h>
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall*) { return dlopen("libc.so.6", RTLD_NOW) != nullptr; })");
  auto r = BuildCudaCandidate(src, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->ok) << r->log;
  EXPECT_TRUE(Contains(r->forbidden_imports, "dlopen"));
}

TEST(CudaBuild, BadArchOrMissingNvccIsAnErrorStatus) {
  CudaBuildOptions options;
  options.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
  options.cache_dir = "/nonexistent/cache";
  for (std::string arch : {"", "90a", "sm_", "sm_90ab", "compute_90a"}) {
    options.arch = arch;
    auto r = BuildCudaCandidate("/nonexistent/k.cu", options);
    ASSERT_FALSE(r.ok()) << arch;
    EXPECT_NE(r.status().message().find("arch"), std::string::npos) << r.status().message();
  }
  auto nvcc = FindNvcc("/nonexistent/bin/nvcc");
  ASSERT_FALSE(nvcc.ok());
  EXPECT_NE(nvcc.status().message().find("/nonexistent/bin/nvcc"), std::string::npos) << nvcc.status().message();
}

TEST(CudaBuild, ArchForComputeCapability) {
  EXPECT_EQ(CudaArchForComputeCapability(7, 5), "sm_75");
  EXPECT_EQ(CudaArchForComputeCapability(8, 0), "sm_80");
  EXPECT_EQ(CudaArchForComputeCapability(8, 6), "sm_86");
  EXPECT_EQ(CudaArchForComputeCapability(8, 9), "sm_89");
  EXPECT_EQ(CudaArchForComputeCapability(9, 0), "sm_90a");
  EXPECT_EQ(CudaArchForComputeCapability(10, 0), "sm_100a");
  EXPECT_EQ(CudaArchForComputeCapability(10, 3), "sm_103a");
  EXPECT_EQ(CudaArchForComputeCapability(12, 0), "sm_120a");
}

}  // namespace
}  // namespace anvil
