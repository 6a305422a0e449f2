// agent/reference_input: the pieces that turn a described PyTorch module into
// a task (symbols, probes, output matching, the TOML) on hand-made
// descriptions, then the whole conversion with the real describe_module.py
// on the KernelBench-style problems in tests/data/kernelbench/.
#include "agent/reference_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "task/task_file.h"

namespace anvil::agent {
namespace {

DescribedValue Tensor(const std::string& dtype, Shape shape) {
  DescribedValue v;
  v.dtype = dtype;
  v.shape = std::move(shape);
  return v;
}

DescribedValue Scalar(const std::string& type, double value) {
  DescribedValue v;
  v.is_tensor = false;
  v.scalar_type = type;
  v.number = value;
  return v;
}

std::string KernelBenchFile(const std::string& name) {
  return std::string(ANVIL_TEST_DATA_DIR) + "/data/kernelbench/" + name;
}

TEST(ReferenceInput, EqualSizesShareASymbolNamedByTheUniqueGlobal) {
  ModuleDescription d;
  d.forward_params = {"A", "B"};
  d.inputs = {Tensor("f32", {1024, 4096}), Tensor("f32", {4096, 2048})};
  d.globals = {{"M", 1024}, {"K", 4096}, {"N", 2048}};
  SymbolicInputs s = AssignSymbols(d);
  EXPECT_EQ(s.symbols, (std::vector<std::string>{"M", "K", "N"}));
  EXPECT_EQ(ShapeToString(s.tensor_shapes[0]), "[M, K]");
  EXPECT_EQ(ShapeToString(s.tensor_shapes[1]), "[K, N]");
  EXPECT_EQ(s.sizes.at("N"), 2048);
}

TEST(ReferenceInput, AmbiguousGlobalsAndSizeOneDimsAreNotNames) {
  ModuleDescription d;
  d.forward_params = {"x", "y"};
  d.inputs = {Tensor("f32", {16, 256}), Tensor("f32", {16, 1})};
  d.globals = {{"a", 256}, {"b", 256}, {"batch", 16}};  // two globals of 256
  SymbolicInputs s = AssignSymbols(d);
  ASSERT_EQ(s.symbols.size(), 2u);
  EXPECT_EQ(s.symbols[0], "batch");
  EXPECT_EQ(s.symbols[1], "D1");
  EXPECT_EQ(ShapeToString(s.tensor_shapes[1]), "[batch, 1]");
  // A global named like an input does not name a symbol.
  d.globals = {{"x", 16}};
  EXPECT_EQ(AssignSymbols(d).symbols[0], "D0");
}

TEST(ReferenceInput, ProbesGiveEverySymbolItsOwnValueAndNeighboursDifferEverywhere) {
  ModuleDescription d;
  d.inputs = {Tensor("f32", {16, 32, 64})};
  SymbolicInputs s = AssignSymbols(d);
  std::vector<Bindings> probes = OutputProbes(s);
  ASSERT_GE(probes.size(), 2u);
  for (const Bindings& p : probes) {
    std::set<int64_t> values;
    for (const auto& [sym, v] : p) {
      EXPECT_GE(v, 2) << sym;
      values.insert(v);
    }
    EXPECT_EQ(values.size(), p.size()) << BindingsToString(p);
  }
  for (const std::string& sym : s.symbols) EXPECT_NE(probes[0].at(sym), probes[1].at(sym)) << sym;
}

TEST(ReferenceInput, OutputDimsMatchSymbolsOrStayConstant) {
  const std::vector<std::string> symbols = {"B", "N"};
  Bindings a = {{"B", 2}, {"N", 4}}, b = {{"B", 3}, {"N", 5}};
  auto shape = MatchOutputShape({2, 1, 4}, a, {3, 1, 5}, b, symbols, "out");
  ASSERT_TRUE(shape.ok()) << shape.status().message();
  EXPECT_EQ(ShapeToString(*shape), "[B, 1, N]");
  // A flatten (B * N) is neither.
  auto flat = MatchOutputShape({8}, a, {15}, b, symbols, "out");
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.status().message().find("write this task by hand"), std::string::npos) << flat.status().message();
  auto rank = MatchOutputShape({2}, a, {3, 5}, b, symbols, "out");
  EXPECT_FALSE(rank.ok());
}

TEST(ReferenceInput, CorrectnessCandidatesAreSmallAndDistinct) {
  ModuleDescription d;
  d.inputs = {Tensor("f32", {16, 16384})};
  d.globals = {{"batch_size", 16}, {"dim", 16384}};
  SymbolicInputs s = AssignSymbols(d);
  std::vector<Bindings> c = CorrectnessCandidates(s);
  ASSERT_GE(c.size(), 3u);
  EXPECT_EQ(c[0], (Bindings{{"batch_size", 1}, {"dim", 256}}));          // / 64, rounded up
  EXPECT_EQ(c[1].at("dim") % 2, 1);                                      // odd
  EXPECT_EQ(c[2], (Bindings{{"batch_size", 1}, {"dim", 1}}));            // size 1
  for (size_t i = 0; i < c.size(); ++i)
    for (size_t j = i + 1; j < c.size(); ++j) EXPECT_NE(c[i], c[j]);
}

TEST(ReferenceInput, TheRenderedTaskLoadsWithAttributesOutputsAndCases) {
  const std::string dir = std::filesystem::temp_directory_path() / "anvil-render-test";
  std::filesystem::create_directories(dir);
  const std::string module = dir + "/model.py";
  std::ofstream(module) << "import torch\n";
  ModuleTaskSpec spec;
  spec.name = "kb.sum";
  spec.description = "a \"quoted\" description";
  spec.module = "model.py";
  spec.source_note = "test";
  spec.inputs = {{"x", "f32", {Dim::Symbol("B"), Dim::Symbol("N")}}};
  spec.attrs = {{"scale", "f64", 2.0}, {"k", "i64", 3}, {"flag", "bool", 1}};
  spec.outputs = {{"out", "f32", {Dim::Symbol("B"), Dim::Fixed(1)}}};
  spec.correctness = {{{"B", 1}, {"N", 4}}, {{"B", 3}, {"N", 5}}};
  spec.performance = {{"B", 16}, {"N", 16384}};
  const std::string text = RenderModuleTask(spec);
  Result<Task> task = ParseTask(text, dir + "/task.toml");
  ASSERT_TRUE(task.ok()) << task.status().message() << "\n" << text;
  EXPECT_EQ(task->description, "a \"quoted\" description");
  ASSERT_EQ(task->attrs.size(), 3u);
  EXPECT_EQ(task->attrs[0].value.dtype, DType::kF64);
  EXPECT_DOUBLE_EQ(task->attrs[0].value.f, 2.0);
  EXPECT_EQ(task->attrs[1].value.i, 3);
  EXPECT_EQ(task->attrs[2].value.i, 1);
  EXPECT_EQ(ShapeToString(*task->outputs[0].shape), "[B, 1]");
  EXPECT_EQ(task->correctness.shapes.size(), 2u);
  EXPECT_EQ(task->performance.shapes[0].at("N"), 16384);
  // N is in the input and in no output: the module reduced over it.
  ASSERT_TRUE(task->compare.reduction_dims.has_value());
  EXPECT_EQ(ShapeToString(*task->compare.reduction_dims), "[N]");
  // With every input dim kept by an output, the default (1) stays.
  spec.outputs = {{"out", "f32", {Dim::Symbol("B"), Dim::Symbol("N")}}};
  Result<Task> elementwise = ParseTask(RenderModuleTask(spec), dir + "/task.toml");
  ASSERT_TRUE(elementwise.ok()) << elementwise.status().message();
  EXPECT_FALSE(elementwise->compare.reduction_dims.has_value());
  std::filesystem::remove_all(dir);
}

TEST(ReferenceInput, TaskNamesFromProblemFiles) {
  EXPECT_EQ(TaskNameForModule("/x/19_ReLU.py"), "19_relu");
  EXPECT_EQ(TaskNameForModule("2_Standard matrix+mult.py"), "2_standard_matrix_mult");
}

TEST(ReferenceInput, DescriptionErrorsBecomeInvalidInput) {
  auto d = ParseModuleDescription(R"({"error": "m.py: no get_inputs() function"})");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(d.status().message(), "m.py: no get_inputs() function");
  EXPECT_EQ(ParseModuleDescription("Traceback ...").status().code(), ErrorCode::kProtocol);
}

// --- with Python and torch -------------------------------------------------

TEST(ReferenceInputPython, MatmulKeepsItsThreeSymbolsAndSizes) {
  auto text = TaskTextFromReferenceModule(KernelBenchFile("2_Standard_matrix_multiplication_.py"),
                                          ANVIL_DEFAULT_PYTHON, "kb.matmul");
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto task = ParseTask(*text, "/nowhere/task.toml");  // the module path is absolute
  ASSERT_TRUE(task.ok()) << task.status().message() << "\n" << *text;
  EXPECT_EQ(task->inputs[0].name, "A");
  EXPECT_EQ(ShapeToString(task->inputs[0].shape), "[M, K]");
  EXPECT_EQ(ShapeToString(task->inputs[1].shape), "[K, N]");
  EXPECT_EQ(ShapeToString(*task->outputs[0].shape), "[M, N]");
  EXPECT_EQ(task->performance.shapes[0], (Bindings{{"M", 1024}, {"K", 4096}, {"N", 2048}}));
  ASSERT_TRUE(task->compare.reduction_dims.has_value());  // K is summed over
  EXPECT_EQ(ShapeToString(*task->compare.reduction_dims), "[K]");
  EXPECT_GE(task->correctness.shapes.size(), 3u);
  EXPECT_TRUE(std::filesystem::path(task->module->path).is_absolute());
}

TEST(ReferenceInputPython, AScalarInputIsAnAttributeAndKeepdimStaysOne) {
  auto text =
      TaskTextFromReferenceModule(KernelBenchFile("47_Sum_reduction_scaled.py"), ANVIL_DEFAULT_PYTHON, "kb.sum");
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto task = ParseTask(*text, "/nowhere/task.toml");
  ASSERT_TRUE(task.ok()) << task.status().message() << "\n" << *text;
  ASSERT_EQ(task->attrs.size(), 1u);
  EXPECT_EQ(task->attrs[0].name, "scale");
  EXPECT_DOUBLE_EQ(task->attrs[0].value.f, 0.5);
  EXPECT_EQ(ShapeToString(*task->outputs[0].shape), "[batch_size, 1, dim2]");
}

TEST(ReferenceInputPython, AModuleWithWeightsIsRefusedWithTheirNames) {
  auto text = TaskTextFromReferenceModule(KernelBenchFile("99_Gemm_with_Linear.py"), ANVIL_DEFAULT_PYTHON, "kb.gemm");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), ErrorCode::kInvalidInput);
  const std::string& m = text.status().message();
  EXPECT_NE(m.find("99_Gemm_with_Linear.py"), std::string::npos) << m;
  EXPECT_NE(m.find("parameter linear.weight (16384, 16384)"), std::string::npos) << m;
  EXPECT_NE(m.find("receives only the task's inputs"), std::string::npos) << m;
}

TEST(ReferenceInputPython, AMissingPythonIsAnEnvironmentErrorNamingTheFile) {
  auto text = TaskTextFromReferenceModule(KernelBenchFile("19_ReLU.py"), "/nonexistent/python3", "kb.relu");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), ErrorCode::kIo);
  EXPECT_NE(text.status().message().find("19_ReLU.py"), std::string::npos) << text.status().message();
}

}  // namespace
}  // namespace anvil::agent
