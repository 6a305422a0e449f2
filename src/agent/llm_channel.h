// LlmChannel: how the conductor talks to a model, and how a session is
// recorded and replayed.
//
// Every call names its place in the session, ExchangeKey{round, slot, role}:
// at most one designer and one coder call per slot and round (and one
// reference_writer call in round 0), so the key identifies a call across a
// live run and its replay.
//   LiveChannel    sends the request to an llm::Provider and records the
//                  exchange (prompt, reply or error, usage, latency,
//                  attempts) with Store::RecordExchange the moment it returns.
//                  A failed call's error is recorded with its code
//                  (RecordedError), so its replay fails the same way: a
//                  cancelled call replays as kCancelled, not as a provider failure.
//   ReplayChannel  serves the replies a recorded session got, by key, without
//                  any network; counts the requests whose prompts differ from
//                  the recorded ones (timings in feedback differ between runs,
//                  so a differing prompt is reported, not an error). A key the
//                  recording lacks means the replay took another path: an
//                  error "replay diverged: ...".
//
// Threading: Call may run on several threads at once (the parallel slots of
// a round). Recording goes through ExchangeRecorder, which owns its own
// Store connection on the session's database file, guarded by a mutex: a
// Store is one SQLite connection that belongs to one thread at a time, and
// the conductor's connection is busy on the main thread with evaluations.
// SQLite (WAL) serialises the two connections' writes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "agent/llm/cancel_token.h"
#include "agent/llm/chat.h"
#include "agent/llm/cost.h"
#include "store/store.h"
#include "util/status.h"

namespace anvil::agent {

struct ExchangeKey {
  int round = 0;
  int slot = 0;
  std::string role;  // designer | coder | reference_writer
};

// The request as stored in ExchangeRecord::request_json:
// {"system", "messages":[{"role","content"}], "model", "max_tokens", "temperature"}.
// Invalid UTF-8 in the prompts is replaced by U+FFFD (never throws).
std::string RequestJson(const llm::ChatRequest& request);

// A failed call's Status as ExchangeRecord::error keeps it: "[code] message",
// code one of invalid_input, not_found, unsupported, io, build_failed,
// protocol, unavailable, cancelled, internal. (The store has no column for
// the code; the tag keeps old databases as they are.)
std::string RecordedError(const Status& status);
// The Status a recorded error replays as: its tagged code, or kUnavailable
// for a record without a tag (written before codes were recorded) — a
// provider that failed, which is what those records almost always were.
Status ReplayedError(const std::string& recorded);

// Records exchanges into one session. Created before the session exists
// when need be (the reference writer runs before there is a task to start a
// session on): records made before BindSession are kept and written then.
class ExchangeRecorder {
 public:
  static Result<std::unique_ptr<ExchangeRecorder>> Open(const std::string& store_path);
  // Writes the pending records with this session id; later records go straight to the store.
  Status BindSession(int64_t session_id);
  Status Record(ExchangeRecord record);

 private:
  explicit ExchangeRecorder(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  std::mutex mu_;
  std::unique_ptr<Store> store_;
  int64_t session_id_ = 0;
  std::vector<ExchangeRecord> pending_;
};

class LlmChannel {
 public:
  virtual ~LlmChannel() = default;
  // The reply, or the call's error (the provider's message; kCancelled when
  // cancelled). `bill_to` (may be null) gets every reply the model sent,
  // even when the call then fails (its exchange could not be recorded):
  // tokens the provider charged for are always counted.
  virtual Result<llm::ChatResponse> Call(const ExchangeKey& key, const llm::ChatRequest& request,
                                         llm::UsageLedger* bill_to) = 0;
  Result<llm::ChatResponse> Call(const ExchangeKey& key, const llm::ChatRequest& request) {
    return Call(key, request, nullptr);
  }
  virtual std::string provider() const = 0;  // "openai"
  virtual std::string model() const = 0;     // the model requests name
};

class LiveChannel : public LlmChannel {
 public:
  // Both must outlive the channel; `recorder` may be null (nothing recorded).
  LiveChannel(llm::Provider& provider, ExchangeRecorder* recorder, const llm::CancelToken& cancel)
      : provider_(provider), recorder_(recorder), cancel_(cancel) {}
  using LlmChannel::Call;
  Result<llm::ChatResponse> Call(const ExchangeKey& key, const llm::ChatRequest& request,
                                 llm::UsageLedger* bill_to) override;
  std::string provider() const override { return provider_.Name(); }
  std::string model() const override { return provider_.DefaultModel(); }

 private:
  llm::Provider& provider_;
  ExchangeRecorder* recorder_;
  const llm::CancelToken& cancel_;
};

class ReplayChannel : public LlmChannel {
 public:
  // `recorded`: the original session's exchanges. Replies served are also
  // recorded into the replay's own session through `recorder` (may be null).
  ReplayChannel(const std::vector<ExchangeRecord>& recorded, std::string provider, std::string model,
                ExchangeRecorder* recorder);
  using LlmChannel::Call;
  // A recorded reply is added to `bill_to` as the live call's was.
  Result<llm::ChatResponse> Call(const ExchangeKey& key, const llm::ChatRequest& request,
                                 llm::UsageLedger* bill_to) override;
  std::string provider() const override { return provider_; }
  std::string model() const override { return model_; }

  int calls() const;
  // Calls whose request differed from the recorded one, and the first such key ("round 2 slot 0 coder").
  int differing_prompts() const;
  std::string first_differing() const;

 private:
  using Key = std::tuple<int, int, std::string>;
  std::map<Key, ExchangeRecord> recorded_;
  std::string provider_, model_;
  ExchangeRecorder* recorder_;
  mutable std::mutex mu_;
  int calls_ = 0, differing_ = 0;
  std::string first_differing_;
};

}  // namespace anvil::agent
