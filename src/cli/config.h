// CliConfig: every setting the CLI reads, in one place, with its default and
// its environment variable. Commands receive it; nothing else calls getenv.
#pragma once

#include <string>

namespace anvil::cli {

struct CliConfig {
  // Where the store, build cache and scratch space live. Env: ANVIL_WORKSPACE.
  std::string workspace = ".anvil";
  // The anvil-worker executable. Default: beside the anvil executable. Env: ANVIL_WORKER.
  std::string worker_path;
  // Directory holding anvil/kernel.h for candidate builds. Env: ANVIL_INCLUDE_DIR.
  std::string include_dir;
  // CPU threads for candidates and the LibTorch baseline (0: all cores). Env: ANVIL_THREADS.
  int threads = 0;
  // Seconds of worker silence before a case is a timeout. Env: ANVIL_CASE_TIMEOUT.
  double case_timeout_s = 20;
  // Address space a candidate may allocate on top of the started worker's,
  // MiB (0: no limit). Env: ANVIL_MEMORY_LIMIT_MB.
  long long memory_limit_mb = 4096;
  // The CUDA compiler for --target cuda ("": $CUDACXX, nvcc on PATH,
  // /usr/local/cuda/bin/nvcc). Env: ANVIL_NVCC.
  std::string nvcc;
  // verify/bench --sanitize[=TOOL]: the compute-sanitizer tool (memcheck,
  // racecheck, initcheck, synccheck) that re-runs the case that failed a GPU
  // candidate; "" = off. Env: ANVIL_SANITIZE.
  std::string sanitize;
  // The Python interpreter (with torch) for the CLI's helper scripts in
  // python/anvil_tools/ (reading a reference module's inputs). Default: the
  // one the worker embeds. Env: ANVIL_PYTHON.
  std::string python;
  // Machine-readable output on stdout.
  bool json = false;
  // Progress bar on stderr (default: when stderr is a terminal and not --json).
  bool progress = true;

  std::string StorePath() const { return workspace + "/anvil.db"; }
  std::string BuildCacheDir() const { return workspace + "/builds"; }
  std::string ScratchDir() const { return workspace + "/scratch"; }
  std::string SanitizerDir() const { return workspace + "/sanitizer"; }
};

// Fills defaults that depend on the machine (worker path, include dir, threads).
void ResolveDefaults(CliConfig& config);

}  // namespace anvil::cli
