// Roofline: the speed-of-light floor for one timed case, and the measured
// device ceilings it is computed from.
//
// A timing alone says how fast a kernel is, not how close it is to what the
// device can do. The floor is the roofline bound: a case must move at least
// EstimateWork().min_bytes through memory and execute its matmul flops, so no
// implementation can be faster than
//   max(min_bytes / copy bandwidth, flops / matmul peak of flops_dtype).
// measured time / that floor is how far a kernel is from the device's limit.
//
// The ceilings are *measured* on the device (worker/cuda/device_ceilings.h),
// not taken from a data sheet: a device-to-device copy and a large cuBLAS
// matmul per dtype are what real kernels can reach, so a good kernel comes
// close to 100% and never passes it by much. They are stored per device_key
// (store: device_ceilings table) so a device is measured once per driver and
// software stack.
//
// This file is pure C++ (anvil_core): the orchestrator computes the floor
// without linking LibTorch.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "formula/ir.h"
#include "task/task.h"
#include "util/status.h"

namespace anvil {

struct DeviceCeilings {
  // Identifies what was measured; a different driver or torch build is a new
  // measurement. e.g. "NVIDIA H100 80GB HBM3|driver 580.65|torch 2.11.0|cuda 13.0".
  std::string device_key;
  std::string device_name;
  // Device-to-device copy bandwidth in GB/s (1e9 bytes/s), counting the bytes
  // read plus the bytes written, so it compares directly with min_bytes.
  double copy_gbps = 0;
  // Dense matmul peak in TFLOP/s (1e12 flop/s) by dtype name: "f16", "bf16",
  // "f32" (true f32, TF32 off), "f64". A dtype without an entry was not measured.
  std::map<std::string, double> matmul_tflops;
  std::string method;       // how they were measured, in words, for reports
  std::string measured_at;  // ISO-8601 UTC, e.g. "2025-01-01T12:00:00Z"
};

nlohmann::json ToJson(const DeviceCeilings& c);
// kProtocol when a field is missing or has the wrong type, or when a ceiling
// is negative or not finite (the JSON comes from our own store or worker, so
// a malformed document is a version mismatch or a bug, not user input).
Result<DeviceCeilings> DeviceCeilingsFromJson(const nlohmann::json& j);

// The work one case of a task cannot avoid.
struct WorkEstimate {
  // Least memory traffic in bytes of any implementation: every element of
  // every input the formula uses read once, every output element written once.
  // A broadcast input counts the elements of its declared shape only (a
  // [C] bias added to [R, C] is C elements, not R*C). An in-place output is
  // read once as its input and written once as the output: its buffer is not
  // also counted as a separate read-modify-write, so in-place and
  // out-of-place versions of an op have the same floor.
  // The task's declarations lower this where an operator moves less
  // (task.h): an input with read = none counts nothing (for an in-place
  // input only its read is dropped, the output's write stays), read = output
  // counts min(its elements, the first output's elements), and an output
  // with write = partial counts no write.
  double min_bytes = 0;
  // Matmul flops: 2*M*N*K per matmul node (2 * output elements * K, so batch
  // dims and 1-D operands are included). Other ops are not counted: on GPUs
  // their arithmetic is far below both the memory and the matmul ceilings.
  double flops = 0;
  // Dtype name of the matmul nodes ("f16", ...); "" when flops is 0. When
  // matmuls of several dtypes appear, the dtype that carries most flops.
  std::string flops_dtype;
};

// The work of `task` for one dtype variant and one case's bindings. `graph`
// must be CompileTaskGraph(task, variant) (task/task_graph.h); the input dtypes
// come from `variant`, the outputs, their shapes and the matmuls from `graph`.
// Errors: kInvalidInput when a symbol of the task is not bound in `bindings`
// (the message names it); kInternal when graph and variant disagree.
Result<WorkEstimate> EstimateWork(const Task& task, const formula::Graph& graph, const DTypeVariant& variant,
                                  const Bindings& bindings);

// The same for any task: through its formula graph, or for a module
// reference (no graph) every input read once and every output written once
// (as declared: read / write above), with no flops (the module's matmuls
// are not visible to Anvil), which is still a valid lower bound.
Result<WorkEstimate> EstimateTaskWork(const Task& task, const DTypeVariant& variant, const Bindings& bindings);

// Speed-of-light time of `work` in ns:
//   max(min_bytes / copy bandwidth, flops / matmul peak of flops_dtype).
// A ceiling that is absent or not positive (an integer matmul has no measured
// peak) drops its term, so the result is still a valid lower bound; 0 when
// neither term applies.
double SpeedOfLightNs(const WorkEstimate& work, const DeviceCeilings& ceilings);

}  // namespace anvil
