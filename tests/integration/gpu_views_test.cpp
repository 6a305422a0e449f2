// View outputs on the GPU: examples/views/select.cu points its output into
// x's device storage and verifies against tasks/aten110/select.toml on every
// case (aliasing, strides, start and values, judged like on the CPU); a
// Triton candidate for a view task is refused with the reason. Skips without
// an NVIDIA GPU.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

TEST(GpuViews, ACudaViewKernelVerifiesAndTritonIsRefused) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "verify", "examples/views/select.cu", "--task",
                       "tasks/aten110/select.toml", "--target", "cuda"},
                      900);
  ASSERT_TRUE(run.json.is_object()) << "no JSON (exit " << run.exit_code << ")\n" << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "correct") << r.value("reason", "");
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);

  if (!TritonAvailable()) GTEST_SKIP() << "python3 -c 'import triton' failed: the Triton refusal is not checked";
  CliRun triton = ws.Run({"--json", "--no-progress", "verify", "examples/views/select_copy_triton.py", "--task",
                          "tasks/aten110/select.toml", "--target", "triton"},
                         900);
  ASSERT_TRUE(triton.json.is_object()) << "no JSON (exit " << triton.exit_code << ")\n" << triton.output;
  const auto& t = triton.json["results"][0];
  EXPECT_EQ(t["verdict"], "load_error") << t.dump();
  EXPECT_NE(t.value("reason", "").find("view outputs take C++ or CUDA C++ candidates"), std::string::npos)
      << t.value("reason", "");
}

}  // namespace
}  // namespace anvil::testing
