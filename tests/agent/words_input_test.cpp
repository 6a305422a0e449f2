// agent/words_input: a task from plain words, with `complete` a function
// returning scripted replies (TaskFromWords's real interface; the stand-in
// server tests cover the HTTP side). Checks what the model is sent, that a
// reply's task is parsed and labelled as model-written, that an error goes
// back to the model, and the module form.
#include "agent/words_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "task/task_file.h"

namespace anvil::agent {
namespace {

// Replies in order; records every request.
struct Script {
  explicit Script(std::vector<std::string> scripted) : replies(std::move(scripted)) {}
  std::vector<std::string> replies;
  std::vector<llm::ChatRequest> requests;

  std::function<Result<llm::ChatResponse>(const llm::ChatRequest&)> Fn() {
    return [this](const llm::ChatRequest& request) -> Result<llm::ChatResponse> {
      requests.push_back(request);
      if (requests.size() > replies.size()) return Unavailable("the script has no more replies");
      llm::ChatResponse r;
      r.text = replies[requests.size() - 1];
      r.model = "deepseek-chat";
      return r;
    };
  }
};

const char* kSoftmaxTask = R"TOML(name = "softmax_temp"
description = "Row softmax with temperature t."
formula = "out = softmax(x / t, -1)"

[types]
T = ["f32", "f16", "bf16"]

[[inputs]]
name = "x"
dtype = "T"
shape = ["R", "C"]

[[attrs]]
name = "t"
dtype = "f32"
value = 0.7

[[outputs]]
name = "out"

[correctness]
shapes = [{R = 1, C = 1}, {R = 0, C = 8}, {R = 7, C = 1000}]

[performance]
shapes = [{R = 2048, C = 1024}]
)TOML";

std::string Fenced(const std::string& tag, const std::string& body) { return "```" + tag + "\n" + body + "```\n"; }

TEST(WordsInput, AFormulaTaskIsParsedAndLabelledAsTheModels) {
  Script script({"Here is the task.\n\n" + Fenced("toml", kSoftmaxTask)});
  auto task = TaskFromWords("row-wise softmax with temperature t", "triton", script.Fn());
  ASSERT_TRUE(task.ok()) << task.status().message();
  EXPECT_EQ(task->author, "model:deepseek-chat");
  EXPECT_TRUE(task->module_source.empty());
  EXPECT_TRUE(task->module_file_name.empty());
  auto parsed = ParseTask(task->task_text, "words.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->reference_author, "model:deepseek-chat");
  EXPECT_EQ(parsed->formula, "out = softmax(x / t, -1)");
  // What the model was told: the words, the backend, the formula language.
  ASSERT_EQ(script.requests.size(), 1u);
  EXPECT_NE(script.requests[0].messages[0].content.find("row-wise softmax with temperature t"), std::string::npos);
  EXPECT_NE(script.requests[0].messages[0].content.find("triton"), std::string::npos);
  EXPECT_NE(script.requests[0].system.find("# Formula language"), std::string::npos);
}

TEST(WordsInput, AnInvalidTaskGoesBackWithItsErrorAndTheFixedOneIsTaken) {
  std::string broken = kSoftmaxTask;
  broken.replace(broken.find("softmax(x / t, -1)"), 18, "softmax(x / tt, -1)");  // an unknown name
  Script script({Fenced("toml", broken), Fenced("toml", kSoftmaxTask)});
  auto task = TaskFromWords("softmax", "cpu", script.Fn());
  ASSERT_TRUE(task.ok()) << task.status().message();
  ASSERT_EQ(script.requests.size(), 2u);
  const auto& second = script.requests[1].messages;
  ASSERT_EQ(second.size(), 3u);  // the words, the broken reply, the error
  EXPECT_EQ(second[1].role, llm::Role::kAssistant);
  EXPECT_NE(second[2].content.find("could not load"), std::string::npos);
  EXPECT_NE(second[2].content.find("tt"), std::string::npos) << second[2].content;  // the parse error names it
  EXPECT_NE(second[2].content.find("task.toml:"), std::string::npos) << second[2].content;  // no scratch path
  EXPECT_EQ(second[2].content.find("anvil-words-"), std::string::npos) << second[2].content;
}

TEST(WordsInput, ThreeBadRepliesAreAnErrorNamingTheLastProblem) {
  Script script({"no code at all", "still none", "```toml\nname = \"x\"\n```\n"});
  auto task = TaskFromWords("softmax", "cpu", script.Fn());
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(script.requests.size(), 3u);
  EXPECT_NE(task.status().message().find("3 replies"), std::string::npos) << task.status().message();
  EXPECT_NE(task.status().message().find("missing the reference"), std::string::npos) << task.status().message();
}

TEST(WordsInput, AProviderErrorIsReturnedAsItIs) {
  Script script(std::vector<std::string>{});
  auto task = TaskFromWords("softmax", "cpu", script.Fn());
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().code(), ErrorCode::kUnavailable);
}

TEST(WordsInput, AModuleTaskComesWithItsSource) {
  const std::string toml = R"TOML(name = "cumsum_rows"
description = "Cumulative sum along each row."
reference_author = "the model's own claim, replaced"

[reference]
module = "model.py"

[[inputs]]
name = "x"
dtype = "f32"
shape = ["R", "C"]

[[outputs]]
name = "out"
dtype = "f32"
shape = ["R", "C"]

[correctness]
shapes = [{R = 1, C = 1}, {R = 7, C = 1000}]
)TOML";
  const std::string module =
      "import torch\n\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return torch.cumsum(x, -1)\n";
  // The first reply forgets the module; the error says so; the second has it.
  Script script({Fenced("toml", toml), Fenced("toml", toml) + "\n" + Fenced("python", module)});
  auto task = TaskFromWords("cumulative sum of each row", "cuda", script.Fn());
  ASSERT_TRUE(task.ok()) << task.status().message();
  ASSERT_EQ(script.requests.size(), 2u);
  EXPECT_NE(script.requests[1].messages[2].content.find("no ```python block"), std::string::npos);
  EXPECT_EQ(task->module_file_name, "model.py");
  EXPECT_EQ(task->module_source, module);
  // The caller writes both files; the task then loads beside its module.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "anvil-words-module-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / task->module_file_name) << task->module_source;
  auto parsed = ParseTask(task->task_text, (dir / "task.toml").string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->reference_author, "model:deepseek-chat");
  ASSERT_TRUE(parsed->module.has_value());
}

}  // namespace
}  // namespace anvil::agent
