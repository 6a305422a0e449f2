// The shipped examples: each correct kernel verifies on every case of its
// task, the deliberately wrong one is rejected with a precise reason, and a
// bench run records timings against LibTorch eager.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

std::vector<std::string> CorrectExamples() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(SourcePath("examples")))
    if (e.is_directory() && e.path().filename() != "wrong_softmax" &&
        std::filesystem::exists(e.path() / "kernel.cpp"))
      out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Examples, AtLeastTheFiveRequiredKindsExist) {
  auto names = CorrectExamples();
  for (const char* required : {"gelu_tanh_mul", "softmax", "rmsnorm", "bias_add_relu", "int_clamp_scale"})
    EXPECT_NE(std::find(names.begin(), names.end(), required), names.end()) << required;
}

TEST(Examples, EveryCorrectExampleVerifies) {
  CliWorkspace ws;
  for (const std::string& name : CorrectExamples()) {
    CliRun run = ws.Run({"--json", "verify", "examples/" + name + "/kernel.cpp", "--task",
                         "examples/" + name + "/task.toml"});
    ASSERT_EQ(run.exit_code, 0) << name << "\n" << run.output;
    const auto& r = run.json["results"][0];
    EXPECT_EQ(r["verdict"], "correct") << name << ": " << r["reason"];
    EXPECT_EQ(r["cases_passed"], r["cases_total"]) << name;
    EXPECT_GT(r["cases_total"].get<int>(), 20) << name << " runs too few cases to mean much";
  }
}

TEST(Examples, TheWrongSoftmaxIsRejectedWithTheWorstCase) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "verify", "examples/wrong_softmax/kernel.cpp", "--task",
                       "examples/wrong_softmax/task.toml"});
  ASSERT_EQ(run.exit_code, 1) << run.output;
  const auto& r = run.json["results"][0];
  EXPECT_EQ(r["verdict"], "wrong");
  std::string reason = r["reason"];
  EXPECT_NE(reason.find("output 'out'"), std::string::npos) << reason;
  EXPECT_NE(reason.find("case "), std::string::npos) << "the reason must name the failing case: " << reason;
  EXPECT_LT(r["cases_passed"].get<int>(), r["cases_total"].get<int>());
  // The failing cases carry their first mismatches.
  bool any_mismatch = false;
  for (const auto& c : r["cases"])
    if (c["verdict"] == "wrong") any_mismatch = any_mismatch || !c["first_mismatches"].empty();
  EXPECT_TRUE(any_mismatch);
}

TEST(Examples, BenchRecordsCandidateAndEagerTimings) {
  CliWorkspace ws;
  CliRun run = ws.Run({"--json", "bench", "examples/bias_add_relu/kernel.cpp", "--task",
                       "examples/bias_add_relu/task.toml"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto& r = run.json["results"][0];
  ASSERT_EQ(r["verdict"], "correct") << r["reason"];
  const auto& timings = r["timings"];
  ASSERT_FALSE(timings.empty());
  ASSERT_EQ(timings.size() % 2, 0u);
  for (size_t i = 0; i < timings.size(); i += 2) {
    EXPECT_EQ(timings[i]["subject"], "candidate");
    EXPECT_EQ(timings[i + 1]["subject"], "eager");
    EXPECT_EQ(timings[i]["threads"], timings[i + 1]["threads"]) << "same thread count for both";
    EXPECT_GT(timings[i]["median_ns"].get<double>(), 0);
    EXPECT_FALSE(timings[i]["samples_ns"].empty());
    for (size_t k : {i, i + 1}) {
      const auto& t = timings[k];
      const bool wide = t["q3_ns"].get<double>() - t["q1_ns"].get<double>() > 0.2 * t["median_ns"].get<double>();
      EXPECT_EQ(t["spread_too_wide"], wide) << "the flag follows the interquartile range";
    }
  }
  EXPECT_GT(r["speedup"].get<double>(), 0);
  // The store has the timings too.
  CliRun rows = ws.Run({"--json", "results", "--kind", "bench"});
  ASSERT_EQ(rows.exit_code, 0) << rows.output;
  ASSERT_EQ(rows.json.size(), 1u);
  EXPECT_TRUE(rows.json[0].contains("candidate_median_ns"));
}

}  // namespace
}  // namespace anvil::testing
