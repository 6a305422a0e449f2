// `--generator none`: verify and benchmark kernels that already exist,
// instead of generating them.
//
// With a directory, the kernel of a task is the file named after the task
// file's stem or after the task's name, with the target's extension
// (softmax.toml -> softmax.cpp | softmax.cu | softmax.py). Without one, it is
// the newest kernel in the store that was verified correct for a task of
// that name on this backend (its source is written to the work directory and
// evaluated again, so the suite's numbers come from this run). A task with
// no kernel is reported as "no kernel", with where it was looked for.
#pragma once

#include <string>

#include "suite/task_generator.h"

namespace anvil::suite {

class ExistingKernelGenerator : public TaskGenerator {
 public:
  // kernels_dir: "" = from the store. work_dir: where store kernels are written.
  ExistingKernelGenerator(std::string target, std::string kernels_dir, std::string work_dir)
      : target_(std::move(target)), kernels_dir_(std::move(kernels_dir)), work_dir_(std::move(work_dir)) {}
  Result<GeneratedKernel> Generate(const Task& task, Store& store, Evaluator& evaluator, int64_t run_id) override;

 private:
  std::string target_, kernels_dir_, work_dir_;
};

}  // namespace anvil::suite
