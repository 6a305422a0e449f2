// `--generator builtin`: the built-in compiler (compiler/generate.h) as a
// suite generator. A task it cannot lower is "no kernel" with the compiler's
// reason; a kernel it prints that is not correct is reported as such (a
// compiler bug, shown in the report, never hidden).
#pragma once

#include "compiler/generate.h"
#include "suite/task_generator.h"

namespace anvil::suite {

class BuiltinGenerator : public TaskGenerator {
 public:
  explicit BuiltinGenerator(compiler::GenerateOptions options) : options_(std::move(options)) {}
  Result<GeneratedKernel> Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id) override;

 private:
  compiler::GenerateOptions options_;
};

}  // namespace anvil::suite
