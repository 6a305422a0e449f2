// A task file from plain words: the "words" input form of `anvil gen 'row-wise
// softmax with temperature t' --target triton`.
//
// A language model writes the task: preferably with a formula in Anvil's
// formula language (docs/formula.md; the prompt carries its essentials and an
// example task), else with a PyTorch module reference (docs/task-format.md,
// "Module references") whose source comes in a second fenced block. The reply's
// ```toml block is parsed with ParseTask (type-checked like any task file);
// an error goes back to the model, which gets two more tries.
//
// The task is the model's reading of the words, not the user's: the caller
// shows it and asks for confirmation (`--yes` for batch), and the returned
// text carries `reference_author = "model:<model>"`, which `anvil task show`
// and every report print. `author` is "model:" + ChatResponse::model (the
// model as the server named it); this function does not know the provider's
// name, so a caller that wants "model:<provider>:<model>" (the session
// record's form) builds it from its own configuration.
//
// Thread-safety: re-entrant; `complete` is called from the calling thread.
#pragma once

#include <functional>
#include <string>

#include "agent/llm/chat.h"
#include "util/status.h"

namespace anvil::agent {

struct WordsTask {
  std::string task_text;         // the task file's TOML, with reference_author set
  std::string module_source;     // the PyTorch module file's text; "" for a formula task
  std::string module_file_name;  // what [reference] module names ("model.py"); "" for a formula task
  std::string author;            // "model:<model>"
};

// `backend` (cpu | cuda | triton) tells the model which dtypes make sense.
// `complete` sends one chat request (llm::Provider::Complete, or a scripted
// function in tests). Errors: the provider's error as it is; kInvalidInput
// naming the last parse error when three replies gave no loadable task.
Result<WordsTask> TaskFromWords(const std::string& words, const std::string& backend,
                                const std::function<Result<llm::ChatResponse>(const llm::ChatRequest&)>& complete);

}  // namespace anvil::agent
