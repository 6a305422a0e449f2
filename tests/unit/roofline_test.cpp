// Roofline: the least memory traffic and matmul flops of a case, the
// speed-of-light time from device ceilings, and the ceilings' JSON form.
#include "verify/roofline.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>

#include "task/task_file.h"
#include "task/task_graph.h"

namespace anvil {
namespace {

// A task with one type variable T over `types`, loaded through the task file
// parser so that the test sees the same Task the CLI would. The task file
// needs one correctness shape binding every symbol: `case_shape`.
Task MakeTask(const std::string& formula, const std::string& inputs_toml, const std::string& outputs_toml,
              const std::string& case_shape, const std::string& types = R"("f32", "f16")") {
  std::string text = "name = \"t\"\nformula = \"" + formula + "\"\n[types]\nT = [" + types + "]\n" + inputs_toml +
                     outputs_toml + "\n[correctness]\nshapes = [" + case_shape + "]\n";
  auto task = ParseTask(text, "t.toml");
  EXPECT_TRUE(task.ok()) << task.status().message() << "\n" << text;
  return std::move(task).value();
}

std::string Input(const std::string& name, const std::string& shape, const std::string& dtype = "T") {
  return "[[inputs]]\nname = \"" + name + "\"\ndtype = \"" + dtype + "\"\nshape = " + shape + "\n";
}

WorkEstimate Estimate(const Task& task, size_t variant_index, const Bindings& b) {
  DTypeVariant variant = task.Variants().at(variant_index);
  auto graph = CompileTaskGraph(task, variant);
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  auto work = EstimateWork(task, *graph, variant, b);
  EXPECT_TRUE(work.ok()) << work.status().message();
  return work.ok() ? *work : WorkEstimate{};
}

DeviceCeilings H100Like() {
  DeviceCeilings c;
  c.device_key = "NVIDIA H100 80GB HBM3|driver 580.65|torch 2.11.0|cuda 13.0";
  c.device_name = "NVIDIA H100 80GB HBM3";
  c.copy_gbps = 3000;
  c.matmul_tflops = {{"f16", 700}, {"bf16", 720}, {"f32", 50}, {"f64", 60}};
  c.method = "test values";
  c.measured_at = "2025-01-01T00:00:00Z";
  return c;
}

TEST(RooflineWork, ElementwiseReadsInputsAndWritesOutputOnce) {
  Task task = MakeTask("out = x * y + x", Input("x", R"(["N"])") + Input("y", R"(["N"])"),
                       "[[outputs]]\nname = \"out\"\n", "{N = 1}");
  // Variant 0 is T=f32: x read once although the formula names it twice.
  WorkEstimate f32 = Estimate(task, 0, {{"N", 1000}});
  EXPECT_DOUBLE_EQ(f32.min_bytes, 3 * 1000 * 4);
  EXPECT_EQ(f32.flops, 0);
  EXPECT_EQ(f32.flops_dtype, "");
  WorkEstimate f16 = Estimate(task, 1, {{"N", 1000}});
  EXPECT_DOUBLE_EQ(f16.min_bytes, 3 * 1000 * 2);
}

TEST(RooflineWork, BroadcastInputCountsItsDeclaredElementsOnly) {
  Task task = MakeTask("out = relu(x + b)", Input("x", R"(["B", "N"])") + Input("b", R"(["N"])"),
                       "[[outputs]]\nname = \"out\"\n", "{B = 1, N = 1}");
  WorkEstimate w = Estimate(task, 0, {{"B", 64}, {"N", 4096}});
  EXPECT_DOUBLE_EQ(w.min_bytes, (64.0 * 4096 + 4096 + 64.0 * 4096) * 4);
}

TEST(RooflineWork, ReductionWritesOnlyTheReducedOutput) {
  Task task = MakeTask("out = x.sum(dim=1)", Input("x", R"(["R", "C"])"), "[[outputs]]\nname = \"out\"\n",
                       "{R = 1, C = 1}");
  WorkEstimate w = Estimate(task, 0, {{"R", 7}, {"C", 1000}});
  EXPECT_DOUBLE_EQ(w.min_bytes, (7.0 * 1000 + 7) * 4);
  EXPECT_EQ(w.flops, 0);
}

TEST(RooflineWork, MatmulFlopsAreTwoMNKIncludingBatch) {
  Task task = MakeTask("out = a @ b", Input("a", R"(["B", "M", "K"])") + Input("b", R"(["K", "N"])"),
                       "[[outputs]]\nname = \"out\"\n", "{B = 1, M = 1, K = 1, N = 1}", R"("f16", "f32")");
  WorkEstimate w = Estimate(task, 0, {{"B", 3}, {"M", 128}, {"K", 64}, {"N", 32}});
  EXPECT_DOUBLE_EQ(w.flops, 2.0 * 3 * 128 * 32 * 64);
  EXPECT_EQ(w.flops_dtype, "f16");
  EXPECT_DOUBLE_EQ(w.min_bytes, (3.0 * 128 * 64 + 64 * 32 + 3 * 128 * 32) * 2);
  EXPECT_EQ(Estimate(task, 1, {{"B", 1}, {"M", 2}, {"K", 3}, {"N", 4}}).flops_dtype, "f32");
}

TEST(RooflineWork, DotProductAndTwoMatmulsAddUp) {
  Task dot = MakeTask("out = x @ y", Input("x", R"(["K"])") + Input("y", R"(["K"])"),
                      "[[outputs]]\nname = \"out\"\n", "{K = 1}");
  EXPECT_DOUBLE_EQ(Estimate(dot, 0, {{"K", 500}}).flops, 2.0 * 500);
  Task chain = MakeTask("out = (a @ b) @ c", Input("a", R"(["M", "K"])") + Input("b", R"(["K", "N"])") +
                                                  Input("c", R"(["N", "P"])"),
                        "[[outputs]]\nname = \"out\"\n", "{M = 1, K = 1, N = 1, P = 1}");
  WorkEstimate w = Estimate(chain, 0, {{"M", 10}, {"K", 20}, {"N", 30}, {"P", 40}});
  EXPECT_DOUBLE_EQ(w.flops, 2.0 * 10 * 30 * 20 + 2.0 * 10 * 40 * 30);
}

TEST(RooflineWork, InPlaceOutputIsReadOnceAndWrittenOnce) {
  const std::string inputs = Input("x", R"(["N"])") + Input("y", R"(["N"])");
  Task in_place = MakeTask("x2 = x + y", inputs, "[[outputs]]\nname = \"x2\"\ninplace = \"x\"\n", "{N = 1}");
  Task out_of_place = MakeTask("x2 = x + y", inputs, "[[outputs]]\nname = \"x2\"\n", "{N = 1}");
  WorkEstimate a = Estimate(in_place, 0, {{"N", 100}});
  EXPECT_DOUBLE_EQ(a.min_bytes, 3 * 100 * 4);  // read x, read y, write x
  EXPECT_DOUBLE_EQ(a.min_bytes, Estimate(out_of_place, 0, {{"N", 100}}).min_bytes);
}

// Declared traffic (task.h: InputRead, OutputWrite) on a formula task: the
// masked_fill_ shape, an in-place x overwritten where a mask is set.
TEST(RooflineWork, DeclaredReadAndWriteLowerTheInPlaceFloor) {
  const std::string mask = Input("m", R"(["N"])", "bool");
  auto masked_fill = [&](const std::string& x_extra, const std::string& out_extra) {
    return MakeTask("x2 = where(m, 0, x)", Input("x", R"(["N"])") + x_extra + mask,
                    "[[outputs]]\nname = \"x2\"\ninplace = \"x\"\n" + out_extra, "{N = 1}");
  };
  const Bindings n{{"N", 100}};
  // Default: read x, read the mask, write x.
  EXPECT_DOUBLE_EQ(Estimate(masked_fill("", ""), 0, n).min_bytes, 100 * 4 + 100 * 1 + 100 * 4);
  // read = "none" on the in-place input drops its read only; the write stays.
  EXPECT_DOUBLE_EQ(Estimate(masked_fill("read = \"none\"\n", ""), 0, n).min_bytes, 100 * 1 + 100 * 4);
  // write = "partial" drops the write too: only the mask must be read.
  EXPECT_DOUBLE_EQ(Estimate(masked_fill("read = \"none\"\n", "write = \"partial\"\n"), 0, n).min_bytes, 100 * 1);
  // Spelled-out defaults are the defaults.
  EXPECT_DOUBLE_EQ(Estimate(masked_fill("read = \"all\"\n", "write = \"all\"\n"), 0, n).min_bytes,
                   Estimate(masked_fill("", ""), 0, n).min_bytes);
}

TEST(RooflineWork, ReadOutputCountsTheSmallerOfInputAndFirstOutput) {
  // x declared gathered into a smaller output: as many elements as the output
  // has. (The formula language has no select; a sum stands in for the shapes,
  // and the estimate trusts the declaration.)
  Task row = MakeTask("out = x.sum(dim=1)", Input("x", R"(["R", "C"])") + "read = \"output\"\n",
                      "[[outputs]]\nname = \"out\"\n", "{R = 1, C = 1}");
  EXPECT_DOUBLE_EQ(Estimate(row, 0, {{"R", 7}, {"C", 1000}}).min_bytes, (7.0 + 7) * 4);
  // An input smaller than the output is read in full, no more.
  Task bias = MakeTask("out = x + b", Input("x", R"(["R", "C"])") + Input("b", R"(["C"])") + "read = \"output\"\n",
                       "[[outputs]]\nname = \"out\"\n", "{R = 1, C = 1}");
  EXPECT_DOUBLE_EQ(Estimate(bias, 0, {{"R", 7}, {"C", 1000}}).min_bytes, (7.0 * 1000 + 1000 + 7 * 1000) * 4);
}

// The module path (EstimateTaskWork without a formula) honours the same
// declarations; the module file exists only because a task must name one.
class RooflineModuleWork : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("anvil-roofline-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "m.py") << "import torch\nclass Model(torch.nn.Module):\n"
                                    "    def forward(self, *args):\n        return args[0]\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Variant 0 of a module task (T = f32) with the given [[inputs]] and [[outputs]].
  WorkEstimate Work(const std::string& inputs_outputs, const Bindings& b) {
    const std::string text = "name = \"t\"\n[reference]\nmodule = \"m.py\"\n[types]\nT = [\"f32\", \"f16\"]\n" +
                             inputs_outputs + "[correctness]\nshapes = [{R = 1, C = 1, B = 1}]\n";
    auto task = ParseTask(text, (dir_ / "t.toml").string());
    EXPECT_TRUE(task.ok()) << task.status().message() << "\n" << text;
    if (!task.ok()) return {};
    auto work = EstimateTaskWork(*task, task->Variants().at(0), b);
    EXPECT_TRUE(work.ok()) << work.status().message();
    return work.ok() ? *work : WorkEstimate{};
  }
  std::filesystem::path dir_;
};

TEST_F(RooflineModuleWork, FillInPlaceCountsOnlyTheWrite) {
  const std::string out = "[[outputs]]\nname = \"out\"\ninplace = \"x\"\n";
  const Bindings b{{"R", 64}, {"C", 100}};
  EXPECT_DOUBLE_EQ(Work(Input("x", R"(["R", "C"])") + out, b).min_bytes, 2 * 64 * 100 * 4);  // default
  EXPECT_DOUBLE_EQ(Work(Input("x", R"(["R", "C"])") + "read = \"none\"\n" + out, b).min_bytes, 64 * 100 * 4);
}

TEST_F(RooflineModuleWork, ShapeOnlyAndGatheredInputs) {
  const Bindings b{{"R", 64}, {"B", 3}, {"C", 100}};
  // zeros_like: x gives the shape only.
  const std::string like = "[[outputs]]\nname = \"out\"\ndtype = \"T\"\nshape = [\"R\", \"C\"]\n";
  EXPECT_DOUBLE_EQ(Work(Input("x", R"(["R", "C"])") + "read = \"none\"\n" + like, b).min_bytes, 64 * 100 * 4);
  // select(x, 1, i): R*C of the R*B*C elements, then R*C written.
  const std::string sel = "[[outputs]]\nname = \"out\"\ndtype = \"T\"\nshape = [\"R\", \"C\"]\n";
  EXPECT_DOUBLE_EQ(Work(Input("x", R"(["R", "B", "C"])") + "read = \"output\"\n" + sel, b).min_bytes,
                   2 * 64 * 100 * 4);
  EXPECT_DOUBLE_EQ(Work(Input("x", R"(["R", "B", "C"])") + sel, b).min_bytes, (3 + 1) * 64 * 100 * 4);  // default
  // An in-place output written only in part (index_put_ with a row mask):
  // the mask and the values are read, nothing is counted as written.
  const std::string put = Input("x", R"(["R", "C"])") + "read = \"none\"\n" + Input("mask", R"(["R"])", "bool") +
                          Input("values", R"(["C"])") +
                          "[[outputs]]\nname = \"out\"\ninplace = \"x\"\nwrite = \"partial\"\n";
  EXPECT_DOUBLE_EQ(Work(put, b).min_bytes, 64 * 1 + 100 * 4);
}

TEST(RooflineWork, UnboundSymbolIsNamed) {
  Task task = MakeTask("out = relu(x)", Input("x", R"(["N"])"), "[[outputs]]\nname = \"out\"\n", "{N = 1}");
  DTypeVariant v = task.Variants()[0];
  auto graph = CompileTaskGraph(task, v);
  ASSERT_TRUE(graph.ok());
  auto work = EstimateWork(task, *graph, v, {{"M", 3}});
  ASSERT_FALSE(work.ok());
  EXPECT_EQ(work.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(work.status().message().find("N"), std::string::npos) << work.status().message();
}

TEST(RooflineWork, GraphOfAnotherVariantIsRefused) {
  Task task = MakeTask("out = relu(x)", Input("x", R"(["N"])"), "[[outputs]]\nname = \"out\"\n", "{N = 1}");
  auto graph = CompileTaskGraph(task, task.Variants()[0]);
  ASSERT_TRUE(graph.ok());
  auto work = EstimateWork(task, *graph, task.Variants()[1], {{"N", 3}});
  ASSERT_FALSE(work.ok());
  EXPECT_EQ(work.status().code(), ErrorCode::kInternal);
}

TEST(RooflineSpeedOfLight, MemoryBoundAndComputeBound) {
  DeviceCeilings c = H100Like();
  // 3 GB at 3000 GB/s = 1 ms.
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 0, ""}, c), 1e6);
  // 7e12 f16 flops at 700 TFLOP/s = 10 ms, above the 1 ms of memory.
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 7e12, "f16"}, c), 1e7);
  // Few flops: memory dominates.
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 7e6, "f16"}, c), 1e6);
  // f32 without TF32 is much slower than f16 for the same flops.
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({0, 5e12, "f32"}, c), 1e8);
}

TEST(RooflineSpeedOfLight, MissingCeilingsDropTheirTerm) {
  DeviceCeilings c = H100Like();
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 7e12, "i32"}, c), 1e6);  // no integer peak measured
  c.copy_gbps = 0;
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 0, ""}, c), 0);
  EXPECT_DOUBLE_EQ(SpeedOfLightNs({3e9, 7e12, "f16"}, c), 1e7);
}

TEST(RooflineCeilings, JsonRoundTrip) {
  DeviceCeilings c = H100Like();
  auto back = DeviceCeilingsFromJson(nlohmann::json::parse(ToJson(c).dump()));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->device_key, c.device_key);
  EXPECT_EQ(back->device_name, c.device_name);
  EXPECT_DOUBLE_EQ(back->copy_gbps, c.copy_gbps);
  EXPECT_EQ(back->matmul_tflops, c.matmul_tflops);
  EXPECT_EQ(back->method, c.method);
  EXPECT_EQ(back->measured_at, c.measured_at);
}

TEST(RooflineCeilings, MalformedJsonIsAProtocolError) {
  nlohmann::json j = ToJson(H100Like());
  j.erase("copy_gbps");
  auto missing = DeviceCeilingsFromJson(j);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kProtocol);
  EXPECT_NE(missing.status().message().find("copy_gbps"), std::string::npos) << missing.status().message();

  j = ToJson(H100Like());
  j["matmul_tflops"]["f16"] = -1.0;
  auto negative = DeviceCeilingsFromJson(j);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("matmul_tflops.f16"), std::string::npos)
      << negative.status().message();

  j = ToJson(H100Like());
  j["device_key"] = "";
  EXPECT_FALSE(DeviceCeilingsFromJson(j).ok());
}

}  // namespace
}  // namespace anvil
