// The outcome of building one candidate into a shared object, whichever
// backend built it (g++ for the CPU, nvcc for CUDA).
//
// A BuildResult is a plain value owned by the caller. ok == false is the
// candidate's fault (a compile or link error, or a compiler timeout) and is
// reported as a build_error verdict with `log`; failures that are not the
// candidate's fault (compiler missing, cache unwritable) are error Statuses
// from the build functions instead and never reach this struct.
#pragma once

#include <string>
#include <vector>

namespace anvil {

struct BuildResult {
  bool ok = false;                    // compiled and linked
  bool cached = false;                // served from the cache
  std::string library_path;           // when ok
  std::string cache_key;
  std::string command;                // the compiler command line, for the record
  std::string log;                    // compiler output, verbatim, trimmed to its first lines
  double seconds = 0;
  std::vector<std::string> forbidden_imports;  // when ok: imports the candidate may not have; non-empty = do not run
};

}  // namespace anvil
