// OpKinds: the kinds of computation a task's formula does (task/op_kinds.h),
// on small formulas for each rule and on the shipped task files.
#include "task/op_kinds.h"

#include <regex>

#include <gtest/gtest.h>

#include "task/task_file.h"

namespace anvil {
namespace {

using Kinds = std::vector<std::string>;

// A task over x[R, C] of dtype T (f32, f16), and w[C] and an attribute t
// when the formula names them (a task may not declare what it does not use).
Task TaskWithFormula(const std::string& formula) {
  const bool uses_w = std::regex_search(formula, std::regex(R"(\bw\b)"));
  const bool uses_t = std::regex_search(formula, std::regex(R"(\bt\b)"));
  std::string text = "name = \"k\"\nformula = \"\"\"" + formula + "\"\"\"\n" + R"toml(
[types]
T = ["f32", "f16"]
[[inputs]]
name = "x"
dtype = "T"
shape = ["R", "C"]
)toml";
  if (uses_w) text += "[[inputs]]\nname = \"w\"\ndtype = \"T\"\nshape = [\"C\"]\n";
  if (uses_t) text += "[[attrs]]\nname = \"t\"\ndtype = \"f32\"\nvalue = 0.5\n";
  text += "[[outputs]]\nname = \"out\"\n[correctness]\nshapes = [{R = 2, C = 3}]\n";
  auto task = ParseTask(text, "op_kinds.toml");
  EXPECT_TRUE(task.ok()) << formula << ": " << task.status().message();
  return task.ok() ? *task : Task{};
}

struct Case {
  const char* formula;
  Kinds kinds;
};

class OpKindsTest : public ::testing::TestWithParam<Case> {};

TEST_P(OpKindsTest, KindsOfFormula) { EXPECT_EQ(OpKinds(TaskWithFormula(GetParam().formula)), GetParam().kinds); }

INSTANTIATE_TEST_SUITE_P(
    Formulas, OpKindsTest,
    ::testing::Values(
        Case{"out = relu(x) + w", {"elementwise"}},
        Case{"out = where(x > 0, x, w)", {"elementwise"}},
        Case{"out = sum(x, -1)", {"reduction"}},
        Case{"out = logsumexp(x, -1)", {"reduction"}},
        Case{"out = argmax(x, -1)", {"reduction", "index"}},
        Case{"out = softmax(x, -1)", {"softmax"}},
        Case{"out = log_softmax(x / t, -1)", {"elementwise", "softmax"}},
        Case{"out = gelu(x @ w)", {"elementwise", "matmul"}},
        // Norms: data scaled by a root of a statistic.
        Case{"out = x * rsqrt(mean(x * x, -1, keepdim=True) + t) * w", {"elementwise", "reduction", "norm"}},
        Case{"mu = mean(x, -1, keepdim=True)\nrstd = rsqrt(var(x, -1, keepdim=True, correction=0) + t)\n"
             "out = (x - mu) * rstd * w",
             {"elementwise", "reduction", "norm"}},
        Case{"out = x / clamp(sqrt(sum(x * x, -1, keepdim=True)), min=t)", {"elementwise", "reduction", "norm"}},
        Case{"out = x / std(x, -1, keepdim=True)", {"elementwise", "reduction", "norm"}},
        // A root alone is a statistic, not a norm; statistics given as inputs are elementwise.
        Case{"out = sqrt(sum(x * x, -1))", {"elementwise", "reduction"}},
        Case{"out = std(x, -1) * 2.0", {"elementwise", "reduction"}},
        Case{"out = (x - w) * rsqrt(w + t)", {"elementwise"}}),
    [](const ::testing::TestParamInfo<Case>& info) { return "formula" + std::to_string(info.index); });

std::string Shipped(const std::string& relative) { return std::string(ANVIL_TEST_DATA_DIR) + "/../" + relative; }

TEST(OpKindsFiles, ShippedTasks) {
  struct File {
    const char* path;
    Kinds kinds;
  };
  for (const File& f : {File{"tasks/fused/layernorm.toml", {"elementwise", "reduction", "norm"}},
                        File{"tasks/fused/rmsnorm.toml", {"elementwise", "reduction", "norm"}},
                        File{"tasks/fused/batchnorm_infer.toml", {"elementwise"}},
                        File{"tasks/fused/softmax_temperature.toml", {"elementwise", "softmax"}},
                        File{"tasks/gemm_epilogue/linear_bias_gelu.toml", {"elementwise", "matmul"}},
                        File{"examples/rmsnorm/task_module.toml", {"module"}}}) {
    auto task = LoadTaskFile(Shipped(f.path));
    ASSERT_TRUE(task.ok()) << f.path << ": " << task.status().message();
    EXPECT_EQ(OpKinds(*task), f.kinds) << f.path;
  }
}

TEST(OpKindsFiles, ModuleReferenceWithoutFileIsModule) {
  Task task;
  task.module = ModuleReference{"model.py", "class Model: ...", "Model"};
  EXPECT_EQ(OpKinds(task), Kinds{"module"});
}

}  // namespace
}  // namespace anvil
