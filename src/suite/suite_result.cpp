#include "suite/suite_result.h"

#include <array>
#include <utility>

#include <fmt/format.h>

namespace anvil::suite {
namespace {

constexpr std::array<std::pair<TaskStatus, const char*>, 6> kStatusNames = {{
    {TaskStatus::kCorrect, "correct"},
    {TaskStatus::kIncorrect, "incorrect"},
    {TaskStatus::kBuildFailed, "build_failed"},
    {TaskStatus::kNoKernel, "no_kernel"},
    {TaskStatus::kError, "error"},
    {TaskStatus::kPending, "pending"},
}};

std::optional<double> Ratio(std::optional<double> num, double den) {
  if (!num || den <= 0 || *num <= 0) return std::nullopt;
  return *num / den;
}

void PutOptional(nlohmann::json& j, const char* key, const std::optional<double>& v) {
  if (v) j[key] = *v;
}

// Reads an optional number; a present value of the wrong type is a protocol error.
Result<std::optional<double>> GetOptional(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<double>{};
  if (!it->is_number()) return ProtocolError(fmt::format("suite run JSON: '{}' must be a number", key));
  return std::optional<double>{it->get<double>()};
}

template <typename T>
Result<T> Get(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return ProtocolError(fmt::format("suite run JSON: missing '{}'", key));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return ProtocolError(fmt::format("suite run JSON: '{}' has the wrong type ({})", key, e.what()));
  }
}

}  // namespace

const char* TaskStatusName(TaskStatus status) {
  for (const auto& [s, name] : kStatusNames)
    if (s == status) return name;
  return "pending";
}

Result<TaskStatus> ParseTaskStatus(const std::string& name) {
  for (const auto& [s, n] : kStatusNames)
    if (name == n) return s;
  return ProtocolError(fmt::format("unknown task status '{}'", name));
}

std::optional<double> CaseTiming::SpeedupEager() const { return Ratio(eager_ns, candidate_ns); }
std::optional<double> CaseTiming::SpeedupCompiled() const { return Ratio(compiled_ns, candidate_ns); }
std::optional<double> CaseTiming::SolFraction() const { return Ratio(speed_of_light_ns, candidate_ns); }

nlohmann::json ToJson(const TaskResult& t) {
  nlohmann::json timings = nlohmann::json::array();
  for (const CaseTiming& c : t.timings) {
    nlohmann::json cj = {{"label", c.label}, {"dtype", c.dtype}, {"candidate_ns", c.candidate_ns}};
    PutOptional(cj, "eager_ns", c.eager_ns);
    PutOptional(cj, "compiled_ns", c.compiled_ns);
    PutOptional(cj, "speed_of_light_ns", c.speed_of_light_ns);
    PutOptional(cj, "min_bytes", c.min_bytes);
    PutOptional(cj, "flops", c.flops);
    timings.push_back(std::move(cj));
  }
  return {{"task", t.task},
          {"op", t.op},
          {"dtypes", t.dtypes},
          {"status", TaskStatusName(t.status)},
          {"verdict", t.verdict},
          {"reason", t.reason},
          {"evaluation_id", t.evaluation_id},
          {"timings", std::move(timings)},
          {"seconds", t.seconds},
          {"tokens", t.tokens}};
}

nlohmann::json ToJson(const SuiteRun& run) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const TaskResult& t : run.tasks) tasks.push_back(ToJson(t));
  return {{"id", run.id},
          {"suite", run.suite},
          {"target", run.target},
          {"generator", run.generator},
          {"device", run.device},
          {"software", run.software},
          {"started_at", run.started_at},
          {"finished_at", run.finished_at},
          {"tasks", std::move(tasks)}};
}

Result<TaskResult> TaskResultFromJson(const nlohmann::json& tj) {
  if (!tj.is_object()) return ProtocolError("suite run JSON: a task result must be an object");
  TaskResult t;
  ANVIL_ASSIGN_OR_RETURN(t.task, Get<std::string>(tj, "task"));
  ANVIL_ASSIGN_OR_RETURN(t.op, Get<std::string>(tj, "op"));
  ANVIL_ASSIGN_OR_RETURN(t.dtypes, Get<std::vector<std::string>>(tj, "dtypes"));
  ANVIL_ASSIGN_OR_RETURN(std::string status, Get<std::string>(tj, "status"));
  ANVIL_ASSIGN_OR_RETURN(t.status, ParseTaskStatus(status));
  ANVIL_ASSIGN_OR_RETURN(t.verdict, Get<std::string>(tj, "verdict"));
  ANVIL_ASSIGN_OR_RETURN(t.reason, Get<std::string>(tj, "reason"));
  ANVIL_ASSIGN_OR_RETURN(t.evaluation_id, Get<int64_t>(tj, "evaluation_id"));
  ANVIL_ASSIGN_OR_RETURN(t.seconds, Get<double>(tj, "seconds"));
  ANVIL_ASSIGN_OR_RETURN(t.tokens, Get<long long>(tj, "tokens"));
  ANVIL_ASSIGN_OR_RETURN(nlohmann::json timings, Get<nlohmann::json>(tj, "timings"));
  if (!timings.is_array()) return ProtocolError("suite run JSON: 'timings' must be an array");
  for (const nlohmann::json& cj : timings) {
    CaseTiming c;
    ANVIL_ASSIGN_OR_RETURN(c.label, Get<std::string>(cj, "label"));
    ANVIL_ASSIGN_OR_RETURN(c.dtype, Get<std::string>(cj, "dtype"));
    ANVIL_ASSIGN_OR_RETURN(c.candidate_ns, Get<double>(cj, "candidate_ns"));
    ANVIL_ASSIGN_OR_RETURN(c.eager_ns, GetOptional(cj, "eager_ns"));
    ANVIL_ASSIGN_OR_RETURN(c.compiled_ns, GetOptional(cj, "compiled_ns"));
    ANVIL_ASSIGN_OR_RETURN(c.speed_of_light_ns, GetOptional(cj, "speed_of_light_ns"));
    ANVIL_ASSIGN_OR_RETURN(c.min_bytes, GetOptional(cj, "min_bytes"));
    ANVIL_ASSIGN_OR_RETURN(c.flops, GetOptional(cj, "flops"));
    t.timings.push_back(std::move(c));
  }
  return t;
}

Result<SuiteRun> SuiteRunFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return ProtocolError("suite run JSON: expected an object");
  SuiteRun run;
  ANVIL_ASSIGN_OR_RETURN(run.id, Get<int64_t>(j, "id"));
  ANVIL_ASSIGN_OR_RETURN(run.suite, Get<std::string>(j, "suite"));
  ANVIL_ASSIGN_OR_RETURN(run.target, Get<std::string>(j, "target"));
  ANVIL_ASSIGN_OR_RETURN(run.generator, Get<std::string>(j, "generator"));
  ANVIL_ASSIGN_OR_RETURN(run.device, Get<std::string>(j, "device"));
  ANVIL_ASSIGN_OR_RETURN(run.software, Get<std::string>(j, "software"));
  ANVIL_ASSIGN_OR_RETURN(run.started_at, Get<std::string>(j, "started_at"));
  ANVIL_ASSIGN_OR_RETURN(run.finished_at, Get<std::string>(j, "finished_at"));
  ANVIL_ASSIGN_OR_RETURN(nlohmann::json tasks, Get<nlohmann::json>(j, "tasks"));
  if (!tasks.is_array()) return ProtocolError("suite run JSON: 'tasks' must be an array");
  for (const nlohmann::json& tj : tasks) {
    ANVIL_ASSIGN_OR_RETURN(TaskResult t, TaskResultFromJson(tj));
    run.tasks.push_back(std::move(t));
  }
  return run;
}

}  // namespace anvil::suite
