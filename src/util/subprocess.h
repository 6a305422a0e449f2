// Running a helper program (the compiler, nm) and capturing its output.
//
// The child gets its own process group; on timeout, or when the caller's
// cancel flag is raised (Ctrl-C), the whole group is killed with SIGKILL, so
// a compiler that spawns children (cc1plus, as, ld) leaves nothing behind.
// stdin is /dev/null. stdout and stderr are merged.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "util/status.h"

namespace anvil {

struct ProcessResult {
  int exit_code = -1;     // valid when !signaled && !timed_out
  int signal = 0;         // the signal that ended it, when signaled
  bool timed_out = false;
  bool cancelled = false;  // killed because `cancel` was raised
  std::string output;     // stdout and stderr, interleaved
  double seconds = 0;
};

// Fails (IoError) only when the program cannot be started at all. `cancel`
// (optional) is polled every 100 ms.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, double timeout_seconds,
                                 const std::string& working_dir = "", const std::atomic<bool>* cancel = nullptr);

// The program `name` as a path: `name` itself when it contains a '/' and is
// executable, else the first PATH entry holding an executable `name`; ""
// when there is none.
std::string FindExecutable(const std::string& name);
bool IsExecutableFile(const std::string& path);

// Reads a whole file / writes it atomically (temp file + rename).
Result<std::string> ReadFile(const std::string& path);
Status WriteFileAtomic(const std::string& path, const std::string& contents);

}  // namespace anvil
