// A task file from a KernelBench-style PyTorch problem file (class Model,
// get_inputs(), get_init_inputs()): the "reference" input form of `anvil gen
// --reference model.py` and, in batch, `anvil import kernelbench`.
//
// python/anvil_tools/describe_module.py does what needs PyTorch (the inputs'
// dtypes and shapes, the parameters the model holds, the outputs' shapes on
// small inputs); this file turns its description into task-file TOML:
//
// - Symbols. Every tensor dim of size > 1 becomes a symbol; dims of equal
//   size share one, in order of first appearance over the inputs. This is a
//   heuristic: M = K = N = 1024 in a matmul becomes one symbol, so the task
//   then only has square cases. A symbol takes the name of the module's
//   integer global of that value when exactly one has it (batch_size, dim),
//   else D0, D1, ... Dims of size 1 stay 1 (they are broadcast or keepdim
//   dims far more often than sizes).
// - Scalars that get_inputs() returns become attributes (int: i64, float:
//   f64, bool) with the file's value; they must come after the tensors,
//   because forward receives the task's inputs and then its attributes.
// - Output shapes: forward runs on two "probes", small sizes with every
//   symbol at a different value in each; an output dim equal to symbol S's
//   value in both probes is S, a dim equal in both is that integer, anything
//   else (a product such as a flatten) cannot be said in a task's shape
//   language and is an error.
// - Cases: [performance] is the file's own sizes (forward never runs at them
//   here); [correctness] is the candidates {all symbols / 64 rounded up},
//   {an odd size near / 32}, {all 1}, {/ 16}, each kept only when forward runs
//   on it and its outputs have the shapes the symbols say.
// - The dtypes are get_inputs()'s; [compare] reduction_length stays at its
//   default (1, the strictest) with a comment: a module's code is opaque.
//
// A module that holds parameters or buffers is refused with their names: a
// candidate receives only the task's inputs, so KernelBench problems with
// nn.Linear / nn.Conv weights must be rewritten to take them as inputs.
//
// Thread-safety: the functions are independent; each runs its own Python.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/shape.h"
#include "util/status.h"

namespace anvil::agent {

// --- what describe_module.py reports --------------------------------------

struct DescribedValue {
  bool is_tensor = true;
  std::string dtype;         // tensor: "f32", ...
  Shape shape;               // tensor
  std::string scalar_type;   // scalar: "int", "float" or "bool"
  double number = 0;         // scalar: its value (bools 0/1; ints exact up to 2^53)
};

struct DescribedOutput {
  std::string dtype;
  Shape shape;
};

// One call of forward on small inputs (one shape per tensor input).
struct DescribedRun {
  std::vector<Shape> shapes;
  std::string error;  // "" when forward returned
  std::vector<DescribedOutput> outputs;
};

struct ModuleDescription {
  std::string file;
  std::vector<std::string> forward_params;  // forward's parameter names after self
  std::vector<DescribedValue> inputs;       // get_inputs(), in order
  std::vector<DescribedValue> init_inputs;  // get_init_inputs()
  std::vector<std::string> held;            // "parameter linear.weight (64, 32)", ...
  std::map<std::string, int64_t> globals;   // the module's integer globals
  std::vector<DescribedRun> runs;
};

// Parses describe_module.py's JSON; its {"error": ...} becomes an
// InvalidInput error with that message.
Result<ModuleDescription> ParseModuleDescription(const std::string& json_text);

// --- the pieces of the task (pure; tested without Python) ------------------

struct SymbolicInputs {
  std::vector<std::string> symbols;        // in order of first appearance
  Bindings sizes;                          // each symbol's size in get_inputs()
  std::vector<SymShape> tensor_shapes;     // per tensor input, in order
};

// The symbols of the tensor inputs (the rules above).
SymbolicInputs AssignSymbols(const ModuleDescription& description);

// The sizes forward runs on to learn the outputs' shapes: small, each symbol
// distinct from the others within a probe. Ordered by preference.
std::vector<Bindings> OutputProbes(const SymbolicInputs& symbolic);

// The candidate correctness shapes (before they are tried), without repeats.
std::vector<Bindings> CorrectnessCandidates(const SymbolicInputs& symbolic);

// Each tensor input's concrete shape at `bindings`.
std::vector<Shape> TensorShapesAt(const SymbolicInputs& symbolic, const Bindings& bindings);

// One output's symbolic shape from its shapes at two probes whose every
// symbol differs between them. `what` names the output in errors.
Result<SymShape> MatchOutputShape(const Shape& at_a, const Bindings& a, const Shape& at_b, const Bindings& b,
                                  const std::vector<std::string>& symbols, const std::string& what);

// Everything the task file says.
struct ModuleTaskSpec {
  std::string name;
  std::string description;
  std::string module;                  // the [reference] module value
  std::string source_note;             // the first comment line: where it came from
  struct Input {
    std::string name, dtype;
    SymShape shape;
  };
  struct Attr {
    std::string name, dtype;           // i64 | f64 | bool
    double value = 0;
  };
  struct Output {
    std::string name, dtype;
    SymShape shape;
  };
  std::vector<Input> inputs;
  std::vector<Attr> attrs;
  std::vector<Output> outputs;
  std::vector<Bindings> correctness;
  Bindings performance;
};

// The TOML text of `spec` (parses with ParseTask when the module exists).
std::string RenderModuleTask(const ModuleTaskSpec& spec);

// A task name (a-z, 0-9, '_', '.', '-') from a problem file's name:
// "19_ReLU.py" -> "19_relu".
std::string TaskNameForModule(const std::string& module_path);

// --- the whole conversion ---------------------------------------------------

struct ReferenceModuleImport {
  std::string module_path;  // the problem file
  std::string python;       // an interpreter with torch (CliConfig::python)
  std::string task_name;    // a valid task name (TaskNameForModule gives one)
  // What `[reference] module = ...` says, relative to where the task file
  // will be written; "" = the module's absolute path (the task then loads
  // from anywhere, but only on this machine).
  std::string module_in_task;
  double timeout_s = 300;   // per Python run
};

// The task file's TOML text, checked with ParseTask before it is returned.
// Errors name the module file: kInvalidInput for a file that cannot be a
// reference (held parameters, no get_inputs, outputs in no symbols, ...),
// kIo when Python cannot run, crashes or times out.
Result<std::string> TaskTextFromReferenceModule(const ReferenceModuleImport& request);

// The same with `[reference] module` = the module's absolute path (the form
// `anvil gen --reference` uses: the task may be written anywhere).
Result<std::string> TaskTextFromReferenceModule(const std::string& module_path, const std::string& python,
                                                const std::string& task_name);

}  // namespace anvil::agent
