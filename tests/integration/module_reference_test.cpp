// Tasks whose reference is a PyTorch module file (KernelBench style), on the
// CPU through the real CLI: the worker starts its embedded Python on demand
// (Debian's python3-torch, the same libtorch the worker links), calls the
// module as the reference and as the eager baseline, and reports a module
// that cannot serve as a reference as the reference's problem.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

// A copy of examples/rmsnorm/task_module.toml beside a model.py of the test's choosing.
class ModuleReference : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("anvil-module-ref-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(SourcePath("examples/rmsnorm/task_module.toml"), dir_ / "task_module.toml",
                               std::filesystem::copy_options::overwrite_existing);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteModel(const std::string& forward_body, const std::string& init = "") {
    std::ofstream(dir_ / "model.py") << "import torch\n\nclass Model(torch.nn.Module):\n"
                                     << init << "    def forward(self, x, w, eps):\n"
                                     << forward_body;
  }
  CliRun Verify(const CliWorkspace& ws) const {
    return ws.Run({"--json", "--no-progress", "verify", "examples/rmsnorm/kernel.cpp", "--task",
                   (dir_ / "task_module.toml").string()});
  }
  std::filesystem::path dir_;
};

TEST_F(ModuleReference, TheRmsnormKernelVerifiesAgainstTheShippedModule) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "--no-progress", "verify", "examples/rmsnorm/kernel.cpp", "--task",
                       "examples/rmsnorm/task_module.toml"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "correct") << r["reason"];
  EXPECT_EQ(r["cases_passed"], r["cases_total"]);
  EXPECT_GT(r["cases_total"].get<int>(), 50);
}

// The module is what the kernel is judged against: a reference that differs
// by 0.1% makes the same kernel wrong.
TEST_F(ModuleReference, ADifferentModuleMakesTheSameKernelWrong) {
  WriteModel("        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w * 1.001\n");
  CliWorkspace ws;
  CliRun run = Verify(ws);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.json["results"][0]["verdict"], "wrong") << run.output;
}

TEST_F(ModuleReference, AModuleWithParametersIsRefusedWithTheReason) {
  WriteModel("        return x * self.scale\n",
             "    def __init__(self):\n        super().__init__()\n"
             "        self.scale = torch.nn.Parameter(torch.ones(1))\n");
  CliWorkspace ws;
  CliRun run = Verify(ws);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("holds parameter scale"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("pass every tensor the reference uses as an input"), std::string::npos) << run.output;
}

TEST_F(ModuleReference, AnOutputOfTheWrongShapeIsBlamedOnTheReference) {
  WriteModel("        return x.sum(-1)\n");
  CliWorkspace ws;
  CliRun run = Verify(ws);
  ASSERT_TRUE(run.json.is_object()) << run.output;
  const std::string reason = run.json["results"][0]["reason"];
  EXPECT_NE(reason.find("reference failed: the reference module"), std::string::npos) << reason;
  EXPECT_NE(reason.find("returned output 'out' of shape"), std::string::npos) << reason;
}

// Keyword-only parameters of forward get the case's sizes, the variant's
// dtype (f64 for the correctness reference of a floating type, as its inputs
// are upcast) and the device: a factory task (arange) has nothing else to
// learn them from. The module checks what it receives; a wrong value fails
// the reference, so the kernel is correct only if every keyword was right.
TEST_F(ModuleReference, KeywordParametersReceiveSizesDtypeAndDevice) {
  std::ofstream(dir_ / "model.py")
      << "import torch\n\nclass Model(torch.nn.Module):\n"
         "    def forward(self, x, w, eps, *, C, R, T, device):\n"
         "        assert (R, C) == tuple(x.shape), (R, C, x.shape)\n"
         "        assert T == x.dtype, (T, x.dtype)\n"
         "        assert device == x.device and isinstance(device, torch.device), (device, x.device)\n"
         "        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w\n";
  CliWorkspace ws;
  CliRun run = Verify(ws);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.json["results"][0]["verdict"], "correct") << run.json["results"][0]["reason"];
}

TEST_F(ModuleReference, AKeywordParameterTheHarnessCannotFillIsRefused) {
  std::ofstream(dir_ / "model.py") << "import torch\n\nclass Model(torch.nn.Module):\n"
                                      "    def forward(self, x, w, eps, *, K):\n        return x\n";
  CliWorkspace ws;
  CliRun run = Verify(ws);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("takes keyword-only parameter(s) K"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("this task offers: C, R, T, device"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace anvil::testing
