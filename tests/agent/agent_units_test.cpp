// Unit tests of the agent loop's pure parts: reading code out of replies,
// the source policy, distilled feedback, knowledge loading, prompts, the
// replay channel and the session comparison.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/code_block.h"
#include "agent/conductor.h"
#include "agent/feedback.h"
#include "agent/knowledge.h"
#include "agent/llm_channel.h"
#include "agent/prompts.h"
#include "agent/session_compare.h"
#include "agent/session_start.h"
#include "agent/source_policy.h"
#include "task/task_file.h"

namespace anvil::agent {
namespace {

// --- code_block --------------------------------------------------------------

TEST(AgentCodeBlock, TakesTheLastBlockWithTheBackendsTag) {
  const std::string reply =
      "First a sketch:\n```cpp\nint draft;\n```\nand the python view:\n```python\nx = 1\n```\n"
      "Final file:\n```c++\nint final_version;\n```\nDone.";
  auto code = ExtractCode(reply, "cpu");
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, "int final_version;\n");
  auto py = ExtractCode(reply, "triton");
  ASSERT_TRUE(py.ok());
  EXPECT_EQ(*py, "x = 1\n");
}

TEST(AgentCodeBlock, CudaAcceptsCudaAndCppTags) {
  auto code = ExtractCode("```cuda\n__global__ void k() {}\n```\n", "cuda");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, "__global__ void k() {}\n");
  EXPECT_TRUE(ExtractCode("```cpp\nint a;\n```", "cuda").ok());
  EXPECT_FALSE(ExtractCode("```python\nimport triton\n```", "cuda").ok());
}

TEST(AgentCodeBlock, UntaggedBlockOnlyWhenItIsTheOnlyOne) {
  auto only = ExtractCode("```\nint a;\n```\n", "cpu");
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(*only, "int a;\n");
  auto two = ExtractCode("```\nint a;\n```\n```text\nnotes\n```\n", "cpu");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("untagged, text"), std::string::npos) << two.status().message();
}

TEST(AgentCodeBlock, NoBlockIsFeedbackForTheModel) {
  auto none = ExtractCode("I would tile the rows and use SIMD.", "cpu");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(),
            "your reply had no ```cpp code block; reply with the whole file in one ```cpp block");
  auto triton = ExtractCode("no code here", "triton");
  ASSERT_FALSE(triton.ok());
  EXPECT_NE(triton.status().message().find("```python"), std::string::npos);
}

TEST(AgentCodeBlock, CutOffBlockSaysSo) {
  auto cut = ExtractCode("Here:\n```cpp\nint a;\nint b", "cpu");
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.status().message().find("line 2"), std::string::npos) << cut.status().message();
  EXPECT_NE(cut.status().message().find("cut off"), std::string::npos);
}

TEST(AgentCodeBlock, LongerFencesAndIndentedFences) {
  auto blocks = FencedBlocks("````cpp\nint a; // ``` inside\n````\n  ```py\nx\n  ```\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].tag, "cpp");
  EXPECT_EQ(blocks[0].body, "int a; // ``` inside\n");
  EXPECT_EQ(blocks[1].tag, "py");
  EXPECT_EQ(blocks[1].line, 4);
}

// --- source_policy -----------------------------------------------------------

const char* kGoodCpp = R"(#include "anvil/cpu_tensor.h"
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call) { return ANVIL_OK; }
)";

TEST(AgentSourcePolicy, AcceptsAPlainKernel) { EXPECT_TRUE(CheckSourcePolicy(kGoodCpp, "cpu").ok()); }

TEST(AgentSourcePolicy, RejectsTorchHeadersWithTheLine) {
  const std::string src = std::string("#include <cmath>\n#include <torch/torch.h>\n") + kGoodCpp;
  Status s = CheckSourcePolicy(src, "cpu");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("compute the result itself"), std::string::npos);
  EXPECT_FALSE(CheckSourcePolicy(std::string("#include \"ATen/ATen.h\"\n") + kGoodCpp, "cuda").ok());
  EXPECT_FALSE(CheckSourcePolicy(std::string("#include <Python.h>\n") + kGoodCpp, "cpu").ok());
}

TEST(AgentSourcePolicy, RejectsTorchNamespacesButNotInCommentsOrStrings) {
  Status s = CheckSourcePolicy(std::string(kGoodCpp) + "void f() { auto t = at::empty({1}); }\n", "cpu");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("`at::`"), std::string::npos);
  const std::string benign = std::string(kGoodCpp) +
                             "// unlike torch::softmax we keep f32 sums\n"
                             "/* at::Tensor is not used */ const char* k = \"c10::Half\";\n"
                             "int flat::x = 0; std::vector<int> v;\n";
  EXPECT_TRUE(CheckSourcePolicy(benign, "cpu").ok()) << CheckSourcePolicy(benign, "cpu").message();
}

TEST(AgentSourcePolicy, RequiresTheEntryPoint) {
  Status s = CheckSourcePolicy("#include \"anvil/cpu_tensor.h\"\nint kernel(const AnvilCall*) { return 0; }\n", "cpu");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("anvil_kernel"), std::string::npos);
  // Mentioned only in a comment is not defined.
  EXPECT_FALSE(CheckSourcePolicy("// anvil_kernel(call) goes here\n", "cpu").ok());
}

TEST(AgentSourcePolicy, TritonNeedsATopLevelDef) {
  EXPECT_TRUE(CheckSourcePolicy("import triton\n\ndef anvil_kernel(x, out):\n    pass\n", "triton").ok());
  EXPECT_FALSE(CheckSourcePolicy("class K:\n    def anvil_kernel(self, x):\n        pass\n", "triton").ok());
}

// --- feedback ----------------------------------------------------------------

TEST(AgentFeedback, BuildErrorsStartAtTheFirstErrorWithShortPaths) {
  CandidateReport r;
  r.verdict = Verdict::kBuildError;
  r.build.log =
      "/tmp/ws/agent/session-1/r1-s0.cpp:3:5: warning: unused variable 'q'\n"
      "/tmp/ws/agent/session-1/r1-s0.cpp: In function 'int anvil_kernel(const AnvilCall*)':\n"
      "/tmp/ws/agent/session-1/r1-s0.cpp:12:7: error: 'undeclared_value' was not declared in this scope\n"
      "   12 |   x = undeclared_value;\n"
      "/tmp/ws/agent/session-1/r1-s0.cpp:14:1: error: expected ';' before '}' token\n";
  const std::string f = DistilFeedback(r);
  EXPECT_NE(f.find("r1-s0.cpp:12:7: error: 'undeclared_value' was not declared"), std::string::npos) << f;
  EXPECT_EQ(f.find("warning"), std::string::npos) << f;
  EXPECT_EQ(f.find("/tmp/ws"), std::string::npos) << f;
  EXPECT_LT(f.find("12:7"), f.find("14:1"));
  // Trimmed: only the first lines, with a count of the rest.
  const std::string two = FirstCompilerErrors(r.build.log, 2);
  EXPECT_NE(two.find("[... 2 more lines]"), std::string::npos) << two;
  // The build compiles a copy named kernel.cpp; the feedback names the candidate's own file.
  r.candidate_path = "/tmp/ws/agent/session-1/r2-s1.cpp";
  r.build.log = "/tmp/ws/builds/ab12/kernel.cpp:20:3: error: expected ';'\n";
  const std::string renamed = DistilFeedback(r);
  EXPECT_NE(renamed.find("\nr2-s1.cpp:20:3: error: expected ';'"), std::string::npos) << renamed;
}

TEST(AgentFeedback, CrashQuotesTheWorkerStderrFromItsFirstError) {
  CandidateReport r;
  r.verdict = Verdict::kCrash;
  r.reason = "the worker died with SIGABRT";
  r.worker_stderr = "loading kernel\nkernel: error: index 7 out of range\n";
  for (int i = 0; i < 20; ++i) r.worker_stderr += "detail " + std::to_string(i) + "\n";
  const std::string f = DistilFeedback(r);
  // The lines kept are the first error and what follows it, so the label must not say "tail".
  EXPECT_NE(f.find("Worker stderr (from its first error line):\nkernel: error: index 7 out of range\n"),
            std::string::npos)
      << f;
  EXPECT_EQ(f.find("(tail)"), std::string::npos) << f;
  EXPECT_EQ(f.find("detail 19"), std::string::npos) << f;
}

TEST(AgentFeedback, NotCorrectNamesTheWorstCaseAndValues) {
  CandidateReport r;
  r.verdict = Verdict::kWrong;
  r.reason = "out differs from the reference";
  CaseSpec a;
  a.index = 0;
  a.variant_label = "f32";
  a.bindings = {{"R", 1}, {"C", 1}};
  CaseSpec b = a;
  b.index = 1;
  b.bindings = {{"R", 3}, {"C", 5}};
  b.layout = "transposed";
  b.distribution = "heavy";
  r.cases = {a, b};
  CaseOutcome ok;
  ok.index = 0;
  CaseOutcome bad;
  bad.index = 1;
  bad.verdict = Verdict::kWrong;
  bad.output = "out";
  bad.max_abs_err = 1.5;
  bad.max_rel_err = 0.5;
  bad.worst_ratio = 1e5;
  bad.mismatches = 15;
  bad.numel = 15;
  bad.tolerance = "rtol 1.3e-06, atol 1e-05";
  bad.first_mismatches = {{{0, 0}, 1.0, 1.5}, {{0, 1}, -2.0, -3.0}};
  r.outcomes = {ok, bad};
  r.worst = 1;
  r.cases_passed = 1;
  const std::string f = DistilFeedback(r);
  EXPECT_NE(f.find("Verdict: wrong. out differs from the reference"), std::string::npos) << f;
  EXPECT_NE(f.find("Cases passed: 1 of 2"), std::string::npos) << f;
  EXPECT_NE(f.find("dtype f32, shape C=5, R=3, layout transposed, distribution heavy"), std::string::npos) << f;
  EXPECT_NE(f.find("max abs error 1.5"), std::string::npos) << f;
  EXPECT_NE(f.find("rtol 1.3e-06"), std::string::npos) << f;
  EXPECT_NE(f.find("at [0, 1]: expected -2, got -3"), std::string::npos) << f;
  EXPECT_EQ(FailureClass(r), "wrong");
}

TEST(AgentFeedback, CorrectGivesTimingsAgainstBaselinesAndRoofline) {
  CandidateReport r;
  r.verdict = Verdict::kCorrect;
  r.cases.resize(4);
  CaseSpec p;
  p.index = 0;
  p.variant_label = "f16";
  p.bindings = {{"N", 4096}};
  r.perf_cases = {p};
  TimingOutcome mine{0, "candidate", 1, {}, 1000, 0, 0, "", 0, 0, false};
  TimingOutcome eager{0, "eager", 1, {}, 2000, 0, 0, "", 0, 0, false};
  TimingOutcome compiled{0, "compile", 1, {}, 1500, 0, 0, "", 0, 0, false};
  r.timings = {mine, eager, compiled};
  r.speedup = 2.0;
  r.speedup_compile = 1.5;
  CandidateReport::Roofline roof;
  roof.index = 0;
  roof.work.min_bytes = 16384;
  roof.speed_of_light_ns = 500;
  r.roofline = {roof};
  const std::string f = DistilFeedback(r);
  EXPECT_NE(f.find("correct on all 4 cases"), std::string::npos) << f;
  EXPECT_NE(f.find("Perf f16 N=4096: yours 1 us, eager PyTorch 2 us (2.00x), torch.compile 1.5 us (1.50x)"),
            std::string::npos)
      << f;
  EXPECT_NE(f.find("speed of light 500 ns = 50% reached, bound by memory"), std::string::npos) << f;
  EXPECT_EQ(FailureClass(r), "correct");
}

// --- knowledge ---------------------------------------------------------------

TEST(AgentKnowledge, LoadsInNameOrderUnderTheCap) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("anvil-knowledge-" + std::to_string(getpid()));
  fs::create_directories(root / "cpu");
  std::ofstream(root / "cpu" / "20-pitfalls.md") << "Pitfalls text";
  std::ofstream(root / "cpu" / "00-abi.md") << "ABI text";
  std::ofstream(root / "cpu" / "99-huge.md") << std::string(5000, 'x');
  std::ofstream(root / "cpu" / "notes.txt") << "not markdown";
  Knowledge k = LoadKnowledge(root.string(), "cpu", 1000);
  EXPECT_EQ(k.files, (std::vector<std::string>{"00-abi.md", "20-pitfalls.md"}));
  EXPECT_LT(k.text.find("ABI text"), k.text.find("Pitfalls text"));
  EXPECT_NE(k.note.find("99-huge.md"), std::string::npos) << k.note;
  Knowledge none = LoadKnowledge(root.string(), "triton");
  EXPECT_TRUE(none.text.empty());
  EXPECT_NE(none.note.find("no knowledge documents for triton"), std::string::npos);
  fs::remove_all(root);
}

// --- prompts -----------------------------------------------------------------

Task LoadTestTask() {
  auto task = LoadTaskFile(std::string(ANVIL_TEST_DATA_DIR) + "/agent/scale_add.toml");
  EXPECT_TRUE(task.ok()) << task.status().message();
  return *task;
}

TEST(AgentPrompts, DesignerPromptDescribesTheTask) {
  Task task = LoadTestTask();
  PromptContext ctx;
  ctx.task = &task;
  ctx.backend = "cpu";
  ctx.device = "CPU with 2 threads";
  const std::string p = DesignerPrompt(ctx);
  EXPECT_NE(p.find("out = x * 2.0 + y"), std::string::npos) << p;
  EXPECT_NE(p.find("x: f32[R, C]"), std::string::npos) << p;
  EXPECT_NE(p.find("call->inputs[1]  = y"), std::string::npos) << p;
  EXPECT_NE(p.find("R=0, C=4"), std::string::npos) << p;
  EXPECT_NE(p.find("layouts: contiguous, transposed"), std::string::npos) << p;
  EXPECT_NE(p.find("no performance shapes"), std::string::npos) << p;
  EXPECT_NE(p.find("CPU with 2 threads"), std::string::npos) << p;
  EXPECT_NE(p.find("roofline target"), std::string::npos) << p;
}

TEST(AgentPrompts, SystemAndCoderPromptsCarryAbiKnowledgeExamplesAndSeed) {
  Task task = LoadTestTask();
  PromptContext ctx;
  ctx.task = &task;
  ctx.backend = "cpu";
  ctx.knowledge.text = "## 00-abi.md\n\nKNOWLEDGE-MARKER\n";
  ctx.examples = {{"softmax (cpu, f32)", "int example_marker;\n"}};
  ctx.seed_source = "int seed_marker;\n";
  const std::string sys = SystemPrompt(ctx);
  EXPECT_NE(sys.find("extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call)"), std::string::npos);
  EXPECT_NE(sys.find("one ```cpp fenced block"), std::string::npos);
  EXPECT_NE(sys.find("KNOWLEDGE-MARKER"), std::string::npos);
  const std::string coder = CoderPrompt(ctx, "PLAN-MARKER");
  EXPECT_NE(coder.find("PLAN-MARKER"), std::string::npos);
  EXPECT_NE(coder.find("int example_marker;"), std::string::npos);
  EXPECT_NE(coder.find("int seed_marker;"), std::string::npos);
  const std::string repair = RepairPrompt(ctx, "PLAN", "int previous;\n", "Verdict: wrong. FEEDBACK-MARKER");
  EXPECT_NE(repair.find("```cpp\nint previous;\n```"), std::string::npos) << repair;
  EXPECT_NE(repair.find("FEEDBACK-MARKER"), std::string::npos);
  const std::string no_code = RepairPrompt(ctx, "PLAN-MARKER", "", "your reply had no ```cpp code block");
  EXPECT_NE(no_code.find("PLAN-MARKER"), std::string::npos);
  const std::string redesign = RedesignPrompt(ctx, {{2, "repair", "Verdict: wrong. SAME"}, {3, "repair", "Verdict: wrong. SAME"}});
  EXPECT_NE(redesign.find("different approach"), std::string::npos);
  EXPECT_NE(redesign.find("round 3 (repair)"), std::string::npos);
}

TEST(AgentPrompts, TritonSignatureListsInputsOutputsAttrs) {
  auto task = LoadTaskFile(std::string(ANVIL_SOURCE_DIR) + "/examples/softmax/task.toml");
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(CallSignature(*task, "triton"), "def anvil_kernel(x, out, t)\n");
  EXPECT_NE(CallSignature(*task, "cpu").find("call->attrs[0]   = t (f32, .value.f)"), std::string::npos);
}

// --- replay channel and comparison ---------------------------------------------

TEST(AgentReplayChannel, ServesByKeyCountsDifferingPromptsAndRefusesUnknownKeys) {
  llm::ChatRequest request;
  request.system = "sys";
  request.messages.push_back({llm::Role::kUser, "prompt one"});
  ExchangeRecord designer;
  designer.round = 1;
  designer.slot = 0;
  designer.role = "designer";
  designer.request_json = RequestJson(request);
  designer.response_text = "the plan";
  designer.input_tokens = 10;
  designer.output_tokens = 5;
  ExchangeRecord failed = designer;
  failed.role = "coder";
  failed.response_text.clear();
  failed.error = "openai: HTTP 500: upstream exploded";
  ReplayChannel channel({designer, failed}, "openai", "m", nullptr);

  auto plan = channel.Call({1, 0, "designer"}, request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->text, "the plan");
  EXPECT_EQ(plan->usage.input_tokens, 10);
  EXPECT_EQ(channel.differing_prompts(), 0);

  llm::ChatRequest other = request;
  other.messages[0].content = "prompt two";
  auto err = channel.Call({1, 0, "coder"}, other);
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().message(), "openai: HTTP 500: upstream exploded");
  EXPECT_EQ(err.status().code(), ErrorCode::kUnavailable);  // an untagged (old) record: a provider failure
  EXPECT_EQ(channel.differing_prompts(), 1);
  EXPECT_EQ(channel.first_differing(), "round 1 slot 0 coder");

  auto missing = channel.Call({2, 1, "coder"}, request);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "replay diverged: the recorded session has no coder call for round 2 slot 1");
}

// A provider answering from a list of outcomes, one per call.
class ListProvider : public llm::Provider {
 public:
  explicit ListProvider(std::vector<Result<llm::ChatResponse>> outcomes) : outcomes_(std::move(outcomes)) {}
  Result<llm::ChatResponse> Complete(const llm::ChatRequest&, const llm::CancelToken&) override {
    return outcomes_.at(next_++);
  }
  std::string Name() const override { return "openai"; }
  std::string DefaultModel() const override { return "m"; }

 private:
  std::vector<Result<llm::ChatResponse>> outcomes_;
  size_t next_ = 0;
};

llm::ChatResponse PaidReply(const std::string& text, long long in, long long out) {
  llm::ChatResponse r;
  r.text = text;
  r.usage = {in, out};
  r.attempts = 1;
  return r;
}

// A store with a run and a session for a live channel to record into.
struct RecordingSession {
  explicit RecordingSession(const std::string& name)
      : dir(std::filesystem::temp_directory_path() / ("anvil-channel-" + name + "-" + std::to_string(getpid()))) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    store = std::move(Store::Open((dir / "anvil.db").string()).value());
    recorder = std::move(ExchangeRecorder::Open((dir / "anvil.db").string()).value());
    auto task = LoadTaskFile(std::string(ANVIL_TEST_DATA_DIR) + "/agent/scale_add.toml");
    EXPECT_TRUE(task.ok()) << task.status().message();
    SessionStart start;
    start.run_id = store->BeginRun("gen", "{}").value();
    start.provider = "openai";
    start.model = "m";
    auto id = BeginAgentSession(*store, *recorder, *task, ConductorOptions{}, start);
    EXPECT_TRUE(id.ok()) << id.status().message();
    session_id = id.ok() ? *id : 0;
  }
  ~RecordingSession() { std::filesystem::remove_all(dir); }

  std::filesystem::path dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<ExchangeRecorder> recorder;
  int64_t session_id = 0;
};

TEST(AgentLiveChannel, RecordedErrorsReplayWithTheirCode) {
  RecordingSession session("codes");
  llm::ChatRequest request;
  request.messages.push_back({llm::Role::kUser, "write it"});
  ListProvider provider({Cancelled("openai: cancelled"), Unavailable("openai: gave up after 4 attempts: HTTP 503"),
                         InvalidInput("openai: refused the request with HTTP 401"), PaidReply("the plan", 7, 3)});
  llm::CancelToken cancel;
  LiveChannel live(provider, session.recorder.get(), cancel);
  EXPECT_EQ(live.Call({1, 0, "designer"}, request).status().code(), ErrorCode::kCancelled);
  EXPECT_EQ(live.Call({1, 1, "designer"}, request).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(live.Call({1, 2, "designer"}, request).status().code(), ErrorCode::kInvalidInput);
  ASSERT_TRUE(live.Call({1, 3, "designer"}, request).ok());

  auto recorded = session.store->QueryExchanges(session.session_id);
  ASSERT_TRUE(recorded.ok()) << recorded.status().message();
  ASSERT_EQ(recorded->size(), 4u);
  EXPECT_EQ((*recorded)[0].error, "[cancelled] openai: cancelled");
  ReplayChannel replay(*recorded, "openai", "m", nullptr);
  auto cancelled = replay.Call({1, 0, "designer"}, request);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), ErrorCode::kCancelled);
  EXPECT_EQ(cancelled.status().message(), "openai: cancelled");
  auto failed = replay.Call({1, 1, "designer"}, request);
  EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(failed.status().message(), "openai: gave up after 4 attempts: HTTP 503");
  EXPECT_EQ(replay.Call({1, 2, "designer"}, request).status().code(), ErrorCode::kInvalidInput);
  auto plan = replay.Call({1, 3, "designer"}, request);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->text, "the plan");

  // Records written before codes were recorded replay as a provider failure.
  EXPECT_EQ(ReplayedError("openai: HTTP 500").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ReplayedError("openai: HTTP 500").message(), "openai: HTTP 500");
  EXPECT_EQ(ReplayedError("[nonsense] x").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ReplayedError("[nonsense] x").message(), "[nonsense] x");
}

TEST(AgentLiveChannel, AReplyIsBilledEvenWhenRecordingItFails) {
  RecordingSession session("billing");
  // Bound to a session that does not exist: every record breaks the foreign key.
  ASSERT_TRUE(session.recorder->BindSession(session.session_id + 1000).ok());
  llm::ChatRequest request;
  request.messages.push_back({llm::Role::kUser, "write it"});
  ListProvider provider({PaidReply("paid for", 1200, 300)});
  llm::CancelToken cancel;
  LiveChannel live(provider, session.recorder.get(), cancel);
  llm::UsageLedger ledger;
  auto r = live.Call({1, 0, "coder"}, request, &ledger);
  ASSERT_FALSE(r.ok());  // the store's error: the exchange could not be kept for a replay
  EXPECT_NE(r.status().message().find("recording an LLM exchange"), std::string::npos) << r.status().message();
  const llm::UsageTotals totals = ledger.Totals();
  EXPECT_EQ(totals.calls, 1);
  EXPECT_EQ(totals.usage.input_tokens, 1200);
  EXPECT_EQ(totals.usage.output_tokens, 300);
}

SessionCandidateRecord Cand(int round, const std::string& action, const std::string& hash, const std::string& verdict) {
  SessionCandidateRecord c;
  c.round = round;
  c.action = action;
  c.outcome = "evaluated";
  c.source_hash = hash;
  c.verdict = verdict;
  return c;
}

TEST(AgentSessionCompare, IdenticalDifferentAndStoppedElsewhere) {
  SessionRow original;
  original.stop_reason = "3 rounds used";
  std::vector<SessionCandidateRecord> a = {Cand(1, "design", "h1", "build_error"), Cand(2, "repair", "h2", "correct")};
  SessionCandidateRecord timing_differs = a[1];
  timing_differs.speedup = 3.0;
  EXPECT_TRUE(CompareSessions(original, a, {a[0], timing_differs}).identical);

  auto b = a;
  b[1].verdict = "wrong";
  SessionComparison diff = CompareSessions(original, a, b);
  EXPECT_FALSE(diff.identical);
  EXPECT_NE(diff.first_difference.find("candidate 2"), std::string::npos) << diff.first_difference;
  EXPECT_NE(diff.first_difference.find("wrong"), std::string::npos);
  EXPECT_TRUE(diff.note.empty());

  original.stop_reason = "target speedup 1.50x reached";
  auto longer = a;
  longer.push_back(Cand(3, "optimise", "h3", "correct"));
  SessionComparison stopped = CompareSessions(original, a, longer);
  EXPECT_FALSE(stopped.identical);
  EXPECT_NE(stopped.first_difference.find("went on"), std::string::npos);
  EXPECT_NE(stopped.note.find("target speedup"), std::string::npos);
}

TEST(AgentConductorOptions, JsonRoundTripKeepsEveryBudget) {
  ConductorOptions o;
  o.rounds = 6;
  o.parallel = 3;
  o.max_total_tokens = 100000;
  o.time_budget_s = 120;
  o.target_speedup = 1.5;
  o.temperature = 0.2;
  o.seed = false;
  auto back = ConductorOptions::FromJson(o.ToJson().dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToJson(), o.ToJson());
  EXPECT_FALSE(ConductorOptions::FromJson("{not json").ok());
  auto defaults = ConductorOptions::FromJson("{\"threads\": 2}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->rounds, 4);
  EXPECT_FALSE(defaults->temperature.has_value());
}

}  // namespace
}  // namespace anvil::agent
