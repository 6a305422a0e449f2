// Ctrl-C and SIGTERM: stop cleanly on the first, quit on the second (see stop_signal.h).
#include "cli/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>

namespace anvil::cli {
namespace {

// Process-wide: a signal handler reaches no object.
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

struct sigaction g_previous_int, g_previous_term;

void OnStopSignal(int sig) {
  if (g_stop.exchange(true)) _exit(128 + sig);  // the second one: quit now
}

}  // namespace

StopSignal::StopSignal(std::function<void()> on_stop) : on_stop_(std::move(on_stop)) {
  g_stop.store(false);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // other threads' reads, writes and waits go on undisturbed
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
  watcher_ = std::thread([this] {
    while (!done_.load()) {
      if (g_stop.load()) {
        if (on_stop_) on_stop_();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

StopSignal::~StopSignal() {
  done_.store(true);
  if (watcher_.joinable()) watcher_.join();
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<bool>* StopSignal::flag() const { return &g_stop; }

}  // namespace anvil::cli
