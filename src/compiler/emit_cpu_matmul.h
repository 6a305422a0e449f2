// The CPU printer's matmul kernel (emit_cpu_matmul.cpp), for plans with a
// matmul and its elementwise epilogue (KernelPlan::HasMatmul). emit_cpu.cpp
// prints the file around it (includes, attribute access, dtype dispatch).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "compiler/emit.h"
#include "compiler/kernel_plan.h"
#include "util/status.h"

namespace anvil::compiler {

// `int Run<variant>(const AnvilCall* call)` for one dtype variant.
Result<std::string> PrintCpuMatmulVariant(const KernelPlan& plan, int variant, const KernelParams& params);

// The blocking parameters worth measuring (mc, nc, kc), the default first.
std::vector<KernelParams> CpuMatmulSpace();

}  // namespace anvil::compiler
