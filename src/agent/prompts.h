// The prompts of the agent loop.
//
// Every call has the same system prompt: the role, the backend's candidate
// ABI, the rules (whole file in one fenced block, no PyTorch, write every
// output element, ...) and the knowledge documents. Keeping it identical
// across calls lets servers with prompt caching reuse it. The user turn
// depends on the step:
//   designer   the task (formula or module source, inputs/attrs/outputs with
//              dtypes and symbolic shapes, correctness shapes incl. edge sizes
//              and layouts, performance shapes, the device); asks for a short
//              plan: parallelisation and tiling, memory traffic, reductions,
//              the roofline target
//   coder      plan + task + the call's argument order + similar proven
//              kernels from the store + the built-in compiler's kernel (seed)
//   repair     task + the previous code + the distilled feedback
//   optimise   task + the best correct code + its timing/roofline feedback
//   redesign   task + the failures so far; asks the designer for a different
//              approach (the coder then writes it)
// Each prompt is one user turn: the loop keeps no conversation history, so a
// prompt says everything the model needs and its size stays bounded.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "agent/knowledge.h"
#include "task/task.h"

namespace anvil::agent {

// A proven kernel shown to the coder as an example (from Store::SearchKernels).
struct ExampleKernel {
  std::string title;   // "softmax (cuda, f32 f16, 2.1x eager)"
  std::string source;
};

struct PromptContext {
  const Task* task = nullptr;
  std::string backend;        // cpu | cuda | triton
  std::string device;         // "CPU, 2 threads" / the GPU's name
  Knowledge knowledge;
  std::vector<ExampleKernel> examples;
  std::string seed_source;    // the built-in compiler's kernel, "" when none
  size_t example_bytes = 12 * 1024;  // cap on the examples' text
};

// One earlier failed attempt, for the redesign prompt.
struct FailedAttempt {
  int round = 0;
  std::string action;    // design | repair | ...
  std::string feedback;  // the distilled feedback it got
};

std::string SystemPrompt(const PromptContext& ctx);
// The task in words: what the kernel computes and on what it is judged.
std::string TaskDescription(const Task& task, const std::string& backend, const std::string& device);
// How anvil_kernel receives this task's tensors and attributes, concretely.
std::string CallSignature(const Task& task, const std::string& backend);

std::string DesignerPrompt(const PromptContext& ctx);
std::string CoderPrompt(const PromptContext& ctx, const std::string& plan);
// `previous_code` may be "" (the last reply had no code block).
std::string RepairPrompt(const PromptContext& ctx, const std::string& plan, const std::string& previous_code,
                         const std::string& feedback);
std::string OptimisePrompt(const PromptContext& ctx, const std::string& best_code, const std::string& feedback);
std::string RedesignPrompt(const PromptContext& ctx, const std::vector<FailedAttempt>& failures);

}  // namespace anvil::agent
