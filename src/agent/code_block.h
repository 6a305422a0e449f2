// The code in a model's reply: the fenced block meant for the backend.
//
// The coder is asked for the whole file in one fenced block, but models add
// explanations, show snippets before the final file, or tag blocks loosely.
// The rule, per backend:
//   cpu     ```cpp / ```c++ / ```cxx / ```c
//   cuda    ```cuda / ```cu / ```cpp / ```c++
//   triton  ```python / ```py
// The last block with a matching tag wins (models write the final version
// last); an untagged block is taken only when it is the reply's only block.
// No usable block is an error whose message is written for the model: it
// becomes the feedback of the next prompt.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace anvil::agent {

struct FencedBlock {
  std::string tag;   // the info string's first word, lower case ("" when untagged)
  std::string body;  // the lines between the fences, with a final newline
  int line = 0;      // 1-based line of the opening fence in the reply
  bool closed = true;  // false: the reply ended inside the block (cut off at the token limit)
};

// Every fenced block of `text`, in order.
std::vector<FencedBlock> FencedBlocks(const std::string& text);

// The fence tags accepted for `backend` ("cpu", "cuda", "triton"); the first
// is the one prompts ask for.
const std::vector<std::string>& AcceptedTags(const std::string& backend);

// The source of the file the reply gives for `backend`. kInvalidInput when
// there is none; the message tells the model what to do instead.
Result<std::string> ExtractCode(const std::string& reply, const std::string& backend);

}  // namespace anvil::agent
