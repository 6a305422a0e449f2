// Starting an agent session's records (see session_start.h).
#include "agent/session_start.h"

#include <nlohmann/json.hpp>

#include "util/hash.h"

namespace anvil::agent {

Result<int64_t> BeginAgentSession(Store& store, ExchangeRecorder& recorder, const Task& task,
                                  const ConductorOptions& options, const SessionStart& start) {
  nlohmann::json options_json = options.ToJson();
  options_json["threads"] = start.threads;
  options_json["mode"] = start.timed ? "bench" : "verify";

  ANVIL_ASSIGN_OR_RETURN(int64_t task_id,
                         store.UpsertTask(task.name, task.source_path, HashOf(task.source_text), task.source_text));
  SessionRow row;
  row.run_id = start.run_id;
  row.task_id = task_id;
  row.backend = start.backend;
  row.input_form = start.input_form;
  row.reference_author = start.reference_author;
  row.provider = start.provider;
  row.model = start.model;
  row.options_json = options_json.dump();
  ANVIL_ASSIGN_OR_RETURN(int64_t session_id, store.BeginSession(row));
  ANVIL_RETURN_IF_ERROR(recorder.BindSession(session_id));
  return session_id;
}

}  // namespace anvil::agent
