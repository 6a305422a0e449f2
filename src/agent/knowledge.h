// The knowledge documents given to the model: knowledge/<backend>/*.md.
//
// They are written by us (basics, the candidate ABI, API facts, optimisation
// guidance, pitfalls, short examples) and go into the system prompt of every
// call, in file-name order so a numbered prefix ("00-abi.md") sets the order.
// The total is capped: a prompt that outgrows the model's context fails every
// call, so documents past the cap are left out and the note says which.
//
// Thread-safety: pure function (reads files).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace anvil::agent {

struct Knowledge {
  std::string text;                 // the documents, each under a "## file name" heading
  std::vector<std::string> files;   // the ones included, in order
  std::string note;                 // what is missing or was cut, "" when nothing
};

// Reads `root`/<backend>/*.md. A missing folder is not an error: the text is
// empty and the note says so (the prompts still carry the ABI summary).
Knowledge LoadKnowledge(const std::string& root, const std::string& backend, size_t max_bytes = 32 * 1024);

// The default root: the source tree's knowledge/ folder.
std::string DefaultKnowledgeRoot();

}  // namespace anvil::agent
