// Live and replayed LLM calls, recorded per session (see llm_channel.h).
#include "agent/llm_channel.h"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace anvil::agent {

std::string RequestJson(const llm::ChatRequest& request) {
  nlohmann::json messages = nlohmann::json::array();
  for (const llm::Message& m : request.messages)
    messages.push_back({{"role", llm::RoleName(m.role)}, {"content", m.content}});
  nlohmann::json j = {{"system", request.system},
                      {"messages", messages},
                      {"model", request.model},
                      {"max_tokens", request.max_tokens}};
  j["temperature"] = request.temperature ? nlohmann::json(*request.temperature) : nlohmann::json();
  // Prompts carry bytes from outside (worker stderr, compiler logs, module
  // sources, store examples) that need not be UTF-8: replace invalid bytes
  // (U+FFFD) rather than let dump() throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// The tags of RecordedError, one per error code.
constexpr std::pair<ErrorCode, const char*> kErrorTags[] = {
    {ErrorCode::kInvalidInput, "invalid_input"}, {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kUnsupported, "unsupported"},    {ErrorCode::kIo, "io"},
    {ErrorCode::kBuildFailed, "build_failed"},   {ErrorCode::kProtocol, "protocol"},
    {ErrorCode::kUnavailable, "unavailable"},    {ErrorCode::kCancelled, "cancelled"},
    {ErrorCode::kInternal, "internal"},
};

}  // namespace

std::string RecordedError(const Status& status) {
  for (const auto& [code, tag] : kErrorTags)
    if (code == status.code()) return fmt::format("[{}] {}", tag, status.message());
  return fmt::format("[internal] {}", status.message());
}

Status ReplayedError(const std::string& recorded) {
  if (!recorded.empty() && recorded[0] == '[') {
    const size_t close = recorded.find("] ");
    if (close != std::string::npos) {
      const std::string tag = recorded.substr(1, close - 1);
      for (const auto& [code, name] : kErrorTags)
        if (tag == name) return Status::Error(code, recorded.substr(close + 2));
    }
  }
  return Unavailable(recorded);
}

Result<std::unique_ptr<ExchangeRecorder>> ExchangeRecorder::Open(const std::string& store_path) {
  ANVIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(store_path));
  return std::unique_ptr<ExchangeRecorder>(new ExchangeRecorder(std::move(store)));
}

Status ExchangeRecorder::BindSession(int64_t session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  session_id_ = session_id;
  std::vector<ExchangeRecord> pending = std::move(pending_);
  pending_.clear();
  for (ExchangeRecord& r : pending) {
    r.session_id = session_id;
    auto id = store_->RecordExchange(r);
    if (!id.ok()) return id.status().Context("recording an LLM exchange");
  }
  return Status::Ok();
}

Status ExchangeRecorder::Record(ExchangeRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (session_id_ == 0) {
    pending_.push_back(std::move(record));
    return Status::Ok();
  }
  record.session_id = session_id_;
  auto id = store_->RecordExchange(record);
  if (!id.ok()) return id.status().Context("recording an LLM exchange");
  return Status::Ok();
}

namespace {

ExchangeRecord RecordOf(const ExchangeKey& key, const std::string& request_json) {
  ExchangeRecord r;
  r.round = key.round;
  r.slot = key.slot;
  r.role = key.role;
  r.request_json = request_json;
  return r;
}

void FillFromResponse(ExchangeRecord& r, const llm::ChatResponse& response) {
  r.response_text = response.text;
  r.model = response.model;
  r.input_tokens = response.usage.input_tokens;
  r.output_tokens = response.usage.output_tokens;
  r.latency_s = response.latency_s;
  r.attempts = response.attempts;
  r.cost_usd = response.cost_usd;
}

}  // namespace

Result<llm::ChatResponse> LiveChannel::Call(const ExchangeKey& key, const llm::ChatRequest& request,
                                            llm::UsageLedger* bill_to) {
  Result<llm::ChatResponse> response = provider_.Complete(request, cancel_);
  // Billed before recording: a reply the provider charged for counts even if the store then fails.
  if (response.ok() && bill_to != nullptr) bill_to->Add(*response);
  if (recorder_ != nullptr) {
    ExchangeRecord r = RecordOf(key, RequestJson(request));
    if (response.ok()) FillFromResponse(r, *response);
    else r.error = RecordedError(response.status());
    // An exchange that cannot be recorded could not be replayed: the store's error wins.
    ANVIL_RETURN_IF_ERROR(recorder_->Record(std::move(r)));
  }
  return response;
}

ReplayChannel::ReplayChannel(const std::vector<ExchangeRecord>& recorded, std::string provider, std::string model,
                             ExchangeRecorder* recorder)
    : provider_(std::move(provider)), model_(std::move(model)), recorder_(recorder) {
  // A key recorded twice (not written by this loop, which makes one call per key) keeps the first.
  for (const ExchangeRecord& r : recorded) recorded_.emplace(Key{r.round, r.slot, r.role}, r);
}

Result<llm::ChatResponse> ReplayChannel::Call(const ExchangeKey& key, const llm::ChatRequest& request,
                                              llm::UsageLedger* bill_to) {
  const std::string request_json = RequestJson(request);
  auto it = recorded_.find(Key{key.round, key.slot, key.role});
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    if (it == recorded_.end())
      return InvalidInput(fmt::format("replay diverged: the recorded session has no {} call for round {} slot {}",
                                      key.role, key.round, key.slot));
    if (it->second.request_json != request_json) {
      ++differing_;
      if (first_differing_.empty())
        first_differing_ = fmt::format("round {} slot {} {}", key.round, key.slot, key.role);
    }
  }
  const ExchangeRecord& old = it->second;
  if (recorder_ != nullptr) {
    ExchangeRecord r = old;
    r.id = 0;
    r.session_id = 0;
    r.request_json = request_json;  // what this run asked, so the replay's own record is faithful
    r.created_at.clear();
    ANVIL_RETURN_IF_ERROR(recorder_->Record(std::move(r)));
  }
  if (!old.error.empty()) return ReplayedError(old.error);
  llm::ChatResponse response;
  response.text = old.response_text;
  response.model = old.model;
  response.usage.input_tokens = old.input_tokens;
  response.usage.output_tokens = old.output_tokens;
  response.latency_s = old.latency_s;
  response.attempts = old.attempts;
  response.cost_usd = old.cost_usd;
  response.finish_reason = "replayed";
  if (bill_to != nullptr) bill_to->Add(response);
  return response;
}

int ReplayChannel::calls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_;
}

int ReplayChannel::differing_prompts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return differing_;
}

std::string ReplayChannel::first_differing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_differing_;
}

}  // namespace anvil::agent
