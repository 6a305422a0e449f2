// What a candidate is judged against, whatever the task's reference is
// written in: a formula (worker/formula_reference.h, LibTorch ops) or a
// PyTorch module file (worker/python/module_reference.h, the embedded
// Python). The verifier, the eager baseline and the torch.compile baseline
// reach the reference only through this interface.
//
// Precisions are reference::Precision's: kUpcast64 is the correctness
// reference (floating values in f64, cast to the output dtypes at the end),
// kNative is PyTorch eager in the task's dtypes (the timing baseline),
// kUpcast32 computes in f32 where a half type has no kernel.
//
// Inputs are never written. Outputs are fresh tensors with the task's output
// dtypes and shapes, on the inputs' device. Not thread-safe: the worker's
// thread only (a module reference holds Python objects).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "core/shape.h"
#include "reference/evaluate.h"
#include "util/status.h"

namespace anvil::worker {

// What a call of the reference needs besides its inputs. A module may take
// the case's sizes and the device as keyword arguments (module_reference.h):
// a task with no tensor input (arange, zeros) learns its output's length and
// where to create it only from these.
struct ReferenceCase {
  Bindings sizes;           // the case's symbol -> size
  std::string device = "cpu";  // "cpu" or "cuda:0", as Device::name() says
};

// A compiled baseline: outputs for inputs (one dtype variant).
using CompiledReference =
    std::function<Result<std::vector<at::Tensor>>(const std::vector<at::Tensor>& inputs, const ReferenceCase& where)>;

class ReferenceModel {
 public:
  virtual ~ReferenceModel() = default;

  // The outputs for dtype variant `variant`. kUnsupported when the precision
  // has no kernel for a dtype here (the eager baseline then falls back to
  // kUpcast32); other errors are the reference's failure.
  virtual Result<std::vector<at::Tensor>> Evaluate(int variant, const std::vector<at::Tensor>& inputs,
                                                   const ReferenceCase& where,
                                                   reference::Precision precision) const = 0;

  // How many values are accumulated into one element of output `output` at
  // these sizes: the tolerance grows with it (verify/tolerance.h).
  virtual int64_t ReductionLength(int variant, size_t output, const Bindings& bindings) const = 0;

  // torch.compile of the reference for a variant (needs the embedded Python
  // and PyTorch >= 2.0); compiled at its first call.
  virtual Result<CompiledReference> Compile(int variant) const = 0;
};

}  // namespace anvil::worker
