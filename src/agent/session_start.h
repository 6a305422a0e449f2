// Starting an agent session's records: the task row, the session row and the
// exchange recorder bound to it.
//
// Shared by `anvil gen --llm` (cli/agent_gen.cpp) and the suite's LLM
// generator (agent/suite_generator.h), so that every live session is recorded
// the same way and `anvil session replay` can re-run it: the session row's
// options_json holds the ConductorOptions plus what the replay needs to
// evaluate the same way ("threads", "mode"; the conductor ignores those keys).
#pragma once

#include <cstdint>
#include <string>

#include "agent/conductor.h"
#include "agent/llm_channel.h"
#include "store/store.h"
#include "task/task.h"
#include "util/status.h"

namespace anvil::agent {

struct SessionStart {
  int64_t run_id = 0;             // the runs row the session belongs to (a gen run, a suite run)
  std::string backend = "cpu";    // cpu | cuda | triton
  std::string input_form = "task";  // task | formula | reference | words
  std::string reference_author;   // "" = people wrote the reference; "model:<provider>:<model>" otherwise
  std::string provider, model;    // as the channel names them
  int threads = 1;                // evaluation threads (a replay evaluates with as many)
  bool timed = false;             // candidates are evaluated in bench mode (a replay uses the same mode)
};

// Upserts `task` into the store, begins its session (status 'running') and
// binds `recorder` to it, writing the exchanges it holds from before (the
// reference writer's). Returns the session id; the caller runs the session
// (RunSession), which finishes the row. Errors: the store cannot be written.
Result<int64_t> BeginAgentSession(Store& store, ExchangeRecorder& recorder, const Task& task,
                                  const ConductorOptions& options, const SessionStart& start);

}  // namespace anvil::agent
