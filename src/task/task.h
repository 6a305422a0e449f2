// Task: what an operator is, how it is judged, and on which cases.
//
// A Task is loaded from a human-written TOML file (docs/task-format.md) and is
// immutable afterwards. It names its inputs (a dtype or a type variable, and a
// symbolic shape), scalar attributes, outputs, the reference (a formula in
// PyTorch names, or a PyTorch module file), correctness cases, performance cases, the comparison mode
// and in-place semantics. Each combination of type-variable values is a dtype
// variant; the formula is type-checked for every variant when the task loads,
// so a task that loads is a task the worker can evaluate.
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/scalar.h"
#include "core/shape.h"
#include "task/distribution_spec.h"
#include "verify/tolerance.h"

namespace anvil {

// Where an input's values come from. Any is the default; the others keep a
// formula inside its mathematical domain (log of a positive number, ...).
struct ValueDomain {
  enum class Kind { kAny, kPositive, kNonNegative, kNonZero, kUnit, kRange };
  Kind kind = Kind::kAny;
  double lo = 0, hi = 0;  // kRange only, inclusive
  std::string ToString() const;
};

// How much of an input any implementation must read, as the task declares it
// (`read = ...` in [[inputs]]). Only the roofline's least memory traffic
// (verify/roofline.h) uses it: inputs are generated, passed and checked the
// same whatever it says. Declaring less than an operator needs only lowers the
// floor (the suspicious-speed check gets weaker, never wrong); declaring more
// than it needs makes a correct kernel at full bandwidth look too fast.
enum class InputRead {
  kAll,     // "all" (default): every element of the declared shape, once
  kNone,    // "none": its values are never needed (it gives only a shape, or it
            // is an in-place input that the op only overwrites)
  kOutput,  // "output": gathered one-to-one into the first output (select,
            // narrow): as many elements as that output has, at most its own
};

struct TaskInput {
  std::string name;
  std::string dtype;  // a dtype name ("f32") or a type variable ("T")
  SymShape shape;
  ValueDomain domain;
  InputRead read = InputRead::kAll;
};

// How much of an output any implementation must write (`write = ...` in
// [[outputs]]); like InputRead, it feeds the roofline floor only.
enum class OutputWrite {
  kAll,      // "all" (default): every element, once
  kPartial,  // "partial": an in-place output of which the op rewrites only a
             // data-dependent part (masked_fill_), the rest keeping the input's
             // values; its floor counts no write, the one bound valid for any mask
};

struct TaskAttr {
  std::string name;
  ScalarValue value;  // value.dtype is the attribute's declared dtype
};

struct TaskOutput {
  std::string name;
  std::optional<std::string> dtype;    // declared dtype or type variable, checked against the formula
  std::optional<SymShape> shape;       // declared shape (required with a module reference)
  std::optional<std::string> inplace;  // the input this output is written into
  // The input this output is a view of (`view_of`): the candidate returns an
  // alias into that input's storage with ATen's strides and offset, copying
  // nothing (include/anvil/kernel.h). Never with inplace or a statistical mode.
  std::optional<std::string> view_of;
  OutputWrite write = OutputWrite::kAll;  // kPartial only with inplace (the parser checks)
  // Statistical tasks only: the distribution its values must follow.
  std::optional<DistributionSpec> distribution;
};

// A reference written as PyTorch: a Python file defining an nn.Module class
// (KernelBench style) whose forward takes the task's inputs and then its
// attributes (as Python numbers), each in declaration order, and returns its
// outputs (a tensor, or a tuple in declaration order). An optional
// get_init_inputs() gives the constructor's arguments.
// The module may hold no parameters or buffers: a candidate sees only the
// task's inputs, so every tensor the reference uses must be one of them.
struct ModuleReference {
  std::string path;                  // as resolved against the task file's folder
  std::string source;                // the file's text when the task loaded
  std::string class_name = "Model";
};

// One assignment of concrete dtypes to every input (and declared output).
struct DTypeVariant {
  std::map<std::string, DType> type_vars;  // "T" -> f16
  std::vector<DType> input_dtypes;         // per input, in declaration order
  std::string Label() const;               // "T=f16" or "f32" when the task has no type variables
};

struct CaseMatrix {
  std::vector<Bindings> shapes;
  std::vector<std::string> layouts;        // contiguous | transposed | strided | broadcast
  std::vector<std::string> distributions;  // normal | uniform | heavy | special
  std::vector<uint64_t> seeds;
};

struct PerformanceSpec {
  std::vector<Bindings> shapes;
  int warmup = 3;    // untimed calls before measuring
  int trials = 30;   // timed calls; median and IQR are reported
  int rotations = 4; // distinct input sets cycled through the trials
};

struct CompareSpec {
  CompareMode mode = CompareMode::kAllClose;  // kExact is implied for integer outputs
  int64_t unordered_dim = -1;
  bool deterministic = true;  // run twice, require bitwise identical outputs
  // kStatistical: the integer attribute the harness sets per case, the
  // candidate's random seed (same seed, same output; other seed, independent).
  std::string seed_attr;
  // Module references only: the dims whose product is the number of values
  // accumulated into one output element (formula tasks infer it).
  std::optional<SymShape> reduction_dims;
  ToleranceOverrides overrides;
};

struct Task {
  std::string name;
  std::string description;
  std::string formula;                   // empty when the reference is a module
  std::optional<ModuleReference> module;  // the reference when it is not a formula
  // Who wrote the reference: "" = people; "model:<provider>:<model>" when a
  // language model wrote it from plain words (agent/words_input.h). Reports
  // say so, because a model-written reference may itself be wrong.
  std::string reference_author;
  std::string source_path;  // file it was loaded from ("" for tasks built in code)
  std::string source_text;  // the file's text, stored with results
  std::map<std::string, std::vector<DType>> type_vars;
  std::vector<TaskInput> inputs;
  std::vector<TaskAttr> attrs;
  std::vector<TaskOutput> outputs;
  CaseMatrix correctness;
  PerformanceSpec performance;
  CompareSpec compare;

  // Every combination of type-variable values, in a stable order.
  std::vector<DTypeVariant> Variants() const;
  // Index of the input named `name`, or -1.
  int InputIndex(const std::string& name) const;
  // True when an output is a view of an input (`view_of`): such a task has no
  // timings (a view moves no data) and takes C++ or CUDA C++ candidates only.
  bool HasViewOutputs() const;
};

}  // namespace anvil
