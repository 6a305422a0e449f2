// The shipped GPU examples: every examples/*/*.cu (target cuda) and
// examples/*/*_triton.py (target triton) verifies as correct against each
// task file beside it (task.toml, and task_module.toml where the reference
// is also given as a PyTorch module), on every case, through the real CLI. Skips without an
// NVIDIA GPU; the Triton kernels also need `import triton` to work.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <tuple>

#include "cli_runner.h"
#include "gpu_available.h"

namespace anvil::testing {
namespace {

struct GpuExample {
  std::string kernel, task, target;  // paths relative to the source tree
};

std::vector<GpuExample> GpuExamples() {
  std::vector<GpuExample> out;
  for (const auto& dir : std::filesystem::directory_iterator(SourcePath("examples"))) {
    if (!dir.is_directory() || !std::filesystem::exists(dir.path() / "task.toml")) continue;
    const std::string folder = "examples/" + dir.path().filename().string() + "/";
    std::vector<std::string> tasks;
    for (const char* task : {"task.toml", "task_module.toml"})
      if (std::filesystem::exists(dir.path() / task)) tasks.push_back(folder + task);
    for (const auto& f : std::filesystem::directory_iterator(dir.path())) {
      const std::string name = f.path().filename().string();
      std::string target;
      if (f.path().extension() == ".cu") target = "cuda";
      if (name.size() > 10 && name.substr(name.size() - 10) == "_triton.py") target = "triton";
      if (target.empty()) continue;
      for (const std::string& task : tasks) out.push_back({folder + name, task, target});
    }
  }
  std::sort(out.begin(), out.end(),
            [](auto& a, auto& b) { return std::tie(a.kernel, a.task) < std::tie(b.kernel, b.task); });
  return out;
}

TEST(GpuExamples, TheRequiredKernelsExist) {
  auto examples = GpuExamples();
  for (const char* op : {"softmax", "gelu_tanh_mul", "rmsnorm", "bias_add_relu", "row_sum", "matmul"}) {
    for (const std::string suffix : {".cu", "_triton.py"}) {
      const std::string want = std::string("examples/") + op + "/" + op + suffix;
      EXPECT_NE(std::find_if(examples.begin(), examples.end(), [&](auto& e) { return e.kernel == want; }),
                examples.end())
          << want << " is missing";
    }
  }
}

TEST(GpuExamples, EveryGpuExampleVerifies) {
  if (!GpuAvailable()) GTEST_SKIP() << "no NVIDIA GPU (nvidia-smi -L failed): GPU test skipped";
  const bool triton = TritonAvailable();
  if (!triton)
    std::cout << "[  SKIPPED ] Triton examples: python3 -c 'import triton' failed (install Triton to run them)\n";
  // Four at a time, each in its own workspace (and worker): the GPU is
  // shared, verification does not time anything, and more workers at once
  // only slow each other's start-up (CUDA, torch and Triton imports).
  std::vector<GpuExample> examples;
  for (const GpuExample& e : GpuExamples())
    if (e.target != "triton" || triton) examples.push_back(e);
  std::vector<std::future<CliRun>> runs(examples.size());
  auto launch = [&](size_t i) {
    runs[i] = std::async(std::launch::async, [e = examples[i]] {
      CliWorkspace ws;
      return ws.Run({"--json", "--no-progress", "verify", e.kernel, "--task", e.task, "--target", e.target}, 900);
    });
  };
  constexpr size_t kConcurrent = 4;
  for (size_t i = 0; i < std::min(kConcurrent, examples.size()); ++i) launch(i);
  for (size_t i = 0; i < examples.size(); ++i) {
    const GpuExample& e = examples[i];
    CliRun run = runs[i].get();
    if (i + kConcurrent < examples.size()) launch(i + kConcurrent);
    if (!run.json.is_object()) {
      ADD_FAILURE() << e.kernel << " (" << e.task << "): no JSON (exit " << run.exit_code << ")\n" << run.output;
      continue;
    }
    EXPECT_EQ(run.exit_code, 0) << e.kernel << " (" << e.task << ")\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << e.kernel << " (" << e.task << "): " << r.value("reason", "");
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << e.kernel;
    EXPECT_GT(r["cases_total"].get<int>(), 20) << e.kernel << " runs too few cases to mean much";
  }
}

}  // namespace
}  // namespace anvil::testing
