#include "agent/words_input.h"

#include <stdlib.h>  // mkdtemp
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "agent/code_block.h"
#include "task/task_file.h"

namespace anvil::agent {
namespace {

// Three replies in all: the first and two corrections.
constexpr int kMaxAttempts = 3;

// What the model needs to write a task file: the format, the formula
// language's essentials (docs/formula.md), one formula example, the module
// alternative and its rules. Kept here, not read from docs/, so an installed
// anvil needs no source tree.
constexpr const char* kSystemPrompt = R"PROMPT(You write task files for Anvil, a system that verifies compute kernels against a reference. A task file (TOML) says what an operator computes, its inputs, and the sizes it is tested on. Kernels will later be written for the task and judged against your reference, so the reference must say exactly what the user's words mean.

Prefer a formula (Anvil's formula language). Use a PyTorch module only when the formula language cannot express the operator.

# Task file

```toml
name = "softmax_temp"                   # a-z, 0-9, '_', '.', '-'
description = "Row softmax with temperature t over the last dim."
formula = "out = softmax(x / t, -1)"    # or: a [reference] table, see below

[types]                                 # type variables: each combination is one dtype variant
T = ["f32", "f16", "bf16"]

[[inputs]]                              # one table per tensor input, in order
name = "x"
dtype = "T"                             # a dtype or a type variable
shape = ["R", "C"]                      # symbols (sizes set per case) and integers
# domain = "positive"                   # optional: any | positive | nonnegative | nonzero | unit | [lo, hi]

[[attrs]]                               # scalar attributes (Python numbers), in order
name = "t"
dtype = "f32"
value = 0.7

[[outputs]]                             # one table per output the formula assigns
name = "out"

[correctness]                           # sizes every symbol takes; include 0, 1, odd and one larger case
shapes = [{R = 1, C = 1}, {R = 0, C = 8}, {R = 7, C = 1000}, {R = 13, C = 257}, {R = 64, C = 4096}]

[performance]                           # realistic sizes for timing
shapes = [{R = 2048, C = 1024}]
```

Dtypes: bool u8 i8 i16 i32 i64 f16 bf16 f32 f64.

# Formula language

One assignment per line (or separated by ';'). Each name is assigned once; outputs are the names listed in [[outputs]]; other assigned names are temporaries and must be used; every input and attribute must be used. Expressions use PyTorch names and Python operators (+ - * / // % ** @, comparisons, & | ^ ~); `torch.` and `F.` prefixes are accepted; method calls work (x.sum(-1), x.exp(), x.to(f16), x.float()).
Functions: neg abs exp exp2 expm1 log log2 log10 log1p sqrt rsqrt sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh sigmoid relu gelu(x, approximate='tanh'|'none') silu mish softplus(x, beta, threshold) elu(x, alpha) leaky_relu(x, negative_slope) hardsigmoid hardswish hardtanh(x, min_val, max_val) erf erfc floor ceil round trunc sign reciprocal square logical_not bitwise_not isnan isinf isfinite add sub mul div floor_divide remainder fmod pow maximum minimum atan2 logical_and logical_or logical_xor bitwise_and bitwise_or bitwise_xor eq ne lt le gt ge clamp(x, min=, max=) clamp_min clamp_max where(cond, a, b) to(x, dtype) sum mean amax amin prod var(x, dim, correction=0, keepdim=True) std logsumexp argmax argmin softmax(x, dim) log_softmax(x, dim) matmul (also @, mm, bmm); max(x, dim)/min(x, dim) give values only; max(a, b) is maximum.
Reductions take dim as an int, a tuple, or nothing (all dims), and keepdim=. Float parameters (beta, negative_slope, ...) must be number literals. Broadcasting aligns at the right; a symbol is never assumed to be 1 (use the integer 1 in a shape for a broadcast dim). matmul needs both operands in one dtype. Types promote like torch.result_type; attributes are Python numbers.

Example: layer norm over the last dim with weight w and bias b (inputs x: T[R, C], w: T[C], b: T[C], attribute eps):
mu  = mean(x, -1, keepdim=True)
out = (x - mu) * rsqrt(var(x, -1, keepdim=True, correction=0) + eps) * w + b

# When a formula cannot express it: a PyTorch module

Replace `formula = ...` with

```toml
[reference]
module = "model.py"
```

and give every output its dtype and shape in the inputs' symbols:

```toml
[[outputs]]
name = "out"
dtype = "T"
shape = ["R", "C"]
```

and send the module file in a ```python block: a `class Model(torch.nn.Module)` whose forward takes the task's inputs and then its attributes (as Python numbers), each in declaration order, and returns one tensor or a tuple in the order of [[outputs]]. The module may hold no parameters or buffers: every tensor it uses must be an input. Only torch.

# Your reply

One ```toml block with the whole task file (and, only for a module reference, one ```python block with model.py). No other code blocks.)PROMPT";

std::string FirstRequest(const std::string& words, const std::string& backend) {
  return fmt::format(
      "Write the task file for this operator:\n\n{}\n\nKernels for it will be written for the {} backend{}. "
      "Choose the inputs' names, dtypes and symbolic shapes, attribute values where the words give them, "
      "correctness sizes (with 0, 1, odd sizes and one larger case) and performance sizes that fill the machine.",
      words, backend,
      backend == "cpu" ? " (use f32, and f64 or integer types where the words ask for them)"
                       : " (a GPU: cover f32, f16 and bf16 with a type variable unless the words fix the dtype)");
}

// The last block tagged as one of `tags`; else the only untagged block.
std::optional<FencedBlock> PickBlock(const std::vector<FencedBlock>& blocks, std::initializer_list<const char*> tags) {
  std::optional<FencedBlock> found;
  for (const FencedBlock& b : blocks)
    for (const char* t : tags)
      if (b.tag == t) found = b;
  if (found) return found;
  int untagged = 0;
  for (const FencedBlock& b : blocks) untagged += b.tag.empty();
  if (untagged == 1 && blocks.size() == 1) return blocks.front();
  return std::nullopt;
}

// A scratch folder for checking a module task (ParseTask reads the module
// file beside the task file), removed when it goes out of scope.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "anvil-words-XXXXXX").string();
    if (mkdtemp(pattern.data())) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The model's reply as a task, or the message that tells it what to fix.
Result<WordsTask> TaskFromReply(const std::string& reply, const std::string& author) {
  std::vector<FencedBlock> blocks = FencedBlocks(reply);
  std::optional<FencedBlock> toml_block = PickBlock(blocks, {"toml"});
  if (!toml_block)
    return InvalidInput("the reply has no ```toml block; send the whole task file in one ```toml block");
  if (!toml_block->closed) return InvalidInput("the ```toml block is not closed (the reply was cut off); send it again, shorter");

  // Anvil sets reference_author itself: a model's own line would be a duplicate key.
  static const std::regex kAuthorLine(R"((^|\n)[ \t]*reference_author[ \t]*=[^\n]*)");
  std::string body = std::regex_replace(toml_block->body, kAuthorLine, "$1");
  std::string text = fmt::format("# Written by {} from the user's words: check it before trusting a verdict.\n"
                                 "reference_author = \"{}\"\n{}",
                                 author, author, body);

  WordsTask task;
  task.author = author;
  std::string module_name;
  try {
    toml::table root = toml::parse(text, std::string_view("task.toml"));
    if (auto m = root["reference"]["module"].value<std::string>()) module_name = *m;
  } catch (const toml::parse_error&) {
    // ParseTask below reports it with its position.
  }
  ScratchDir scratch;
  if (scratch.path().empty()) return IoError("cannot create a scratch folder to check the task");
  if (!module_name.empty()) {
    if (module_name.find('/') != std::string::npos || module_name.find('\\') != std::string::npos ||
        module_name.size() < 4 || module_name.compare(module_name.size() - 3, 3, ".py") != 0)
      return InvalidInput(fmt::format("[reference] module = \"{}\": name the module file beside the task, "
                                      "e.g. module = \"model.py\"", module_name));
    std::optional<FencedBlock> py = PickBlock(blocks, {"python", "py"});
    if (!py || py->tag.empty())
      return InvalidInput(fmt::format("the task's reference is the module {}, but the reply has no ```python block "
                                      "with it; send the module file in a ```python block",
                                      module_name));
    task.module_source = py->body;
    task.module_file_name = module_name;
    std::ofstream(std::filesystem::path(scratch.path()) / module_name) << task.module_source;
  }
  Result<Task> parsed = ParseTask(text, (std::filesystem::path(scratch.path()) / "task.toml").string());
  if (!parsed.ok()) {
    // The scratch folder means nothing to the model: name the file as it wrote it.
    std::string message = parsed.status().message();
    const std::string prefix = (std::filesystem::path(scratch.path()) / "").string();
    for (size_t at; (at = message.find(prefix)) != std::string::npos;) message.erase(at, prefix.size());
    return InvalidInput(message);
  }
  task.task_text = std::move(text);
  return task;
}

}  // namespace

Result<WordsTask> TaskFromWords(const std::string& words, const std::string& backend,
                                const std::function<Result<llm::ChatResponse>(const llm::ChatRequest&)>& complete) {
  llm::ChatRequest request;
  request.system = kSystemPrompt;
  request.messages.push_back({llm::Role::kUser, FirstRequest(words, backend)});
  std::string last_error;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    ANVIL_ASSIGN_OR_RETURN(llm::ChatResponse response, complete(request));
    const std::string author = "model:" + (response.model.empty() ? std::string("unknown") : response.model);
    Result<WordsTask> task = TaskFromReply(response.text, author);
    if (task.ok()) return task;
    if (task.status().code() != ErrorCode::kInvalidInput) return task.status();
    last_error = task.status().message();
    request.messages.push_back({llm::Role::kAssistant, response.text});
    request.messages.push_back(
        {llm::Role::kUser, fmt::format("Anvil could not load that task file:\n\n{}\n\nSend the corrected task file "
                                       "(the whole file, in one ```toml block{}).",
                                       last_error, " and, for a module reference, the ```python block")});
  }
  return InvalidInput(fmt::format("the model wrote no task Anvil can load in {} replies; the last problem: {}",
                                  kMaxAttempts, last_error));
}

}  // namespace anvil::agent
