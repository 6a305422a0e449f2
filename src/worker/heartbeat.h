// Keeping the orchestrator informed during one long, blocking call (a
// torch.compile, a profiled first Triton launch): the orchestrator treats
// silence longer than its case timeout as a hung candidate.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace anvil::worker {

// Runs `work` on this thread while another thread calls `heartbeat` about
// once a second. Only the beat thread may write to the channel meanwhile.
template <class Fn>
auto WithHeartbeat(const std::function<void()>& heartbeat, Fn&& work) {
  std::atomic<bool> done{false};
  std::thread beat([&] {
    while (!done.load()) {
      for (int i = 0; i < 10 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!done.load()) heartbeat();
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

}  // namespace anvil::worker
