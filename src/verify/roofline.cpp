#include "verify/roofline.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "task/task_graph.h"

namespace anvil {

using nlohmann::json;

json ToJson(const DeviceCeilings& c) {
  return {{"device_key", c.device_key},   {"device_name", c.device_name}, {"copy_gbps", c.copy_gbps},
          {"matmul_tflops", c.matmul_tflops}, {"method", c.method},       {"measured_at", c.measured_at}};
}

Result<DeviceCeilings> DeviceCeilingsFromJson(const json& j) {
  DeviceCeilings c;
  try {
    c.device_key = j.at("device_key").get<std::string>();
    c.device_name = j.at("device_name").get<std::string>();
    c.copy_gbps = j.at("copy_gbps").get<double>();
    c.matmul_tflops = j.at("matmul_tflops").get<std::map<std::string, double>>();
    c.method = j.at("method").get<std::string>();
    c.measured_at = j.at("measured_at").get<std::string>();
  } catch (const json::exception& e) {
    return ProtocolError(fmt::format("malformed device ceilings: {}", e.what()));
  }
  if (c.device_key.empty()) return ProtocolError("malformed device ceilings: device_key is empty");
  // A negative or infinite ceiling would turn the floor into nonsense silently.
  auto check = [&](const std::string& what, double v) -> Status {
    if (std::isfinite(v) && v >= 0) return Status::Ok();
    return ProtocolError(fmt::format("malformed device ceilings for '{}': {} is {}, expected a finite value >= 0",
                                     c.device_key, what, v));
  };
  ANVIL_RETURN_IF_ERROR(check("copy_gbps", c.copy_gbps));
  for (const auto& [dtype, tflops] : c.matmul_tflops) {
    ANVIL_RETURN_IF_ERROR(check("matmul_tflops." + dtype, tflops));
  }
  return c;
}

namespace {

std::string WorkContext(const Task& task, const DTypeVariant& variant, const Bindings& bindings,
                        const std::string& what) {
  return fmt::format("estimating the work of task '{}' ({}, {}): {}", task.name, variant.Label(),
                     BindingsToString(bindings), what);
}

// The least memory traffic of one case (WorkEstimate::min_bytes), shared by
// the formula and the module path so the two count alike. `outputs` are the
// task's outputs for `variant` in declaration order; `used[i]` is false for an
// input the reference never reads (a formula that does not name it).
Result<double> MinBytes(const Task& task, const DTypeVariant& variant, const std::vector<formula::OutputInfo>& outputs,
                        const std::vector<bool>& used, const Bindings& bindings) {
  if (outputs.size() != task.outputs.size() || used.size() != task.inputs.size())
    return InternalError(WorkContext(task, variant, bindings, "outputs or inputs do not match the task's"));
  auto elements = [&](const SymShape& shape, const std::string& what) -> Result<double> {
    Result<Shape> s = Concretize(shape, bindings);
    if (!s.ok()) return s.status().Context(WorkContext(task, variant, bindings, what));
    return static_cast<double>(NumElements(*s));
  };
  double bytes = 0;
  for (size_t i = 0; i < task.inputs.size(); ++i) {
    const TaskInput& in = task.inputs[i];
    // read = none: only a shape, or an in-place input that is only
    // overwritten; its output's write is still counted below.
    if (!used[i] || in.read == InputRead::kNone) continue;
    // The declared shape: a broadcast input has only these distinct elements.
    ANVIL_ASSIGN_OR_RETURN(double n, elements(in.shape, "input '" + in.name + "'"));
    if (in.read == InputRead::kOutput) {
      // Gathered one-to-one into the first output: each of its elements
      // comes from a distinct element of this input.
      ANVIL_ASSIGN_OR_RETURN(double out_n, elements(outputs.front().shape, "output '" + outputs.front().name + "'"));
      n = std::min(n, out_n);
    }
    bytes += n * ItemSize(variant.input_dtypes[i]);
  }
  for (size_t j = 0; j < outputs.size(); ++j) {
    // Every output is written once, whether into its own buffer or, in
    // place, into an input's (whose read was counted above unless declared
    // none); a partial in-place write may touch no element at all.
    if (task.outputs[j].write == OutputWrite::kPartial) continue;
    ANVIL_ASSIGN_OR_RETURN(double n, elements(outputs[j].shape, "output '" + outputs[j].name + "'"));
    bytes += n * ItemSize(outputs[j].dtype);
  }
  return bytes;
}

}  // namespace

Result<WorkEstimate> EstimateWork(const Task& task, const formula::Graph& graph, const DTypeVariant& variant,
                                  const Bindings& bindings) {
  if (variant.input_dtypes.size() != task.inputs.size() || graph.inputs().size() != task.inputs.size() ||
      graph.outputs().size() != task.outputs.size()) {
    return InternalError(fmt::format("EstimateWork for task '{}': the graph ({} inputs, {} outputs) or variant "
                                     "'{}' ({} input dtypes) does not match the task ({} inputs, {} outputs)",
                                     task.name, graph.inputs().size(), graph.outputs().size(), variant.Label(),
                                     variant.input_dtypes.size(), task.inputs.size(), task.outputs.size()));
  }
  for (size_t i = 0; i < task.inputs.size(); ++i) {
    if (graph.inputs()[i].dtype != variant.input_dtypes[i]) {
      return InternalError(fmt::format("EstimateWork for task '{}': graph input '{}' is {} but variant '{}' says {}; "
                                       "the graph was compiled for another variant",
                                       task.name, task.inputs[i].name, DTypeName(graph.inputs()[i].dtype),
                                       variant.Label(), DTypeName(variant.input_dtypes[i])));
    }
  }
  auto context = [&](const std::string& what) { return WorkContext(task, variant, bindings, what); };

  WorkEstimate work;
  // Inputs the formula reads; an input it never names need not be read.
  std::set<int32_t> used_inputs;
  std::map<DType, double> flops_by_dtype;
  for (const formula::Node& n : graph.nodes()) {
    if (n.op == formula::Op::kInput) used_inputs.insert(n.index);
    if (n.op != formula::Op::kMatmul) continue;
    // 2*M*N*K written as 2 * (output elements) * K: the output holds every
    // (batch, M, N) combination, including broadcast batch dims, and K is the
    // last dim of the left operand (a 1-D left operand is its only dim).
    const formula::Node& lhs = graph.node(n.operands.at(0));
    if (lhs.shape.empty()) return InternalError(context("a matmul has a rank-0 left operand"));
    Result<Shape> out_shape = Concretize(n.shape, bindings);
    if (!out_shape.ok()) return out_shape.status().Context(context("matmul output shape"));
    Result<Shape> lhs_shape = Concretize(lhs.shape, bindings);
    if (!lhs_shape.ok()) return lhs_shape.status().Context(context("matmul operand shape"));
    flops_by_dtype[n.dtype] +=
        2.0 * static_cast<double>(NumElements(*out_shape)) * static_cast<double>(lhs_shape->back());
  }
  double largest = 0;
  for (const auto& [dtype, flops] : flops_by_dtype) {
    work.flops += flops;
    if (work.flops_dtype.empty() || flops > largest) {
      work.flops_dtype = std::string(DTypeName(dtype));
      largest = flops;
    }
  }

  std::vector<bool> used(task.inputs.size());
  for (size_t i = 0; i < used.size(); ++i) used[i] = used_inputs.count(static_cast<int32_t>(i)) > 0;
  ANVIL_ASSIGN_OR_RETURN(work.min_bytes, MinBytes(task, variant, graph.outputs(), used, bindings));
  return work;
}

Result<WorkEstimate> EstimateTaskWork(const Task& task, const DTypeVariant& variant, const Bindings& bindings) {
  if (!task.module) {
    ANVIL_ASSIGN_OR_RETURN(formula::Graph graph, CompileTaskGraph(task, variant));
    return EstimateWork(task, graph, variant, bindings);
  }
  ANVIL_ASSIGN_OR_RETURN(std::vector<formula::OutputInfo> outputs, TaskOutputs(task, variant));
  WorkEstimate work;
  // A module's code is opaque: every input counts as used.
  ANVIL_ASSIGN_OR_RETURN(work.min_bytes,
                         MinBytes(task, variant, outputs, std::vector<bool>(task.inputs.size(), true), bindings));
  return work;
}

double SpeedOfLightNs(const WorkEstimate& work, const DeviceCeilings& ceilings) {
  double ns = 0;
  // GB/s = bytes per ns.
  if (ceilings.copy_gbps > 0) ns = work.min_bytes / ceilings.copy_gbps;
  if (work.flops > 0) {
    auto peak = ceilings.matmul_tflops.find(work.flops_dtype);
    // TFLOP/s = 1e3 flops per ns.
    if (peak != ceilings.matmul_tflops.end() && peak->second > 0) {
      ns = std::max(ns, work.flops / (peak->second * 1e3));
    }
  }
  return ns;
}

}  // namespace anvil
