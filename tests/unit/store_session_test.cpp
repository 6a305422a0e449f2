// Store: agent sessions, their LLM exchanges and session candidates (schema
// migration 5): round trips, the schema refusing bad values and dangling
// ids, abandoned sessions marked with their run.
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_util.h"

namespace anvil {
namespace {

using anvil::testing::ScratchDir;

const std::regex kIsoUtc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

template <typename T>
T ValueOrDie(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().message();
  return std::move(r).value();
}

// A store with one run, task, candidate and a finished correct evaluation.
struct Fixture {
  ScratchDir dir;
  std::unique_ptr<Store> store = ValueOrDie(Store::Open(dir.File("anvil.db")));
  int64_t run = ValueOrDie(store->BeginRun("gen", "{}"));
  int64_t task = ValueOrDie(store->UpsertTask("softmax", "softmax.toml", "h", "formula = 'softmax(x, -1)'"));
  int64_t candidate = ValueOrDie(store->UpsertCandidate(task, "cuda", "k.cu", "s", "__global__ void k() {}",
                                                        "llm:openai:deepseek-chat"));
  int64_t evaluation = [this] {
    int64_t id = ValueOrDie(store->BeginEvaluation(run, candidate, "bench"));
    EXPECT_TRUE(store->FinishEvaluation(id, "correct", "", "", 4, 4).ok());
    return id;
  }();

  SessionRow Row() const {
    SessionRow row;
    row.run_id = run;
    row.task_id = task;
    row.backend = "cuda";
    row.input_form = "words";
    row.reference_author = "model:openai:deepseek-chat";
    row.provider = "openai";
    row.model = "deepseek-chat";
    row.options_json = R"({"rounds":6,"parallel":4})";
    return row;
  }
};

TEST(StoreSessionTest, BeginAndFinishRoundTrip) {
  Fixture f;
  SessionRow row = f.Row();
  row.status = "converged";       // ignored: a new session is running
  row.finished_at = "yesterday";  // ignored
  int64_t id = ValueOrDie(f.store->BeginSession(row));
  SessionRow got = ValueOrDie(f.store->GetSession(id));
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.run_id, f.run);
  EXPECT_EQ(got.task_id, f.task);
  EXPECT_EQ(got.backend, "cuda");
  EXPECT_EQ(got.input_form, "words");
  EXPECT_EQ(got.reference_author, "model:openai:deepseek-chat");
  EXPECT_EQ(got.provider, "openai");
  EXPECT_EQ(got.model, "deepseek-chat");
  EXPECT_EQ(got.options_json, R"({"rounds":6,"parallel":4})");
  EXPECT_EQ(got.status, "running");
  EXPECT_EQ(got.best_evaluation_id, 0);
  EXPECT_EQ(got.cost_usd, std::nullopt);
  EXPECT_EQ(got.replay_of, 0);
  EXPECT_TRUE(std::regex_match(got.started_at, kIsoUtc)) << got.started_at;
  EXPECT_EQ(got.finished_at, "");

  ASSERT_TRUE(f.store->FinishSession(id, "converged", "target speedup 1.5x reached", f.evaluation, 1200, 340, 0.0125)
                  .ok());
  got = ValueOrDie(f.store->GetSession(id));
  EXPECT_EQ(got.status, "converged");
  EXPECT_EQ(got.stop_reason, "target speedup 1.5x reached");
  EXPECT_EQ(got.best_evaluation_id, f.evaluation);
  EXPECT_EQ(got.input_tokens, 1200);
  EXPECT_EQ(got.output_tokens, 340);
  ASSERT_TRUE(got.cost_usd.has_value());
  EXPECT_DOUBLE_EQ(*got.cost_usd, 0.0125);
  EXPECT_TRUE(std::regex_match(got.finished_at, kIsoUtc)) << got.finished_at;

  // A replay points at the session it replays; an empty options text is {}.
  SessionRow replay = f.Row();
  replay.replay_of = id;
  replay.options_json = "";
  int64_t replay_id = ValueOrDie(f.store->BeginSession(replay));
  EXPECT_EQ(ValueOrDie(f.store->GetSession(replay_id)).replay_of, id);
  EXPECT_EQ(ValueOrDie(f.store->GetSession(replay_id)).options_json, "{}");

  // Newest first, limited.
  std::vector<SessionRow> all = ValueOrDie(f.store->QuerySessions(0));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, replay_id);
  EXPECT_EQ(all[1].id, id);
  EXPECT_EQ(ValueOrDie(f.store->QuerySessions(1)).size(), 1u);
}

TEST(StoreSessionTest, RefusesBadValuesAndUnknownIds) {
  Fixture f;
  auto expect_invalid = [](const Result<int64_t>& r, const std::string& needle) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
  };
  SessionRow bad = f.Row();
  bad.backend = "tpu";
  expect_invalid(f.store->BeginSession(bad), "CHECK constraint failed");
  bad = f.Row();
  bad.input_form = "dream";
  expect_invalid(f.store->BeginSession(bad), "CHECK constraint failed");
  bad = f.Row();
  bad.options_json = "[1, 2]";  // valid JSON, but not an object
  expect_invalid(f.store->BeginSession(bad), "CHECK constraint failed");
  bad = f.Row();
  bad.options_json = "{rounds";
  expect_invalid(f.store->BeginSession(bad), "options_json is not valid JSON");
  bad = f.Row();
  bad.run_id = f.run + 50;
  expect_invalid(f.store->BeginSession(bad), "FOREIGN KEY constraint failed");
  bad = f.Row();
  bad.task_id = f.task + 50;
  expect_invalid(f.store->BeginSession(bad), "FOREIGN KEY constraint failed");
  bad = f.Row();
  bad.replay_of = 777;
  expect_invalid(f.store->BeginSession(bad), "FOREIGN KEY constraint failed");

  int64_t id = ValueOrDie(f.store->BeginSession(f.Row()));
  Status running = f.store->FinishSession(id, "running", "", 0, 0, 0, std::nullopt);
  EXPECT_EQ(running.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(running.message().find("final status"), std::string::npos) << running.message();
  EXPECT_EQ(f.store->FinishSession(id, "exploded", "", 0, 0, 0, std::nullopt).code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(f.store->FinishSession(id, "failed", "", f.evaluation + 9, 0, 0, std::nullopt).code(),
            ErrorCode::kInvalidInput);  // no such evaluation
  EXPECT_EQ(f.store->FinishSession(id, "failed", "", 0, -1, 0, std::nullopt).code(), ErrorCode::kInvalidInput);
  Status missing = f.store->FinishSession(id + 9, "failed", "", 0, 0, 0, std::nullopt);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("no such session"), std::string::npos) << missing.message();
  EXPECT_EQ(f.store->GetSession(id + 9).status().code(), ErrorCode::kNotFound);
  // The refused finishes changed nothing.
  EXPECT_EQ(ValueOrDie(f.store->GetSession(id)).status, "running");
}

TEST(StoreSessionTest, ExchangesRoundTripInInsertionOrder) {
  Fixture f;
  int64_t session = ValueOrDie(f.store->BeginSession(f.Row()));
  ExchangeRecord writer;
  writer.session_id = session;
  writer.round = 0;
  writer.role = "reference_writer";
  writer.request_json = R"({"system":"write a reference","messages":[{"role":"user","content":"softmax"}]})";
  writer.response_text = "```python\nclass Model: ...\n```";
  writer.model = "deepseek-chat-v3";
  writer.input_tokens = 100;
  writer.output_tokens = 50;
  writer.latency_s = 1.5;
  writer.attempts = 1;
  writer.cost_usd = 0.001;
  ExchangeRecord failed;
  failed.session_id = session;
  failed.round = 1;
  failed.slot = 3;
  failed.role = "coder";
  failed.request_json = R"({"messages":[]})";
  failed.error = "HTTP 500 after 3 attempts";
  failed.latency_s = 9.25;
  failed.attempts = 3;
  int64_t first = ValueOrDie(f.store->RecordExchange(writer));
  int64_t second = ValueOrDie(f.store->RecordExchange(failed));
  EXPECT_LT(first, second);

  std::vector<ExchangeRecord> got = ValueOrDie(f.store->QueryExchanges(session));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].id, first);
  EXPECT_EQ(got[0].session_id, session);
  EXPECT_EQ(got[0].role, "reference_writer");
  EXPECT_EQ(got[0].request_json, writer.request_json);
  EXPECT_EQ(got[0].response_text, writer.response_text);
  EXPECT_EQ(got[0].error, "");
  EXPECT_EQ(got[0].model, "deepseek-chat-v3");
  EXPECT_EQ(got[0].input_tokens, 100);
  EXPECT_EQ(got[0].output_tokens, 50);
  EXPECT_DOUBLE_EQ(got[0].latency_s, 1.5);
  EXPECT_EQ(got[0].attempts, 1);
  EXPECT_EQ(got[0].cost_usd, 0.001);
  EXPECT_TRUE(std::regex_match(got[0].created_at, kIsoUtc)) << got[0].created_at;
  EXPECT_EQ(got[1].round, 1);
  EXPECT_EQ(got[1].slot, 3);
  EXPECT_EQ(got[1].error, "HTTP 500 after 3 attempts");
  EXPECT_EQ(got[1].response_text, "");
  EXPECT_EQ(got[1].cost_usd, std::nullopt);
  EXPECT_TRUE(ValueOrDie(f.store->QueryExchanges(session + 1)).empty());

  ExchangeRecord bad = writer;
  bad.role = "critic";
  EXPECT_EQ(f.store->RecordExchange(bad).status().code(), ErrorCode::kInvalidInput);
  bad = writer;
  bad.request_json = "{oops";
  auto not_json = f.store->RecordExchange(bad);
  EXPECT_EQ(not_json.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(not_json.status().message().find("request_json is not valid JSON"), std::string::npos);
  bad = writer;
  bad.session_id = session + 5;
  EXPECT_EQ(f.store->RecordExchange(bad).status().code(), ErrorCode::kInvalidInput);  // foreign key
  bad = writer;
  bad.latency_s = -1;
  EXPECT_EQ(f.store->RecordExchange(bad).status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(ValueOrDie(f.store->QueryExchanges(session)).size(), 2u);
}

TEST(StoreSessionTest, SessionCandidatesRoundTripAndNeedAnEvaluationWhenEvaluated) {
  Fixture f;
  int64_t session = ValueOrDie(f.store->BeginSession(f.Row()));
  SessionCandidateRecord no_code;
  no_code.session_id = session;
  no_code.round = 1;
  no_code.slot = 0;
  no_code.action = "design";
  no_code.outcome = "no_code";
  no_code.reason = "the reply has no code block";
  no_code.feedback = "Reply with one ```cuda block.";
  SessionCandidateRecord evaluated;
  evaluated.session_id = session;
  evaluated.round = 1;
  evaluated.slot = 1;
  evaluated.action = "design";
  evaluated.outcome = "evaluated";
  evaluated.candidate_id = f.candidate;
  evaluated.evaluation_id = f.evaluation;
  evaluated.source_hash = "s";
  evaluated.verdict = "correct";
  evaluated.speedup = 1.75;
  evaluated.feedback = "correct, 1.75x eager\nmemory bound: 62% of copy bandwidth";
  ASSERT_TRUE(f.store->RecordSessionCandidate(no_code).ok());
  ASSERT_TRUE(f.store->RecordSessionCandidate(evaluated).ok());

  std::vector<SessionCandidateRecord> got = ValueOrDie(f.store->QuerySessionCandidates(session));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].outcome, "no_code");
  EXPECT_EQ(got[0].candidate_id, 0);
  EXPECT_EQ(got[0].evaluation_id, 0);
  EXPECT_EQ(got[0].speedup, std::nullopt);
  EXPECT_EQ(got[0].reason, "the reply has no code block");
  EXPECT_EQ(got[0].feedback, no_code.feedback);
  EXPECT_TRUE(std::regex_match(got[0].created_at, kIsoUtc)) << got[0].created_at;
  EXPECT_EQ(got[1].slot, 1);
  EXPECT_EQ(got[1].candidate_id, f.candidate);
  EXPECT_EQ(got[1].evaluation_id, f.evaluation);
  EXPECT_EQ(got[1].verdict, "correct");
  EXPECT_EQ(got[1].speedup, 1.75);
  EXPECT_EQ(got[1].feedback, evaluated.feedback);

  SessionCandidateRecord bad = evaluated;
  bad.evaluation_id = 0;  // evaluated without an evaluation
  EXPECT_EQ(f.store->RecordSessionCandidate(bad).code(), ErrorCode::kInvalidInput);
  bad = evaluated;
  bad.action = "pray";
  EXPECT_EQ(f.store->RecordSessionCandidate(bad).code(), ErrorCode::kInvalidInput);
  bad = evaluated;
  bad.outcome = "ignored";
  EXPECT_EQ(f.store->RecordSessionCandidate(bad).code(), ErrorCode::kInvalidInput);
  bad = evaluated;
  bad.candidate_id = f.candidate + 100;
  EXPECT_EQ(f.store->RecordSessionCandidate(bad).code(), ErrorCode::kInvalidInput);  // foreign key
  EXPECT_EQ(ValueOrDie(f.store->QuerySessionCandidates(session)).size(), 2u);
}

TEST(StoreSessionTest, AbandonedRunsInterruptTheirRunningSessions) {
  ScratchDir dir;
  const std::string path = dir.File("anvil.db");
  int64_t dead_session = 0, finished_session = 0;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A process that starts a run with two sessions, finishes one and dies.
    auto store = Store::Open(path);
    if (!store.ok()) _exit(1);
    auto run = (*store)->BeginRun("gen", "{}");
    auto task = (*store)->UpsertTask("t", "t.toml", "h", "x");
    if (!run.ok() || !task.ok()) _exit(2);
    SessionRow row;
    row.run_id = *run;
    row.task_id = *task;
    row.backend = "cpu";
    row.input_form = "task";
    row.provider = "openai";
    row.model = "m";
    auto a = (*store)->BeginSession(row);
    auto b = (*store)->BeginSession(row);
    if (!a.ok() || !b.ok()) _exit(3);
    if (!(*store)->FinishSession(*b, "exhausted", "6 rounds used", 0, 1, 2, std::nullopt).ok()) _exit(4);
    _exit(0);  // without FinishRun: the run is abandoned
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << wstatus;
  dead_session = 1;
  finished_session = 2;

  auto store = ValueOrDie(Store::Open(path));
  EXPECT_EQ(ValueOrDie(store->MarkAbandonedRuns()), 1);
  SessionRow dead = ValueOrDie(store->GetSession(dead_session));
  EXPECT_EQ(dead.status, "interrupted");
  EXPECT_NE(dead.stop_reason.find("ended before it finished"), std::string::npos) << dead.stop_reason;
  EXPECT_FALSE(dead.finished_at.empty());
  SessionRow done = ValueOrDie(store->GetSession(finished_session));
  EXPECT_EQ(done.status, "exhausted");
  EXPECT_EQ(done.stop_reason, "6 rounds used");
  EXPECT_EQ(ValueOrDie(store->GetRun(dead.run_id)).status, "interrupted");
}

}  // namespace
}  // namespace anvil
