// The agent loop's prompts (see prompts.h).
#include "agent/prompts.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "agent/code_block.h"
#include "core/dtype.h"
#include "core/shape.h"

namespace anvil::agent {
namespace {

const char* Language(const std::string& backend) {
  if (backend == "cuda") return "CUDA C++ (nvcc, C++17)";
  if (backend == "triton") return "Python with Triton";
  return "C++17 (g++, OpenMP available)";
}

std::string Fence(const std::string& backend) { return AcceptedTags(backend).front(); }

std::string Abi(const std::string& backend) {
  if (backend == "triton")
    return R"(The candidate ABI (Triton):
- One Python file defining, at the top level, `def anvil_kernel(...)`, taking the task's inputs, then its
  outputs, then its attributes, each in declaration order (the exact signature is given with the task).
- Inputs and outputs are torch tensors on the GPU. Inputs may be non-contiguous, transposed or broadcast
  (stride 0): read them through their strides (x.stride(d), in elements). Outputs are contiguous and
  filled with a poison pattern: write every element.
- All computation happens in your own @triton.jit kernels, launched by anvil_kernel. torch may only be
  used to allocate (torch.empty, torch.empty_like, torch.empty_strided), for dtypes and for tensor
  metadata (shape, stride, dtype, numel, ...). Calling any other torch function or tensor method, or
  computing with tensor operators outside a jit kernel, is rejected.
- Imports: torch, triton, triton.language, math only. No eval/exec/getattr, no files, no processes.
)";
  if (backend == "cuda")
    return R"(The candidate ABI (CUDA):
- One .cu file, built with nvcc into a shared object, with no PyTorch available. Include
  "anvil/cuda_tensor.h" (it brings anvil/kernel.h and helpers: DataPtr<T>(t) (a device pointer),
  Stride(t, d), Numel(t), IsF32/IsF16/IsBF16(t), FindAttr, SetError(call, fmt, ...), StreamOf(call),
  ANVIL_CUDA_CHECK(call, expr), CeilDiv, anvil::cuda::ToFloat / FromFloat<T> for float, __half,
  __nv_bfloat16).
- Export exactly: extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call)
- call->inputs[i], call->outputs[i] are DLPack DLTensors (data, ndim, dtype, shape, strides) in the task's
  declaration order; call->attrs[i] are scalars (.value.f for floats, .value.i for ints and bools).
- Inputs may be non-contiguous, transposed or broadcast (stride 0); strides are in elements, never NULL.
  Outputs are contiguous and filled with a poison pattern: write every element (also for empty or tiny
  shapes: check sizes of 0 and 1 before launching).
- Launch every kernel on StreamOf(call) and do not synchronise the device. Return ANVIL_OK (0), or an
  error status with a message via SetError.
)";
  return R"(The candidate ABI (C++ on the CPU):
- One .cpp file, built with g++ -O3 into a shared object, with no PyTorch available. Include
  "anvil/cpu_tensor.h" (it brings anvil/kernel.h and helpers: DataPtr<T>(t), Stride(t, d), Numel(t),
  IsF32/IsF16/IsBF16(t), FindAttr, SetError(call, fmt, ...), NumThreads(call), storage types anvil::F16 /
  anvil::BF16 with anvil::ToFloat / anvil::FromFloat<T>, LoadFloats / AsFloats / StoreFloats).
- Export exactly: extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call)
- call->inputs[i], call->outputs[i] are DLPack DLTensors (data, ndim, dtype, shape, strides) in the task's
  declaration order; call->attrs[i] are scalars (.value.f for floats, .value.i for ints and bools).
- Inputs may be non-contiguous, transposed or broadcast (stride 0); strides are in elements, never NULL.
  Outputs are contiguous and filled with a poison pattern: write every element (sizes of 0 and 1 occur).
- Use at most NumThreads(call) threads (OpenMP's default is already set to it). Return ANVIL_OK (0), or an
  error status with a message via SetError.
)";
}

std::string InputLine(const TaskInput& in) {
  std::string s = fmt::format("  {}: {}{}", in.name, in.dtype, ShapeToString(in.shape));
  if (in.domain.kind != ValueDomain::Kind::kAny) s += "  (values: " + in.domain.ToString() + ")";
  return s;
}

std::string Examples(const PromptContext& ctx) {
  std::string out;
  size_t used = 0;
  for (const ExampleKernel& e : ctx.examples) {
    std::string part = fmt::format("Proven kernel: {}\n```{}\n{}```\n\n", e.title, Fence(ctx.backend), e.source);
    if (used + part.size() > ctx.example_bytes) continue;
    used += part.size();
    out += part;
  }
  if (out.empty()) return "";
  return "Similar kernels that Anvil has verified (for ideas and API usage; the task differs):\n\n" + out;
}

std::string Seed(const PromptContext& ctx) {
  if (ctx.seed_source.empty()) return "";
  return fmt::format(
      "Anvil's built-in compiler generated this kernel for the task; it is verified correct. Use it as a starting "
      "point and make it faster, or write a better one:\n```{}\n{}```\n\n",
      Fence(ctx.backend), ctx.seed_source);
}

std::string Tail(const PromptContext& ctx) {
  return fmt::format("Reply with the whole file in one ```{} block (a sentence before it is fine; nothing after "
                     "it is needed).\n",
                     Fence(ctx.backend));
}

std::string CodeBlock(const PromptContext& ctx, const std::string& code) {
  return fmt::format("```{}\n{}{}```\n", Fence(ctx.backend), code,
                     !code.empty() && code.back() == '\n' ? "" : "\n");
}

// "R=0, C=4": symbols in the order the inputs first use them (the map's own
// order is alphabetical, which reads backwards for [R, C]).
std::string BindingsInTaskOrder(const Task& task, const Bindings& b) {
  std::vector<std::string> order;
  for (const TaskInput& in : task.inputs)
    for (const Dim& d : in.shape)
      if (!d.is_fixed() && std::find(order.begin(), order.end(), d.symbol()) == order.end()) order.push_back(d.symbol());
  for (const auto& [name, value] : b)
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  std::string out;
  for (const std::string& name : order) {
    auto it = b.find(name);
    if (it != b.end()) out += fmt::format("{}{}={}", out.empty() ? "" : ", ", name, it->second);
  }
  return out;
}

}  // namespace

std::string CallSignature(const Task& task, const std::string& backend) {
  std::ostringstream out;
  if (backend == "triton") {
    std::vector<std::string> names;
    for (const TaskInput& i : task.inputs) names.push_back(i.name);
    for (const TaskOutput& o : task.outputs) names.push_back(o.name);
    for (const TaskAttr& a : task.attrs) names.push_back(a.name);
    out << fmt::format("def anvil_kernel({})\n", fmt::join(names, ", "));
    return out.str();
  }
  for (size_t i = 0; i < task.inputs.size(); ++i)
    out << fmt::format("call->inputs[{}]  = {} ({}{})\n", i, task.inputs[i].name, task.inputs[i].dtype,
                       ShapeToString(task.inputs[i].shape));
  for (size_t i = 0; i < task.outputs.size(); ++i)
    out << fmt::format("call->outputs[{}] = {}{}\n", i, task.outputs[i].name,
                       task.outputs[i].inplace ? " (in place: the same tensor as input " + *task.outputs[i].inplace + ")"
                                               : "");
  for (size_t i = 0; i < task.attrs.size(); ++i)
    out << fmt::format("call->attrs[{}]   = {} ({}, {})\n", i, task.attrs[i].name, DTypeName(task.attrs[i].value.dtype),
                       IsFloating(task.attrs[i].value.dtype) ? ".value.f" : ".value.i");
  return out.str();
}

std::string TaskDescription(const Task& task, const std::string& backend, const std::string& device) {
  std::ostringstream out;
  out << fmt::format("Task `{}`", task.name);
  if (!task.description.empty()) out << ": " << task.description;
  out << "\n";
  if (!task.formula.empty()) {
    out << "Reference (a formula in PyTorch names; the result must match PyTorch):\n  " << task.formula << "\n";
  } else if (task.module) {
    out << fmt::format("Reference: the PyTorch module `{}` below; forward() takes the inputs, then the attributes.\n"
                       "```python\n{}```\n",
                       task.module->class_name, task.module->source);
  }
  if (!task.type_vars.empty()) {
    out << "Dtype variants (one kernel handles all):";
    for (const DTypeVariant& v : task.Variants()) out << " " << v.Label() << ";";
    out << "\n";
  }
  out << "Inputs:\n";
  for (const TaskInput& in : task.inputs) out << InputLine(in) << "\n";
  if (!task.attrs.empty()) {
    out << "Attributes:\n";
    for (const TaskAttr& a : task.attrs)
      out << fmt::format("  {}: {} = {}\n", a.name, DTypeName(a.value.dtype), a.value.ToString());
  }
  out << "Outputs:\n";
  for (const TaskOutput& o : task.outputs) {
    out << "  " << o.name;
    if (o.dtype) out << ": " << *o.dtype;
    if (o.shape) out << ShapeToString(*o.shape);
    if (o.inplace) out << " (written in place into " << *o.inplace << ")";
    if (o.distribution) out << " ~ " << o.distribution->text << " (random: drawn, not computed)";
    out << "\n";
  }
  out << "Called as:\n" << CallSignature(task, backend);
  out << "Correctness is checked on these shapes (every one must work, including sizes 0 and 1):\n  ";
  for (size_t i = 0; i < task.correctness.shapes.size(); ++i)
    out << (i ? "; " : "") << BindingsInTaskOrder(task, task.correctness.shapes[i]);
  out << fmt::format("\n  layouts: {}; value distributions: {}\n", fmt::join(task.correctness.layouts, ", "),
                     fmt::join(task.correctness.distributions, ", "));
  if (task.compare.mode == CompareMode::kExact) out << "  comparison: exact (bitwise equal values)\n";
  if (task.compare.mode == CompareMode::kStatistical)
    out << fmt::format(
        "  comparison: statistical. Each output element must be an independent draw from its own distribution "
        "(parameters element by element). Take the random stream from the integer attribute '{}': the same seed "
        "must give bitwise identical outputs, other seeds independent ones. Use a counter-based generator keyed by "
        "the seed and the element's index in the output (Philox, a hash such as SplitMix64; Triton: tl.rand(seed, "
        "offsets)), never a shared sequential state or the clock.\n",
        task.compare.seed_attr);
  if (!task.performance.shapes.empty()) {
    out << "Timed on (against PyTorch eager and torch.compile):\n  ";
    for (size_t i = 0; i < task.performance.shapes.size(); ++i)
      out << (i ? "; " : "") << BindingsInTaskOrder(task, task.performance.shapes[i]);
    out << "\n";
  } else {
    out << "The task has no performance shapes: correctness is what counts.\n";
  }
  out << fmt::format("Target: {} on {}.\n", Language(backend), device.empty() ? "the evaluation machine" : device);
  return out.str();
}

std::string SystemPrompt(const PromptContext& ctx) {
  std::ostringstream out;
  out << fmt::format(
      "You are an expert performance engineer writing {} kernels for Anvil, a harness that verifies a kernel "
      "against PyTorch on many shapes, dtypes, layouts and value distributions, then times it against PyTorch "
      "eager and torch.compile. A kernel counts only when it is correct on every case; among correct kernels the "
      "fastest wins.\n\n",
      Language(ctx.backend));
  out << Abi(ctx.backend) << "\n";
  out << fmt::format(
      "Rules:\n"
      "- When asked for code, reply with the whole file in one ```{} fenced block: never a diff or a fragment.\n"
      "- No PyTorch, ATen, c10 or Python headers or calls in C++/CUDA: the kernel computes the result itself.\n"
      "- Match PyTorch's semantics, including NaN/Inf propagation, empty dimensions and the dtype rules; "
      "accumulate half-precision values in f32.\n"
      "- Do not keep state between calls, write to inputs, start threads that outlive the call, or touch files, "
      "processes or the network.\n",
      Fence(ctx.backend));
  if (!ctx.knowledge.text.empty()) out << "\nReference documents for this backend:\n\n" << ctx.knowledge.text;
  return out.str();
}

std::string DesignerPrompt(const PromptContext& ctx) {
  std::ostringstream out;
  out << TaskDescription(*ctx.task, ctx.backend, ctx.device) << "\n";
  out << "Before any code is written, give a short plan (at most ~15 lines, no code) for a correct and fast "
         "kernel: how the work is split across threads/blocks/programs and tiled, the memory traffic (what is "
         "read and written once, what is reused), how reductions are done and in what precision, how the edge "
         "cases (empty and size-1 dims, strided/broadcast inputs) are handled, and the roofline target: what "
         "bounds this operation (memory bandwidth or compute) and the fraction of it to aim for.\n";
  return out.str();
}

std::string CoderPrompt(const PromptContext& ctx, const std::string& plan) {
  std::ostringstream out;
  out << TaskDescription(*ctx.task, ctx.backend, ctx.device) << "\n";
  if (!plan.empty()) out << "The plan:\n" << plan << "\n\n";
  out << Examples(ctx) << Seed(ctx);
  out << "Write the kernel following the plan.\n" << Tail(ctx);
  return out.str();
}

std::string RepairPrompt(const PromptContext& ctx, const std::string& plan, const std::string& previous_code,
                         const std::string& feedback) {
  std::ostringstream out;
  out << TaskDescription(*ctx.task, ctx.backend, ctx.device) << "\n";
  if (previous_code.empty()) {
    if (!plan.empty()) out << "The plan:\n" << plan << "\n\n";
    out << "Your previous reply could not be used:\n" << feedback << "\n\n";
  } else {
    out << "Your previous kernel:\n" << CodeBlock(ctx, previous_code) << "\n";
    out << "What Anvil found:\n" << feedback << "\n\n";
  }
  out << "Fix the problem (find its cause; do not just special-case the failing shape).\n" << Tail(ctx);
  return out.str();
}

std::string OptimisePrompt(const PromptContext& ctx, const std::string& best_code, const std::string& feedback) {
  std::ostringstream out;
  out << TaskDescription(*ctx.task, ctx.backend, ctx.device) << "\n";
  out << "The fastest correct kernel so far:\n" << CodeBlock(ctx, best_code) << "\n";
  out << "Its measurements:\n" << feedback << "\n\n";
  out << "Make it faster while keeping it correct on every case: find what limits it (memory traffic, "
         "parallelism, vectorisation, occupancy, launch count) and change that. Keep what already works.\n"
      << Tail(ctx);
  return out.str();
}

std::string RedesignPrompt(const PromptContext& ctx, const std::vector<FailedAttempt>& failures) {
  std::ostringstream out;
  out << TaskDescription(*ctx.task, ctx.backend, ctx.device) << "\n";
  out << "The attempts so far failed the same way repeatedly:\n";
  for (const FailedAttempt& f : failures)
    out << fmt::format("- round {} ({}):\n{}\n", f.round, f.action, f.feedback);
  out << "\nPropose a different approach, simpler if need be, that avoids these failures. Give a short plan "
         "(at most ~15 lines, no code): work split and tiling, memory traffic, reductions and precision, edge "
         "cases, and the roofline target.\n";
  return out.str();
}

}  // namespace anvil::agent
