// Whether the embedded Triton is preparing a candidate's kernel right now:
// JIT-compiling it (on a kernel's first launch for each specialisation:
// dtypes, constexprs, divisibility of sizes and pointers) or autotuning it
// (timing every configuration for a new key). Either can take seconds, and
// longer on a busy machine; the worker sends heartbeats meanwhile (heartbeat.h, BeatWhileBusy), while a
// launched kernel that hangs still falls silent and becomes a timeout.
//
// Python side: anvil_worker.bridge wraps each of the candidate's
// JITFunction.compile and Autotuner._bench with calls to the built-in module `_anvil_native`
// (compile_started / compile_finished) that RegisterCompileWatch() installs.
#pragma once

#include "util/status.h"

namespace anvil::worker::python {

// Installs the module `_anvil_native` in sys.modules. Call with the
// interpreter initialised, on the worker's thread (python_runtime.cpp does).
Status RegisterCompileWatch();

// Seconds the current compile has run; a tiny positive value when none runs
// but one ended since the last call (so a poller sees short compiles too);
// 0 otherwise. Any thread; meant for one poller (heartbeat.h, BeatWhileBusy).
double CompileActivitySeconds();

}  // namespace anvil::worker::python
