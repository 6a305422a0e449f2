// Runs kernels printed by the built-in compiler's CPU backend
// (compiler/emit_cpu.cpp) in this process, on hand-made DLTensors, for what
// the printed text alone cannot show: that an in-place output is written
// through its own strides (transposed, strided with gaps that must stay
// untouched, a per-row output) and that log1p(exp(z)) stays finite where f32
// exp overflows. Each kernel is built with g++ exactly as a candidate is
// (backend/cpu); the full verification against PyTorch is the integration
// `gen` tests' job. About six g++ runs.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "anvil/kernel.h"
#include "backend/cpu/cpu_build.h"
#include "compiler/emit.h"
#include "compiler_test_formulas.h"

namespace anvil::compiler {
namespace {

using testing::Formula;
using testing::Lower;
using testing::S;

// A view of `data` with `shape` and `strides` (elements), f32.
DLTensor View(float* data, std::vector<int64_t>& shape, std::vector<int64_t>& strides) {
  DLTensor t{};
  t.data = data;
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = {kDLFloat, 32, 1};
  t.shape = shape.data();
  t.strides = strides.data();
  t.byte_offset = 0;
  return t;
}

class CompilerCpuRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-cpu-run-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Lowers `f` (f32), prints it for the CPU, builds and loads it; nullptr after a test failure.
  AnvilKernelFn Build(const Formula& f) {
    std::vector<KernelPlan> plans = Lower(f, {DType::kF32});
    if (plans.size() != 1) return nullptr;
    auto source = EmitCpu(plans, CpuSpace(plans).at(0));
    EXPECT_TRUE(source.ok()) << source.status().message();
    if (!source.ok()) return nullptr;
    const std::string path = dir_ + "/" + f.name + ".cpp";
    std::ofstream(path) << *source;
    CpuBuildOptions options;
    options.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
    options.cache_dir = dir_ + "/cache";
    auto built = BuildCpuCandidate(path, options);
    EXPECT_TRUE(built.ok()) << built.status().message();
    if (!built.ok()) return nullptr;
    EXPECT_TRUE(built->ok) << built->log << "\n----- source -----\n" << *source;
    if (!built->ok) return nullptr;
    // Never unloaded: the kernel starts libgomp's thread pool, which this test binary does
    // not link, and unloading libgomp under its threads crashes them.
    void* handle = dlopen(built->library_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    EXPECT_NE(handle, nullptr) << dlerror();
    if (handle == nullptr) return nullptr;
    return reinterpret_cast<AnvilKernelFn>(dlsym(handle, ANVIL_KERNEL_SYMBOL));
  }

  // Calls `kernel`; the output tensors are given, as the harness gives them.
  void Call(AnvilKernelFn kernel, const std::vector<DLTensor>& inputs, std::vector<DLTensor>& outputs) {
    char error[512] = "";
    AnvilCall call{};
    call.abi_version = ANVIL_ABI_VERSION;
    call.num_inputs = static_cast<int32_t>(inputs.size());
    call.inputs = inputs.data();
    call.num_outputs = static_cast<int32_t>(outputs.size());
    call.outputs = outputs.data();
    call.num_threads = 2;
    call.error = error;
    call.error_capacity = sizeof(error);
    ASSERT_EQ(kernel(&call), ANVIL_OK) << error;
  }

  std::string dir_;
};

// x += y with x transposed, then with x strided (every other column of a wider
// buffer, whose gaps must stay as they were), at sizes that take the unit-stride
// and strided loops and several OpenMP blocks per row (L > block).
TEST_F(CompilerCpuRunTest, InPlaceOutputIsWrittenThroughTheInputsStrides) {
  Formula f{"add_inplace", "out = x + y", {{"x", DType::kF32, {S("R"), S("C")}}, {"y", DType::kF32, {S("R"), S("C")}}}, {}};
  f.inplace = {{"out", "x"}};
  AnvilKernelFn kernel = Build(f);
  ASSERT_NE(kernel, nullptr);
  for (const auto& [R, C] : std::vector<std::pair<int64_t, int64_t>>{{3, 5}, {7, 9000}, {1, 1}, {0, 4}}) {
    for (const char* layout : {"contiguous", "transposed", "strided"}) {
      SCOPED_TRACE(std::string(layout) + " " + std::to_string(R) + "x" + std::to_string(C));
      const std::string l = layout;
      std::vector<int64_t> shape = {R, C};
      std::vector<int64_t> xs = l == "contiguous" ? std::vector<int64_t>{C, 1}
                                : l == "transposed" ? std::vector<int64_t>{1, R}
                                                    : std::vector<int64_t>{2 * C + 3, 2};
      const int64_t extent = l == "strided" ? R * (2 * C + 3) : R * C;
      std::vector<float> xbuf(static_cast<size_t>(extent));
      for (size_t i = 0; i < xbuf.size(); ++i) xbuf[i] = static_cast<float>(i % 97) - 40.5f;
      const std::vector<float> before = xbuf;
      std::vector<float> ybuf(static_cast<size_t>(R * C));
      for (size_t i = 0; i < ybuf.size(); ++i) ybuf[i] = static_cast<float>(i % 13) * 0.25f + 1;
      std::vector<int64_t> ys = {C, 1};
      DLTensor x = View(xbuf.data(), shape, xs);
      std::vector<DLTensor> inputs = {x, View(ybuf.data(), shape, ys)};
      std::vector<DLTensor> outputs = {x};  // in place: the output IS x
      Call(kernel, inputs, outputs);
      std::vector<bool> element(xbuf.size(), false);
      for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < C; ++c) {
          const int64_t at = r * xs[0] + c * xs[1];
          element[static_cast<size_t>(at)] = true;
          ASSERT_EQ(xbuf[at], before[at] + ybuf[r * C + c]) << "element (" << r << ", " << c << ")";
        }
      for (size_t i = 0; i < xbuf.size(); ++i) {
        if (!element[i]) {
          ASSERT_EQ(xbuf[i], before[i]) << "the gap at " << i << " was written";
        }
      }
    }
  }
}

// A row plan in place (x - mean of its row, x transposed): every pass reads the
// row before the output loop overwrites it.
TEST_F(CompilerCpuRunTest, InPlaceRowPlanReadsTheRowBeforeWritingIt) {
  Formula f{"center_inplace", "out = x - mean(x, -1, keepdim=True)", {{"x", DType::kF32, {S("R"), S("C")}}}, {}};
  f.inplace = {{"out", "x"}};
  AnvilKernelFn kernel = Build(f);
  ASSERT_NE(kernel, nullptr);
  const int64_t R = 4, C = 300;
  std::vector<int64_t> shape = {R, C}, xs = {1, R};  // transposed
  std::vector<float> xbuf(R * C);
  for (size_t i = 0; i < xbuf.size(); ++i) xbuf[i] = static_cast<float>((i * 7) % 31);
  const std::vector<float> before = xbuf;
  DLTensor x = View(xbuf.data(), shape, xs);
  std::vector<DLTensor> inputs = {x}, outputs = {x};
  Call(kernel, inputs, outputs);
  for (int64_t r = 0; r < R; ++r) {
    double sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += before[r + c * R];
    for (int64_t c = 0; c < C; ++c)
      ASSERT_NEAR(xbuf[r + c * R], before[r + c * R] - sum / C, 1e-4) << "(" << r << ", " << c << ")";
  }
}

// A per-row in-place output (x [R, 1], strided) of a row plan: written at its row's base.
TEST_F(CompilerCpuRunTest, InPlaceRowOutputUsesItsRowStride) {
  Formula f{"add_row_sum", "out = x + sum(y, -1, keepdim=True)",
            {{"x", DType::kF32, {S("R"), testing::F(1)}}, {"y", DType::kF32, {S("R"), S("C")}}}, {}};
  f.inplace = {{"out", "x"}};
  AnvilKernelFn kernel = Build(f);
  ASSERT_NE(kernel, nullptr);
  const int64_t R = 5, C = 6;
  std::vector<int64_t> xshape = {R, 1}, xs = {3, 1}, yshape = {R, C}, ys = {C, 1};
  std::vector<float> xbuf(R * 3, -7.0f), ybuf(R * C);
  for (int64_t r = 0; r < R; ++r) xbuf[r * 3] = static_cast<float>(r);
  for (size_t i = 0; i < ybuf.size(); ++i) ybuf[i] = static_cast<float>(i);
  DLTensor x = View(xbuf.data(), xshape, xs);
  std::vector<DLTensor> inputs = {x, View(ybuf.data(), yshape, ys)}, outputs = {x};
  Call(kernel, inputs, outputs);
  for (int64_t r = 0; r < R; ++r) {
    float sum = 0;
    for (int64_t c = 0; c < C; ++c) sum += ybuf[r * C + c];
    EXPECT_EQ(xbuf[r * 3], static_cast<float>(r) + sum) << "row " << r;
    EXPECT_EQ(xbuf[r * 3 + 1], -7.0f) << "gap after row " << r;
    EXPECT_EQ(xbuf[r * 3 + 2], -7.0f) << "gap after row " << r;
  }
}

// soft_margin_loss: for -x * y past 88.7 f32 exp overflows; the stable form
// gives what the f64 reference gives (about -x * y; inf only past 709.78,
// where f64 exp overflows too), and the same elsewhere.
TEST_F(CompilerCpuRunTest, LogOnePlusExpStaysFiniteWhereExpOverflows) {
  const std::vector<std::pair<std::string, std::string>> formulas = {
      {"soft_margin", "out = mean(log1p(exp(-x * y)))"}, {"soft_margin_log", "out = mean(log(1 + exp(-x * y)))"}};
  for (const auto& [name, formula] : formulas) {
    SCOPED_TRACE(formula);
    Formula f{name, formula, {{"x", DType::kF32, {S("N")}}, {"y", DType::kF32, {S("N")}}}, {}};
    AnvilKernelFn kernel = Build(f);
    ASSERT_NE(kernel, nullptr);
    // -x * y = 300, 95 (exp overflows f32), -0.5, -40, 0, 3.
    std::vector<float> xv = {-300.0f, 95.0f, 0.5f, 40.0f, 0.0f, -3.0f}, yv = {1.0f, -1.0f, 1.0f, 1.0f, -1.0f, 1.0f};
    std::vector<int64_t> shape = {static_cast<int64_t>(xv.size())}, strides = {1}, oshape = {}, ostrides = {};
    float result = NAN;
    std::vector<DLTensor> inputs = {View(xv.data(), shape, strides), View(yv.data(), shape, strides)};
    std::vector<DLTensor> outputs = {View(&result, oshape, ostrides)};
    Call(kernel, inputs, outputs);
    double expected = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      const double z = -static_cast<double>(xv[i]) * yv[i];
      expected += z > 30 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
    }
    expected /= static_cast<double>(xv.size());
    ASSERT_TRUE(std::isfinite(result)) << result;
    EXPECT_NEAR(result, expected, 1e-6 * std::fabs(expected));
    // Past ln(DBL_MAX) even the f64 reference's exp overflows: inf, as it says.
    xv = {-800.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
    Call(kernel, inputs, outputs);
    EXPECT_EQ(result, INFINITY);
  }
}

}  // namespace
}  // namespace anvil::compiler
