#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "util/hash.h"
#include "util/subprocess.h"
#include "verify/protocol.h"
#include "verify/verdict.h"

namespace anvil {
namespace {

TEST(Hash, StableDistinctAndLengthPrefixed) {
  EXPECT_EQ(HashOf("abc"), HashOf("abc"));
  EXPECT_NE(HashOf("abc"), HashOf("abd"));
  EXPECT_EQ(HashOf("").size(), 32u);
  EXPECT_NE(ContentHasher().Add("ab").Add("c").Hex(), ContentHasher().Add("a").Add("bc").Hex());
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"}, 10);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_NE(r->output.find("out"), std::string::npos);
  EXPECT_NE(r->output.find("err"), std::string::npos);
}

TEST(Subprocess, KillsTheWholeGroupOnTimeout) {
  auto r = RunProcess({"sh", "-c", "sleep 30 & sleep 30"}, 0.5);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_LT(r->seconds, 5);
}

// Ctrl-C while a compiler runs: the flag raised from another thread kills the
// group within the 100 ms poll, long before the 30 s timeout.
TEST(Subprocess, ARaisedCancelFlagKillsTheGroup) {
  std::atomic<bool> cancel{false};
  std::thread raise([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto r = RunProcess({"sh", "-c", "sleep 30 & sleep 30"}, 30, "", &cancel);
  raise.join();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_LT(r->seconds, 5);
}

TEST(Subprocess, AMissingProgramIsAnError) {
  auto r = RunProcess({"/no/such/program"}, 5);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/no/such/program"), std::string::npos);
}

TEST(Verdict, NamesRoundTripAndSeverityOrders) {
  for (Verdict v : {Verdict::kCorrect, Verdict::kWrong, Verdict::kSuspicious, Verdict::kRuntimeError, Verdict::kCrash,
                    Verdict::kTimeout, Verdict::kLoadError, Verdict::kBuildError})
    EXPECT_EQ(ParseVerdict(VerdictName(v)), v);
  EXPECT_FALSE(ParseVerdict("great").has_value());
  EXPECT_EQ(Worse(Verdict::kWrong, Verdict::kCorrect), Verdict::kWrong);
  EXPECT_EQ(Worse(Verdict::kWrong, Verdict::kSuspicious), Verdict::kSuspicious);
  EXPECT_EQ(Worse(Verdict::kCrash, Verdict::kWrong), Verdict::kCrash);
}

TEST(Protocol, RequestAndOutcomesRoundTrip) {
  EvaluateRequest req;
  req.mode = EvalMode::kBench;
  req.task_text = "name = \"x\"";
  req.library_path = "/tmp/k.so";
  req.threads = 3;
  CaseSpec c;
  c.index = 4;
  c.variant_label = "T=f16";
  c.bindings = {{"N", 7}};
  c.layout = "strided";
  c.seed = 9;
  req.cases = {c};
  auto back = EvaluateRequestFromJson(ToJson(req));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->mode, EvalMode::kBench);
  EXPECT_EQ(back->threads, 3);
  ASSERT_EQ(back->cases.size(), 1u);
  EXPECT_EQ(back->cases[0].bindings.at("N"), 7);
  EXPECT_EQ(back->cases[0].layout, "strided");

  CaseOutcome o;
  o.index = 2;
  o.verdict = Verdict::kWrong;
  o.max_abs_err = INFINITY;  // not representable in JSON: must come back as infinity, not 0
  o.first_mismatches = {{{1, 2}, 0.5, NAN}};
  o.statistical = true;
  auto ob = CaseOutcomeFromJson(ToJson(o));
  ASSERT_TRUE(ob.ok());
  EXPECT_EQ(ob->verdict, Verdict::kWrong);
  EXPECT_TRUE(ob->statistical);
  EXPECT_TRUE(std::isinf(ob->max_abs_err));
  EXPECT_TRUE(std::isnan(ob->first_mismatches[0].actual));

  EXPECT_FALSE(CaseOutcomeFromJson({{"index", 1}}).ok());
}

}  // namespace
}  // namespace anvil
