// The orchestrator's handle on one anvil-worker process.
//
// Start() forks and execs the worker in its own process group with pipes for
// the protocol (src/verify/protocol.h) and its stderr in a log file, then
// waits for the worker's hello. Next() returns the next message, or tells
// that the worker exited (with its signal or code) or stayed silent past the
// deadline. Kill() ends the whole process group (a candidate that forked or
// left threads behind dies with it). The destructor kills a worker that is
// still alive. One thread at a time.
//
// Cancellation: Start() and Next() take an optional flag another thread may
// raise (a Ctrl-C handler); they look at it at least every 100 ms while
// waiting. Start() then kills the worker and returns kCancelled; Next()
// returns a kCancelled event and leaves the worker as it is (the caller
// decides: Kill() it, or wait for it).
//
// With a launcher (WorkerOptions::launcher, e.g. compute-sanitizer and its
// options) the launcher is exec'd with the worker's command line appended: it
// inherits the pipes and the log, starts the worker as its child in the same
// process group, and is the process Next() reports the exit of. Kill() still
// ends both (the group), and the hello must still come within the start-up
// timeout, which a caller using a slow launcher raises.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "verify/protocol.h"
#include "util/status.h"

namespace anvil {

struct WorkerOptions {
  std::string worker_path;        // the anvil-worker executable
  std::string scratch_dir;        // its only writable directory; holds its stderr log
  int64_t memory_limit_mb = 4096; // address space a candidate may add inside the worker
  bool isolate_network = true;
  std::string device = "cpu";     // "cpu" or "cuda"
  double startup_timeout_s = 120; // a GPU worker starts CUDA, torch and Triton in Python
  // An argv prefix the worker runs under (argv[0] a path, or a name looked up
  // on PATH); empty: the worker is exec'd directly. Default: empty.
  std::vector<std::string> launcher;
  // Variables set (overriding) in the started process's environment on top
  // of the orchestrator's, e.g. TMPDIR for a launcher. Default: none.
  std::vector<std::pair<std::string, std::string>> environment;
  // CPUs the worker may run on (its OpenMP threads are pinned within them);
  // empty: the orchestrator's own. A suite run gives each job its own cores
  // (util/cpu_set.h says why).
  std::vector<int> cpus;
};

struct WorkerEvent {
  // kCancelled: only from Next() given a cancel flag, once it is raised.
  enum class Kind { kMessage, kExited, kTimedOut, kCancelled };
  Kind kind = Kind::kMessage;
  nlohmann::json message;   // kMessage
  int exit_code = -1;       // kExited, when it exited normally
  int signal = 0;           // kExited, when a signal ended it
};

class WorkerClient {
 public:
  // `cancel` (may be null; must outlive the call) raised before the hello:
  // the worker is killed and the result is kCancelled.
  static Result<std::unique_ptr<WorkerClient>> Start(const WorkerOptions& options,
                                                     const std::atomic<bool>* cancel = nullptr);
  ~WorkerClient();
  WorkerClient(const WorkerClient&) = delete;
  WorkerClient& operator=(const WorkerClient&) = delete;

  Status Send(const nlohmann::json& message);
  // The next message; kExited when the worker is gone, kTimedOut after
  // `timeout_seconds` without a complete line, kCancelled once `cancel`
  // (may be null) is raised, whichever comes first.
  WorkerEvent Next(double timeout_seconds, const std::atomic<bool>* cancel = nullptr);
  void Kill();
  bool alive() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const SandboxReport& sandbox() const { return sandbox_; }
  // What the worker said about its device and Python in its hello:
  // {"name", "compute_capability", "cc_major", "cc_minor", "key", ...}.
  const nlohmann::json& device() const { return device_; }
  const nlohmann::json& python() const { return python_; }
  // Seconds per start-up stage the worker reported: {"open_device", "sandbox", "torch_warmup", "python"}.
  const nlohmann::json& startup_seconds() const { return startup_seconds_; }
  // Marks the current end of the worker's stderr log; StderrTail() shows
  // only what came after the last mark (one evaluation's output).
  void MarkStderr();
  // At most the last `max_bytes` of the worker's stderr since the mark
  // (candidate output, abort messages).
  std::string StderrTail(size_t max_bytes = 2000) const;

 private:
  WorkerClient() = default;
  WorkerEvent Reap();  // waits for the exited process and describes how it ended

  pid_t pid_ = -1;
  int to_worker_ = -1;
  int from_worker_ = -1;
  std::string buffer_;  // bytes read but not yet split into lines
  std::string stderr_path_;
  long long stderr_mark_ = 0;
  SandboxReport sandbox_;
  nlohmann::json device_ = nlohmann::json::object();
  nlohmann::json python_ = nlohmann::json::object();
  nlohmann::json startup_seconds_ = nlohmann::json::object();
};

std::string SignalName(int signal);  // "SIGSEGV (segmentation fault)"

}  // namespace anvil
