// Store: the proven-kernel index and saved kernels (schema migration 5):
// full-text search with filters, odd queries that must not be FTS syntax,
// ranking by match then speed, SaveKernel refusing kernels not proven correct.
#include <gtest/gtest.h>

#include "store/sqlite_handle.h"
#include "store/store.h"
#include "store_test_util.h"

namespace anvil {
namespace {

using anvil::testing::ScratchDir;

template <typename T>
T ValueOrDie(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

class StoreSearchTest : public ::testing::Test {
 protected:
  // A candidate of `task` with one finished evaluation of `verdict`; with a
  // speedup, bench timings whose eager / candidate medians give it.
  struct Kernel {
    int64_t candidate = 0, evaluation = 0;
  };
  Kernel AddKernel(const std::string& task, const std::string& backend, const std::string& source,
                   const std::string& verdict, std::optional<double> speedup = std::nullopt,
                   const std::string& provenance = "file") {
    int64_t task_id = ValueOrDie(store_->UpsertTask(task, task + ".toml", "h-" + task, "text of " + task));
    Kernel k;
    k.candidate = ValueOrDie(store_->UpsertCandidate(task_id, backend, task + ".src", "s-" + source, source, provenance));
    k.evaluation = ValueOrDie(store_->BeginEvaluation(run_, k.candidate, speedup ? "bench" : "verify"));
    if (speedup) {
      EXPECT_TRUE(store_->RecordTiming(k.evaluation, {"R=4096", "candidate", 1, 1000, 990, 1010, {1000}, ""}).ok());
      EXPECT_TRUE(store_->RecordTiming(k.evaluation, {"R=4096", "eager", 1, 1000 * *speedup, 0, 0, {}, ""}).ok());
    }
    EXPECT_TRUE(store_->FinishEvaluation(k.evaluation, verdict, "", "", 4, verdict == "correct" ? 4 : 1).ok());
    return k;
  }
  Status Index(const Kernel& k, const std::string& task, const std::string& backend, const std::string& dtypes,
               const std::string& op_kinds, const std::string& summary) {
    return store_->IndexProvenKernel({k.candidate, k.evaluation, task, backend, dtypes, op_kinds, summary});
  }
  std::vector<KernelHit> Search(KernelSearchQuery q) { return ValueOrDie(store_->SearchKernels(q)); }
  std::vector<KernelHit> Search(const std::string& text) {
    KernelSearchQuery q;
    q.text = text;
    return Search(q);
  }
  static std::vector<std::string> Tasks(const std::vector<KernelHit>& hits) {
    std::vector<std::string> out;
    for (const KernelHit& h : hits) out.push_back(h.task_name);
    return out;
  }

  void SetUp() override {
    store_ = ValueOrDie(Store::Open(dir_.File("anvil.db")));
    run_ = ValueOrDie(store_->BeginRun("bench", "{}"));
    softmax_ = AddKernel("softmax_temperature", "cuda", "__global__ void softmax_t() {}", "correct", 3.0,
                         "llm:openai:deepseek-chat");
    ASSERT_TRUE(Index(softmax_, "softmax_temperature", "cuda", "f32 f16 bf16", "elementwise softmax",
                      "Sampling distribution softmax(logits / t) with temperature t.\nout = softmax(x / t, -1)")
                    .ok());
    layernorm_ = AddKernel("layernorm", "cpu", "void layernorm() {}", "correct", 1.5);
    ASSERT_TRUE(Index(layernorm_, "layernorm", "cpu", "bf16", "elementwise reduction norm",
                      "Layer normalisation over the last dim.\nout = (x - mu) * rstd * w + b")
                    .ok());
    matmul_ = AddKernel("linear_bias_gelu", "triton", "@triton.jit\ndef k(): pass", "correct");
    ASSERT_TRUE(Index(matmul_, "linear_bias_gelu", "triton", "f16", "elementwise matmul",
                      "Linear layer with bias and exact GELU.\nout = gelu(x @ w + b)")
                    .ok());
  }

  ScratchDir dir_;
  std::unique_ptr<Store> store_;
  int64_t run_ = 0;
  Kernel softmax_, layernorm_, matmul_;
};

TEST_F(StoreSearchTest, WordsFindKernelsWithTheirSourceAndProvenance) {
  std::vector<KernelHit> hits = Search("softmax");
  ASSERT_EQ(hits.size(), 1u);
  const KernelHit& h = hits[0];
  EXPECT_EQ(h.candidate_id, softmax_.candidate);
  EXPECT_EQ(h.evaluation_id, softmax_.evaluation);
  EXPECT_EQ(h.task_name, "softmax_temperature");
  EXPECT_EQ(h.backend, "cuda");
  EXPECT_EQ(h.dtypes, "f32 f16 bf16");
  EXPECT_EQ(h.op_kinds, "elementwise softmax");
  EXPECT_EQ(h.provenance, "llm:openai:deepseek-chat");
  EXPECT_EQ(h.source, "__global__ void softmax_t() {}");
  ASSERT_TRUE(h.speedup.has_value());
  EXPECT_DOUBLE_EQ(*h.speedup, 3.0);
  EXPECT_FALSE(h.saved);
  EXPECT_LT(h.rank, 0);  // bm25: negative, lower is better

  // Porter stemming: "dims" finds "dim".
  EXPECT_EQ(Tasks(Search("dims")), std::vector<std::string>{"layernorm"});
  // Words in the description and formula count; case does not.
  EXPECT_EQ(Tasks(Search("GELU")), std::vector<std::string>{"linear_bias_gelu"});
  EXPECT_TRUE(Search("convolution").empty());
}

TEST_F(StoreSearchTest, AnyWordMatchesAndMoreWordsRankFirst) {
  // "temperature" only in softmax, "linear" only in the matmul kernel.
  std::vector<KernelHit> hits = Search("linear temperature softmax");
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].task_name, "softmax_temperature");  // two of the words
  EXPECT_EQ(hits[1].task_name, "linear_bias_gelu");
  EXPECT_LT(hits[0].rank, hits[1].rank);
}

TEST_F(StoreSearchTest, FiltersMatchWholeWords) {
  KernelSearchQuery q;
  q.dtype = "f16";  // not bf16
  EXPECT_EQ(Tasks(Search(q)), (std::vector<std::string>{"softmax_temperature", "linear_bias_gelu"}));
  q.dtype = "bf16";
  EXPECT_EQ(Tasks(Search(q)), (std::vector<std::string>{"softmax_temperature", "layernorm"}));
  q.dtype = "BF16";  // filters ignore case
  EXPECT_EQ(Search(q).size(), 2u);
  q.dtype = "f1";  // no partial words
  EXPECT_TRUE(Search(q).empty());

  q = {};
  q.op_kind = "norm";
  EXPECT_EQ(Tasks(Search(q)), std::vector<std::string>{"layernorm"});
  q.op_kind = "elementwise";
  EXPECT_EQ(Search(q).size(), 3u);
  q.backend = "triton";
  EXPECT_EQ(Tasks(Search(q)), std::vector<std::string>{"linear_bias_gelu"});

  // Filters and words together.
  q = {};
  q.text = "softmax gelu";
  q.backend = "triton";
  EXPECT_EQ(Tasks(Search(q)), std::vector<std::string>{"linear_bias_gelu"});
}

TEST_F(StoreSearchTest, PunctuationInAQueryIsNeverFtsSyntax) {
  for (const char* odd : {"softmax(x", "\"", "\"softmax", "softmax\"", "NEAR(softmax", "softmax AND OR NOT",
                          "*", "x / t, -1)", "^softmax", "softmax:", "col:softmax", "{a b}", "'", "+-", "x'); DROP TABLE"}) {
    auto hits = store_->SearchKernels({odd, {}, {}, {}, false, 10});
    EXPECT_TRUE(hits.ok()) << odd << ": " << hits.status().message();
  }
  // The words inside still match.
  EXPECT_EQ(Tasks(Search("softmax(x")).front(), "softmax_temperature");
  EXPECT_EQ(Tasks(Search("\"softmax")), std::vector<std::string>{"softmax_temperature"});
  // FTS operators are plain words: NOT does not exclude.
  EXPECT_EQ(Tasks(Search("NOT softmax")), std::vector<std::string>{"softmax_temperature"});
  // No word at all: no text condition, every kernel.
  EXPECT_EQ(Search("\"").size(), 3u);
  EXPECT_EQ(Search("").size(), 3u);
}

TEST_F(StoreSearchTest, WithoutWordsFasterKernelsComeFirstAndLimitCuts) {
  std::vector<KernelHit> hits = Search("");
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].task_name, "softmax_temperature");  // 3x
  EXPECT_EQ(hits[1].task_name, "layernorm");            // 1.5x
  EXPECT_EQ(hits[2].task_name, "linear_bias_gelu");     // never timed: last
  EXPECT_FALSE(hits[2].speedup.has_value());
  EXPECT_EQ(hits[0].rank, 0);
  KernelSearchQuery q;
  q.limit = 1;
  EXPECT_EQ(Tasks(Search(q)), std::vector<std::string>{"softmax_temperature"});
}

TEST_F(StoreSearchTest, ReindexingACandidateReplacesItsEntryAndKeepsItsSpeedup) {
  // A later verify (untimed) of the softmax candidate re-indexes it.
  int64_t verify = ValueOrDie(store_->BeginEvaluation(run_, softmax_.candidate, "verify"));
  ASSERT_TRUE(store_->FinishEvaluation(verify, "correct", "", "", 4, 4).ok());
  ASSERT_TRUE(store_->IndexProvenKernel({softmax_.candidate, verify, "softmax_temperature", "cuda", "f32",
                                         "softmax", "Renamed description: probabilities from logits"})
                  .ok());
  EXPECT_TRUE(Search("sampling").empty());  // the old text is gone from the index
  std::vector<KernelHit> hits = Search("probabilities");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].evaluation_id, verify);
  EXPECT_EQ(hits[0].dtypes, "f32");
  ASSERT_TRUE(hits[0].speedup.has_value());  // from the earlier bench of the same candidate
  EXPECT_DOUBLE_EQ(*hits[0].speedup, 3.0);
  EXPECT_EQ(Search("").size(), 3u);  // still one entry per candidate
  auto db = ValueOrDie(sqlite::Db::Open(store_->path()));
  EXPECT_TRUE(db.Exec("INSERT INTO proven_kernels_fts(proven_kernels_fts) VALUES ('integrity-check')", "t").ok());
}

TEST_F(StoreSearchTest, OnlyCorrectEvaluationsOfTheCandidateAreIndexed) {
  Kernel wrong = AddKernel("relu", "cpu", "void relu() {}", "wrong");
  Status s = Index(wrong, "relu", "cpu", "f32", "elementwise", "relu");
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("needs a finished evaluation"), std::string::npos) << s.message();
  // Another candidate's correct evaluation is not this candidate's proof.
  s = store_->IndexProvenKernel({wrong.candidate, softmax_.evaluation, "relu", "cpu", "f32", "", ""});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(store_->IndexProvenKernel({softmax_.candidate, softmax_.evaluation, "x", "tpu", "", "", ""}).code(),
            ErrorCode::kInvalidInput);
  EXPECT_TRUE(Search("relu").empty());
}

TEST_F(StoreSearchTest, SaveKernelRefusesWhatIsNotProvenCorrect) {
  Kernel wrong = AddKernel("relu", "cpu", "void relu() {}", "wrong");
  auto refused = store_->SaveKernel(wrong.evaluation, "kernels/relu.cpp", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(refused.status().message().find("verdict is 'wrong'"), std::string::npos) << refused.status().message();

  int64_t unfinished = ValueOrDie(store_->BeginEvaluation(run_, softmax_.candidate, "verify"));
  refused = store_->SaveKernel(unfinished, "", "");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(refused.status().message().find("has not finished"), std::string::npos) << refused.status().message();

  EXPECT_EQ(store_->SaveKernel(9999, "", "").status().code(), ErrorCode::kNotFound);

  // The schema refuses it for any writer, not only through SaveKernel.
  auto db = ValueOrDie(sqlite::Db::Open(store_->path()));
  Status raw = db.Exec("INSERT INTO saved_kernels(evaluation_id, path, note) VALUES (" +
                           std::to_string(wrong.evaluation) + ", '', '')",
                       "t");
  EXPECT_EQ(raw.code(), ErrorCode::kInvalidInput);
}

TEST_F(StoreSearchTest, SavedKernelsAreMarkedAndCanBeSearchedAlone) {
  int64_t id = ValueOrDie(store_->SaveKernel(layernorm_.evaluation, "kernels/layernorm.cpp", "first note"));
  EXPECT_EQ(ValueOrDie(store_->SaveKernel(layernorm_.evaluation, "kernels/layernorm.cpp", "second note")), id);
  EXPECT_NE(ValueOrDie(store_->SaveKernel(layernorm_.evaluation, "elsewhere.cpp", "")), id);
  auto db = ValueOrDie(sqlite::Db::Open(store_->path()));
  EXPECT_EQ(ValueOrDie(db.QueryText("SELECT note FROM saved_kernels WHERE id = " + std::to_string(id), "t")),
            "second note");

  KernelSearchQuery q;
  q.saved_only = true;
  std::vector<KernelHit> hits = Search(q);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].task_name, "layernorm");
  EXPECT_TRUE(hits[0].saved);
  q.text = "softmax";
  EXPECT_TRUE(Search(q).empty());
  for (const KernelHit& h : Search(""))
    EXPECT_EQ(h.saved, h.task_name == "layernorm") << h.task_name;
}

}  // namespace
}  // namespace anvil
