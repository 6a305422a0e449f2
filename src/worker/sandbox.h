// The worker's sandbox: what a candidate may not do, enforced by the kernel.
//
// ApplyProcessLimits (at start-up, before LibTorch does anything):
//   - RLIMIT_CORE 0 and RLIMIT_FSIZE: no core dumps, no huge files;
//   - a new network namespace (unshare CLONE_NEWNET; as non-root through a
//     user namespace): no network at all;
//   - Landlock: writes only under the scratch directory (and /dev/null, and
//     the device files of `writable_devices`).
// LimitAddressSpace (after start-up, once LibTorch's libraries are mapped
// and its thread pools exist): RLIMIT_AS = the worker's own address space
// now + the headroom, so unbounded allocation by a candidate fails inside
// the worker instead of exhausting the machine. Measured from the warmed-up
// worker rather than absolute because a CUDA-enabled LibTorch maps gigabytes
// of libraries and a fixed limit would starve its start-up (seen: a 2 GiB
// limit hung the worker on an H200 host).
// ForbidProcessCreation (after LibTorch's thread pools exist, before any
// candidate is loaded): a seccomp filter that kills the process with SIGSYS
// on fork, vfork, execve, execveat, and clone without CLONE_THREAD; clone3
// fails with ENOSYS so that thread creation falls back to clone.
//
// Each step that the kernel refuses is reported in SandboxReport.notes; the
// worker runs on (the orchestrator shows what was in force).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "verify/protocol.h"

namespace anvil::worker {

struct SandboxOptions {
  int64_t memory_limit_mb = 4096;  // address space a candidate may add; 0 = no limit
  int64_t file_size_limit_mb = 64;
  std::string scratch_dir;          // the only directory the worker may create files in
  // Existing files beneath these paths may also be opened for writing (a
  // CUDA worker opens /dev/nvidia* read-write); nothing may be created there.
  std::vector<std::string> writable_devices;
  bool isolate_network = true;
};

// Applies the file limits, the network namespace and Landlock; fills `report`.
void ApplyProcessLimits(const SandboxOptions& options, SandboxReport& report);
// Sets RLIMIT_AS to the current address space + options.memory_limit_mb.
void LimitAddressSpace(const SandboxOptions& options, SandboxReport& report);
// Installs the seccomp filter; sets report.seccomp.
void ForbidProcessCreation(SandboxReport& report);

}  // namespace anvil::worker
