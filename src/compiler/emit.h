// The built-in compiler's backends: each prints one source file, in the
// candidate ABI of its target, from the plans of every dtype variant of a
// task (one kernel per variant, selected at run time by the inputs' dtypes),
// and names the parameters the tuner may vary.
//
// A backend never prints a kernel it cannot make correct: a plan it cannot
// serve is kUnsupported with the reason. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/kernel_plan.h"
#include "util/status.h"

namespace anvil::compiler {

// Tunable parameters by name ("block", "warps", ...); every backend has defaults for missing ones.
using KernelParams = std::map<std::string, int64_t>;
std::string ParamsToString(const KernelParams& p);  // "block=256, warps=4"

struct Backend {
  std::string target;     // "cpu", "cuda", "triton"
  std::string extension;  // ".cpp", ".cu", ".py"
  std::string comment;    // line comment: "//" or "#"
  // Configurations worth measuring for these plans, the default first, pruned by simple cost rules.
  std::vector<KernelParams> (*space)(const std::vector<KernelPlan>& variants);
  Result<std::string> (*emit)(const std::vector<KernelPlan>& variants, const KernelParams& params);
};

// nullptr for an unknown target.
const Backend* FindBackend(const std::string& target);

// The three printers (emit_cpu.cpp, emit_cuda.cpp, emit_triton.cpp) and their spaces.
std::vector<KernelParams> CpuSpace(const std::vector<KernelPlan>& variants);
Result<std::string> EmitCpu(const std::vector<KernelPlan>& variants, const KernelParams& params);
std::vector<KernelParams> CudaSpace(const std::vector<KernelPlan>& variants);
Result<std::string> EmitCuda(const std::vector<KernelPlan>& variants, const KernelParams& params);
std::vector<KernelParams> TritonSpace(const std::vector<KernelPlan>& variants);
Result<std::string> EmitTriton(const std::vector<KernelPlan>& variants, const KernelParams& params);

}  // namespace anvil::compiler
