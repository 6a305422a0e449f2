#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "task/cases.h"
#include "task/task_file.h"

namespace anvil {
namespace {

const char* kSoftmax = R"toml(
name = "softmax"
formula = "out = softmax(x / t, -1)"
[types]
T = ["f32", "bf16"]
[[inputs]]
name = "x"
dtype = "T"
shape = ["R", "C"]
domain = "positive"
[[attrs]]
name = "t"
dtype = "f32"
value = 0.7
[[outputs]]
name = "out"
dtype = "T"
[correctness]
shapes = [{R = 1, C = 1}, {R = 7, C = 257}]
layouts = ["contiguous", "transposed", "strided"]
distributions = ["normal", "heavy"]
seeds = [3]
[performance]
shapes = [{R = 64, C = 1024}]
trials = 11
)toml";

TEST(TaskFile, ParsesEveryField) {
  auto t = ParseTask(kSoftmax, "t.toml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->name, "softmax");
  ASSERT_EQ(t->inputs.size(), 1u);
  EXPECT_EQ(t->inputs[0].domain.kind, ValueDomain::Kind::kPositive);
  EXPECT_EQ(ShapeToString(t->inputs[0].shape), "[R, C]");
  ASSERT_EQ(t->attrs.size(), 1u);
  EXPECT_DOUBLE_EQ(t->attrs[0].value.f, 0.7);
  EXPECT_EQ(t->attrs[0].value.dtype, DType::kF32);
  EXPECT_EQ(t->performance.trials, 11);
  EXPECT_EQ(t->performance.warmup, 3);  // default
  auto variants = t->Variants();
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].Label(), "T=f32");
  EXPECT_EQ(variants[1].input_dtypes[0], DType::kBF16);
}

TEST(TaskFile, CaseMatrixCoversEveryLayoutAndDistributionPerShape) {
  auto t = ParseTask(kSoftmax, "t.toml");
  ASSERT_TRUE(t.ok());
  auto cases = CorrectnessCases(*t);
  // 2 variants x 2 shapes x max(1 seed, 3 layouts, 2 distributions)
  ASSERT_EQ(cases.size(), 12u);
  for (int v = 0; v < 2; ++v)
    for (int s = 0; s < 2; ++s) {
      std::set<std::string> layouts, dists;
      for (const auto& c : cases)
        if (c.variant == v && c.bindings.at("C") == (s ? 257 : 1)) {
          layouts.insert(c.layout);
          dists.insert(c.distribution);
          EXPECT_EQ(c.seed, 3u);
        }
      EXPECT_EQ(layouts.size(), 3u);
      EXPECT_EQ(dists.size(), 2u);
    }
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(cases[i].index, static_cast<int>(i));
  auto perf = PerformanceCases(*t);
  ASSERT_EQ(perf.size(), 2u);
  EXPECT_EQ(perf[0].layout, "contiguous");
}

struct BadTask {
  std::string text;
  std::string message;  // must appear in the error
};

class TaskFileErrors : public ::testing::TestWithParam<BadTask> {};

TEST_P(TaskFileErrors, NameWhereAndWhat) {
  auto t = ParseTask(GetParam().text, "bad.toml");
  ASSERT_FALSE(t.ok()) << "accepted:\n" << GetParam().text;
  EXPECT_EQ(t.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(t.status().message().find(GetParam().message), std::string::npos) << t.status().message();
}

const std::string kHead = "name = \"t\"\nformula = \"out = x * 2\"\n";
const std::string kInput = "[[inputs]]\nname = \"x\"\ndtype = \"f32\"\nshape = [\"N\"]\n";
const std::string kOutput = "[[outputs]]\nname = \"out\"\n";
const std::string kCases = "[correctness]\nshapes = [{N = 4}]\n";
// An output declared the way a view must be (dtype and shape); tests add view_of.
const std::string kViewOutput = "[[outputs]]\nname = \"out\"\ndtype = \"f32\"\nshape = [\"N\"]\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, TaskFileErrors,
    ::testing::Values(
        BadTask{"name = \"t\"\nformula = ", "bad.toml:2:"},  // TOML syntax error with a position
        BadTask{"formula = \"out = x\"\n", "missing required key 'name'"},
        BadTask{"name = \"Bad Name\"\nformula = \"out = x\"\n", "bad.toml:1:8: task name may use"},
        BadTask{kHead + "[[inputs]]\nname = \"x\"\ndtype = \"f33\"\nshape = [\"N\"]\n" + kOutput + kCases,
                "bad.toml:5:9: input 'x': 'f33' is neither a dtype"},
        BadTask{kHead + "[[inputs]]\nname = \"x\"\ndtype = \"f32\"\nshape = [\"N\", -3]\n" + kOutput + kCases,
                "a fixed dim must be >= 0"},
        BadTask{kHead + kInput + kOutput, "needs a [correctness] table"},
        BadTask{kHead + kInput + kOutput + "[correctness]\nshapes = [{M = 4}]\n",
                "shape symbol 'N' has no size in this case"},
        BadTask{kHead + kInput + kOutput + kCases + "layouts = [\"diagonal\"]\n", "'layouts' entries must be one of"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"y\"\n" + kCases, "y"},
        BadTask{"name = \"t\"\nformula = \"out = sigmod(x)\"\n" + kInput + kOutput + kCases,
                "did you mean 'sigmoid'"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"out\"\ndtype = \"f16\"\n" + kCases,
                "output 'out' is declared f16 but the formula computes f32"},
        BadTask{kHead + kInput + kOutput + kCases + "[compare]\nmode = \"fuzzy\"\n", "allclose, exact, unordered or statistical"},
        BadTask{kHead + kInput + "[[attrs]]\nname = \"k\"\ndtype = \"i32\"\nvalue = 1.5\n" + kOutput + kCases,
                "attribute 'k' is i32: needs an integer"},
        BadTask{kHead + "[[inputs]]\nname = \"x\"\ndtype = \"i32\"\nshape = [\"N\"]\ndomain = \"unit\"\n" + kOutput +
                    kCases,
                "input 'x': domain unit (strictly between 0 and 1) has no values for dtype i32"},
        BadTask{kHead + "[[inputs]]\nname = \"x\"\ndtype = \"f16\"\nshape = [\"N\"]\ndomain = [0, 1e6]\n" + kOutput +
                    kCases,
                "exceeds the finite range for dtype f16"},
        BadTask{kHead + kInput + "[[inputs]]\nname = \"x\"\ndtype = \"f32\"\nshape = [\"N\"]\n" + kOutput + kCases,
                "input name 'x' is used twice"},
        BadTask{"name = \"t\"\n" + kInput + kOutput + kCases, "missing the reference: formula = "},
        BadTask{kHead + "[reference]\nmodule = \"m.py\"\n" + kInput + kOutput + kCases,
                "a task has one reference: a formula or a [reference] module"},
        BadTask{"name = \"t\"\n[reference]\nmodule = \"no_such_model.py\"\n" + kInput + kOutput + kCases,
                "cannot open the reference module"},
        BadTask{kHead + kInput + kOutput + kCases + "[compare]\nreduction_length = [\"N\"]\n",
                "reduction_length is for module references"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"out\"\nshape = [\"N\", 2]\n" + kCases,
                "output 'out' is declared [N, 2] but the formula computes [N]"},
        // Declared traffic (task.h: InputRead, OutputWrite): a closed set of words.
        BadTask{kHead + kInput + "read = \"some\"\n" + kOutput + kCases,
                "bad.toml:7:8: input 'x': unknown read = \"some\"; expected one of \"all\", \"none\", \"output\""},
        BadTask{kHead + kInput + "read = false\n" + kOutput + kCases,
                "input 'x': 'read' must be a string, one of \"all\", \"none\", \"output\""},
        BadTask{kHead + kInput + kOutput + "write = \"most\"\n" + kCases,
                "output 'out': unknown write = \"most\"; expected one of \"all\", \"partial\""},
        BadTask{kHead + kInput + kOutput + "write = \"partial\"\n" + kCases,
                "output 'out': write = \"partial\" is for an in-place output"},
        // View outputs (task.h: TaskOutput::view_of).
        BadTask{kHead + kInput + kViewOutput + "view_of = \"z\"\n" + kCases,
                "output 'out': view_of names the input this output is a view of"},
        BadTask{kHead + kInput + kViewOutput + "inplace = \"x\"\nview_of = \"x\"\n" + kCases,
                "output 'out': view_of and inplace exclude each other"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"out\"\ndtype = \"f16\"\nshape = [\"N\"]\nview_of = \"x\"\n" +
                    kCases,
                "output 'out': a view has its input's dtype: declare dtype = \"f32\" like input 'x'"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"out\"\nshape = [\"N\"]\nview_of = \"x\"\n" + kCases,
                "a view has its input's dtype"},
        BadTask{kHead + kInput + "[[outputs]]\nname = \"out\"\ndtype = \"f32\"\nview_of = \"x\"\n" + kCases,
                "output 'out': a view output needs its shape declared"},
        BadTask{kHead + kInput + kViewOutput + "view_of = \"x\"\n" + kCases +
                    "[compare]\nmode = \"statistical\"\n",
                "output 'out' is a view (view_of): a view op computes nothing random"},
        BadTask{kHead + kInput + kViewOutput + "view_of = \"x\"\n" + kCases + "[performance]\nshapes = [{N = 8}]\n",
                "output 'out' is a view (view_of = \"x\"): a view moves no data, so the task is not timed"}));

// A view output parses with its input's name, and the task knows it has one.
TEST(TaskFile, ViewOfNamesTheViewedInput) {
  auto t = ParseTask(kHead + kInput + kViewOutput + "view_of = \"x\"\n" + kCases, "t.toml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(t->outputs[0].view_of.has_value());
  EXPECT_EQ(*t->outputs[0].view_of, "x");
  EXPECT_TRUE(t->HasViewOutputs());
  auto plain = ParseTask(kHead + kInput + kOutput + kCases, "t.toml");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_FALSE(plain->HasViewOutputs());
}

TEST(TaskFile, DeclaredTrafficDefaultsToAllAndIsParsed) {
  auto plain = ParseTask(kHead + kInput + kOutput + kCases, "t.toml");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->inputs[0].read, InputRead::kAll);
  EXPECT_EQ(plain->outputs[0].write, OutputWrite::kAll);
  auto declared = ParseTask("name = \"t\"\nformula = \"out = x * 2 + y\"\n" + kInput + "read = \"none\"\n" +
                                "[[inputs]]\nname = \"y\"\ndtype = \"f32\"\nshape = [\"N\"]\nread = \"output\"\n" +
                                "[[outputs]]\nname = \"out\"\ninplace = \"x\"\nwrite = \"partial\"\n" + kCases,
                            "t.toml");
  ASSERT_TRUE(declared.ok()) << declared.status().message();
  EXPECT_EQ(declared->inputs[0].read, InputRead::kNone);
  EXPECT_EQ(declared->inputs[1].read, InputRead::kOutput);
  EXPECT_EQ(declared->outputs[0].write, OutputWrite::kPartial);
}

// A task whose reference is a PyTorch module file (task.h, ModuleReference):
// the file is read relative to the task file and outputs need declarations.
class ModuleTaskFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("anvil-module-task-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "model.py") << "import torch\nclass Model(torch.nn.Module):\n"
                                        "    def forward(self, x):\n        return x.sum(-1)\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Result<Task> Parse(const std::string& outputs, const std::string& extra = "") {
    const std::string text = std::string("name = \"rowsum\"\n[reference]\nmodule = \"model.py\"\n") +
                             "[[inputs]]\nname = \"x\"\ndtype = \"f32\"\nshape = [\"R\", \"N\"]\n" + outputs +
                             "[correctness]\nshapes = [{R = 3, N = 4}]\n" + extra;
    return ParseTask(text, (dir_ / "task.toml").string());
  }
  std::filesystem::path dir_;
};

TEST_F(ModuleTaskFile, ReadsTheModuleBesideTheTaskFile) {
  auto t = Parse("[[outputs]]\nname = \"out\"\ndtype = \"f32\"\nshape = [\"R\"]\n",
                 "[compare]\nreduction_length = [\"N\"]\n");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(t->module.has_value());
  EXPECT_EQ(t->module->path, (dir_ / "model.py").string());
  EXPECT_EQ(t->module->class_name, "Model");
  EXPECT_NE(t->module->source.find("x.sum(-1)"), std::string::npos);
  EXPECT_TRUE(t->formula.empty());
  ASSERT_TRUE(t->compare.reduction_dims.has_value());
  EXPECT_EQ(ShapeToString(*t->compare.reduction_dims), "[N]");
}

TEST_F(ModuleTaskFile, OutputsMustDeclareDtypeAndShape) {
  auto no_shape = Parse("[[outputs]]\nname = \"out\"\ndtype = \"f32\"\n");
  ASSERT_FALSE(no_shape.ok());
  EXPECT_NE(no_shape.status().message().find("output 'out' needs a shape"), std::string::npos)
      << no_shape.status().message();
  auto no_dtype = Parse("[[outputs]]\nname = \"out\"\nshape = [\"R\"]\n");
  ASSERT_FALSE(no_dtype.ok());
  EXPECT_NE(no_dtype.status().message().find("output 'out' needs a dtype"), std::string::npos)
      << no_dtype.status().message();
  auto unbound = Parse("[[outputs]]\nname = \"out\"\ndtype = \"f32\"\nshape = [\"K\"]\n");
  ASSERT_FALSE(unbound.ok());
  EXPECT_NE(unbound.status().message().find("output 'out'"), std::string::npos) << unbound.status().message();
}

// A factory (arange, zeros) has no tensor input: allowed with a module
// reference, whose forward gets the sizes as keywords; the case matrix then
// has one layout and one distribution, and listing more is refused.
TEST_F(ModuleTaskFile, ATaskWithoutInputsHasOneLayoutAndDistribution) {
  const std::string head = "name = \"zeros\"\n[reference]\nmodule = \"model.py\"\n"
                           "[[outputs]]\nname = \"out\"\ndtype = \"f32\"\nshape = [\"N\"]\n"
                           "[correctness]\nshapes = [{N = 0}, {N = 5}]\nseeds = [1]\n";
  auto t = ParseTask(head, (dir_ / "task.toml").string());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->inputs.empty());
  EXPECT_EQ(t->correctness.layouts, std::vector<std::string>{"contiguous"});
  EXPECT_EQ(t->correctness.distributions, std::vector<std::string>{"normal"});
  EXPECT_EQ(CorrectnessCases(*t).size(), 2u);

  auto with_layouts = ParseTask(head + "layouts = [\"contiguous\", \"strided\"]\n", (dir_ / "task.toml").string());
  ASSERT_FALSE(with_layouts.ok());
  EXPECT_NE(with_layouts.status().message().find("the task has no [[inputs]]: there is nothing to lay out or draw, "
                                                 "so remove 'layouts'"),
            std::string::npos)
      << with_layouts.status().message();
}

TEST(TaskFile, AFormulaTaskNeedsAnInput) {
  auto t = ParseTask(kHead + kOutput + kCases, "bad.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("a formula task needs at least one [[inputs]] table"), std::string::npos)
      << t.status().message();
}

TEST(TaskFile, FindTaskFilesReportsBrokenFilesBesideGoodOnes) {
  auto entries = FindTaskFiles(std::string(ANVIL_TEST_DATA_DIR) + "/exploits");
  ASSERT_GE(entries.size(), 2u);
  for (const auto& e : entries) EXPECT_TRUE(e.task.ok()) << e.path << ": " << e.task.status().message();
}

}  // namespace
}  // namespace anvil
