// Ctrl-C (SIGINT) and SIGTERM for a command that stops cleanly and then
// reports what it has, such as `anvil suite run`.
//
// While a StopSignal is alive, the first SIGINT or SIGTERM raises flag() in
// the signal handler itself (a lock-free atomic store is async-signal-safe,
// so a worker thread polling the flag sees it at once) and `on_stop` runs
// once, on a watcher thread that polls every 50 ms: a handler may not take
// locks, and the callback may (a CancelToken, the progress line). A second
// signal ends the process at once with 128 + its number: the user, or
// `timeout -k`, insists; whatever was being printed is cut short, and the
// workers die with the process (worker_client.h).
//
// Handlers are installed with SA_RESTART and the previous ones are restored
// on destruction. One StopSignal at a time per process; construct and
// destroy it on one thread.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace anvil::cli {

class StopSignal {
 public:
  explicit StopSignal(std::function<void()> on_stop);
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Raised by the first signal; stays raised. Valid while this object lives.
  const std::atomic<bool>* flag() const;
  bool stopped() const { return flag()->load(); }

 private:
  std::function<void()> on_stop_;
  std::atomic<bool> done_{false};  // tells the watcher thread to end
  std::thread watcher_;
};

}  // namespace anvil::cli
