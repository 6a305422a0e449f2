// The CLI's contract with users and scripts: help that teaches, precise input
// errors, exit codes, task listing and inspection.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

TEST(Cli, HelpNamesTheCommands) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  for (const char* cmd : {"verify", "bench", "task", "results"}) EXPECT_NE(run.output.find(cmd), std::string::npos);
}

TEST(Cli, MissingArgumentsAreUsageErrors) {
  CliWorkspace ws;
  EXPECT_EQ(ws.Run({"verify"}).exit_code, 2);
  EXPECT_EQ(ws.Run({"verify", "examples/softmax/kernel.cpp"}).exit_code, 2);  // no --task
  EXPECT_EQ(ws.Run({"frobnicate"}).exit_code, 2);
}

TEST(Cli, EachTargetTakesItsOwnSourceKind) {
  CliWorkspace ws;
  CliRun cpp_as_cuda = ws.Run({"verify", "examples/softmax/kernel.cpp", "--task", "examples/softmax/task.toml",
                               "--target", "cuda"});
  EXPECT_EQ(cpp_as_cuda.exit_code, 2);
  EXPECT_NE(cpp_as_cuda.output.find("--target cuda takes CUDA C++ sources (.cu)"), std::string::npos)
      << cpp_as_cuda.output;
  CliRun cu_as_triton = ws.Run({"verify", "examples/softmax/softmax.cu", "--task", "examples/softmax/task.toml",
                                "--target", "triton"});
  EXPECT_EQ(cu_as_triton.exit_code, 2);
  EXPECT_NE(cu_as_triton.output.find("@triton.jit"), std::string::npos) << cu_as_triton.output;
  CliRun unknown = ws.Run({"verify", "examples/softmax/kernel.cpp", "--task", "examples/softmax/task.toml",
                           "--target", "tpu"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("tpu"), std::string::npos) << unknown.output;
}

TEST(Cli, OnlyCppSourcesForTheCpuTarget) {
  CliWorkspace ws;
  CliRun run = ws.Run({"verify", "examples/softmax/task.toml", "--task", "examples/softmax/task.toml"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("takes C++ sources"), std::string::npos) << run.output;
}

TEST(Cli, BenchNeedsPerformanceShapes) {
  CliWorkspace ws;
  CliRun run = ws.Run({"bench", "tests/exploits/correct_relu_inplace.cpp", "--task",
                       "tests/exploits/task_relu_inplace.toml"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("[performance]"), std::string::npos) << run.output;
}

TEST(Cli, ABrokenTaskFileNamesLineAndColumn) {
  CliWorkspace ws;
  std::string path = ws.dir() + "/bad.toml";
  std::ofstream(path) << "name = \"bad\"\nformula = \"out = sigmod(x)\"\n[[inputs]]\nname = \"x\"\ndtype = \"f32\"\n"
                         "shape = [\"N\"]\n[[outputs]]\nname = \"out\"\n[correctness]\nshapes = [{N = 3}]\n";
  CliRun run = ws.Run({"task", "show", path});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("sigmod"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("did you mean 'sigmoid'"), std::string::npos) << run.output;
  // `formula = "out = sigmod(x)"` on line 2: the formula starts at column 12, sigmod at its column 7.
  EXPECT_NE(run.output.find("bad.toml:2:18: unknown function 'sigmod'"), std::string::npos) << run.output;

  std::ofstream(path) << "name = \"bad\"\nformula = \"out = x\"\n[[inputs]]\nname = \"x\"\ndtype = \"f33\"\n";
  run = ws.Run({"task", "show", path});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("bad.toml:5:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("f33"), std::string::npos) << run.output;
}

TEST(Cli, TaskListFindsTheExamples) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "task", "list", "examples"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.json.is_array());
  std::vector<std::string> names;
  for (const auto& t : run.json) names.push_back(t["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), "softmax"), names.end());
  for (const auto& t : run.json) EXPECT_GT(t["correctness_cases"].get<int>(), 0) << t["name"];
}

TEST(Cli, TaskShowPrintsTheTypedGraph) {
  CliWorkspace ws;
  CliRun run = ws.Run({"task", "show", "examples/softmax/task.toml"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("softmax"), std::string::npos);
  EXPECT_NE(run.output.find("f16[R, C]"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("correctness cases:"), std::string::npos);
}

// Declared traffic (read / write) is part of what `task show --json` says
// about a task, and only where it differs from the default.
TEST(Cli, TaskShowJsonNamesDeclaredTraffic) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "task", "show", "tasks/aten110/masked_fill_.toml"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_TRUE(run.json.is_object()) << run.output;
  EXPECT_EQ(run.json["inputs"][0].value("read", ""), "none") << run.json.dump();
  EXPECT_FALSE(run.json["inputs"][1].contains("read")) << run.json.dump();
  EXPECT_EQ(run.json["outputs"][0].value("write", ""), "partial") << run.json.dump();
}

TEST(Cli, ResultsOnAnEmptyStoreSaysSo) {
  CliWorkspace ws;
  CliRun run = ws.Run({"results"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.output.find("no evaluations"), std::string::npos) << run.output;
}

TEST(Cli, ResultsShowsEveryCaseOfAnEvaluation) {
  CliWorkspace ws;
  CliRun v = ws.Run({"--json", "verify", "tests/exploits/correct_scale.cpp", "--task", "tests/exploits/task_scale.toml"});
  ASSERT_EQ(v.exit_code, 0) << v.output;
  int64_t id = v.json["results"][0]["evaluation_id"];
  CliRun r = ws.Run({"--json", "results", "--evaluation", std::to_string(id)});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.json["cases"].size(), v.json["results"][0]["cases_total"].get<size_t>());
}

TEST(Cli, SearchAndSessionsOnAnEmptyWorkspace) {
  CliWorkspace ws;
  CliRun search = ws.Run({"--json", "search", "softmax(x", "--backend", "cuda"});
  ASSERT_EQ(search.exit_code, 0) << search.output;
  EXPECT_EQ(search.json, nlohmann::json::array()) << search.output;
  CliRun sessions = ws.Run({"--json", "session", "list"});
  ASSERT_EQ(sessions.exit_code, 0) << sessions.output;
  EXPECT_EQ(sessions.json, nlohmann::json::array()) << sessions.output;
  // --json after the subcommand too.
  EXPECT_EQ(ws.Run({"search", "--json"}).json, nlohmann::json::array());
  EXPECT_EQ(ws.Run({"session", "list", "--json"}).json, nlohmann::json::array());

  CliRun human = ws.Run({"search", "softmax", "--op", "softmax"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.output.find("no proven kernel matches (words 'softmax', op kind softmax)"), std::string::npos)
      << human.output;
  EXPECT_NE(human.output.find("Widen the search"), std::string::npos) << human.output;
  CliRun no_sessions = ws.Run({"session", "list"});
  EXPECT_EQ(no_sessions.exit_code, 0);
  EXPECT_NE(no_sessions.output.find("no sessions"), std::string::npos) << no_sessions.output;
  CliRun missing = ws.Run({"session", "show", "7"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("no such session"), std::string::npos) << missing.output;
}

TEST(Cli, AVerifiedKernelCanBeSearchedFor) {
  CliWorkspace ws;
  CliRun v = ws.Run({"--json", "verify", "tests/exploits/correct_scale.cpp", "--task", "tests/exploits/task_scale.toml"});
  ASSERT_EQ(v.exit_code, 0) << v.output;
  int64_t id = v.json["results"][0]["evaluation_id"];
  CliRun r = ws.Run({"--json", "search", "--backend", "cpu", "--source"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(r.json.size(), 1u) << r.output;
  EXPECT_EQ(r.json[0]["evaluation"], id);
  EXPECT_EQ(r.json[0]["provenance"], "file");
  EXPECT_EQ(r.json[0]["op_kinds"], nlohmann::json::array({"elementwise"}));
  EXPECT_EQ(r.json[0]["source"], ReadTextFile(SourcePath("tests/exploits/correct_scale.cpp")));
  EXPECT_TRUE(ws.Run({"--json", "search", "--backend", "cuda"}).json.empty());
  CliRun human = ws.Run({"search", "--source"});
  EXPECT_NE(human.output.find("--- evaluation " + std::to_string(id)), std::string::npos) << human.output;
}

}  // namespace
}  // namespace anvil::testing
