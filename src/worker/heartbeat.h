// Keeping the orchestrator informed during long, blocking work (a
// torch.compile, a profiled first Triton launch, Triton JIT-compiling a
// candidate's kernel): the orchestrator treats silence longer than its case
// timeout as a hung candidate.
//
// Both helpers stop beating after kMaxBeatSeconds, so work that never ends
// (a candidate kernel that hangs inside a heartbeat-covered call) still
// becomes a timeout, only later.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace anvil::worker {

inline constexpr double kMaxBeatSeconds = 300;
// Five beats a second, so even a one-second case timeout is covered.
inline constexpr std::chrono::milliseconds kBeatPeriod{200};

// Runs `work` on this thread while another thread calls `heartbeat` every
// kBeatPeriod. Only the beat thread may write to the channel meanwhile.
template <class Fn>
auto WithHeartbeat(const std::function<void()>& heartbeat, Fn&& work) {
  std::atomic<bool> done{false};
  std::thread beat([&] {
    const auto start = std::chrono::steady_clock::now();
    while (!done.load()) {
      for (int i = 0; i < 4 && !done.load(); ++i) std::this_thread::sleep_for(kBeatPeriod / 4);
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!done.load() && elapsed < kMaxBeatSeconds) heartbeat();
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      t.join();
    }
  } join{done, beat};
  return work();
}

// For the life of the object, calls `heartbeat` every kBeatPeriod while
// `busy_for()` says some work is running or ran since it last asked (a
// positive number: seconds the current work has run, beats stop once that
// passes kMaxBeatSeconds). One thread for the whole worker, so calls on the
// hot path (a timed Triton launch) pay nothing; `heartbeat` must be safe to
// call concurrently with the worker's other messages.
class BeatWhileBusy {
 public:
  BeatWhileBusy(std::function<double()> busy_for, std::function<void()> heartbeat)
      : busy_for_(std::move(busy_for)), heartbeat_(std::move(heartbeat)), thread_([this] { Loop(); }) {}
  ~BeatWhileBusy() {
    stop_ = true;
    thread_.join();
  }
  BeatWhileBusy(const BeatWhileBusy&) = delete;
  BeatWhileBusy& operator=(const BeatWhileBusy&) = delete;

 private:
  void Loop() {
    while (!stop_.load()) {
      for (int i = 0; i < 4 && !stop_.load(); ++i) std::this_thread::sleep_for(kBeatPeriod / 4);
      const double busy = busy_for_();
      if (!stop_.load() && busy > 0 && busy < kMaxBeatSeconds) heartbeat_();
    }
  }
  std::function<double()> busy_for_;
  std::function<void()> heartbeat_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after the members it reads
};

}  // namespace anvil::worker
