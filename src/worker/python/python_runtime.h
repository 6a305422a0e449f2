// The worker's embedded Python interpreter: where Triton candidates and the
// torch.compile baseline run.
//
// Why embedded and not a Python subprocess: the worker is built against the
// same libtorch that the Python `torch` package loads (a pip wheel's
// torch/lib on the GPU machine; Debian's libtorch 1.13 behind both
// libtorch-dev and python3-torch). An interpreter inside the worker
// therefore shares LibTorch's CUDA context, caching allocator and current
// stream with the worker's C++; tensors cross as DLPack capsules without
// copies (tensor_exchange.h), and the candidate, PyTorch eager and
// torch.compile are all timed in one process on the same inputs.
// Initialize() checks that only one libtorch is mapped after `import torch`.
//
// Threading: the interpreter is initialised on the worker's thread, which
// keeps the GIL for the life of the process; every function in
// src/worker/python must be called on that thread.
//
// Builds without Python (CMake found no Python3 Development.Embed) compile
// none of src/worker/python: Built() is false there, and code outside this
// folder guards its calls with `#if ANVIL_WITH_PYTHON`.
#pragma once

#ifndef ANVIL_WITH_PYTHON
#define ANVIL_WITH_PYTHON 0
#endif

#include <string>

#include "util/status.h"

namespace anvil::worker::python {

// Whether this worker embeds Python (Triton candidates, torch.compile baseline).
constexpr bool Built() { return ANVIL_WITH_PYTHON != 0; }

#if ANVIL_WITH_PYTHON
// Starts the interpreter of ANVIL_PYTHON_EXECUTABLE (its program name, so a
// venv's site-packages are found), without bytecode writing or signal
// handlers, with python/ of the source tree on sys.path; points Triton's and
// Inductor's caches and TMPDIR into `scratch_dir` (created) and keeps
// Inductor's compilation in-process; imports torch (and triton when
// `with_triton`) and anvil_worker.bridge. Call before the sandbox is applied:
// imports read files that Landlock would still allow, but they also create
// threads and may spawn helper processes, which seccomp forbids later.
//
// Idempotent: later calls only import triton when asked and not yet done;
// the first call's scratch directory stays in force (a different one is an
// error). A missing module is an error naming it and the interpreter.
Status Initialize(const std::string& scratch_dir, bool with_triton);

// Whether Initialize() has succeeded (with triton: whether triton was imported too).
bool Initialized(bool with_triton = false);
#endif

}  // namespace anvil::worker::python
