// CancelToken: a flag one thread raises to stop work another thread is doing.
//
// The agent loop hands a token to every LLM call; a user's Ctrl-C, a budget
// running out or a sibling candidate winning raises it, and the HTTP transfer
// and the retry back-off both notice within a fraction of a second.
//
// Ownership: the caller owns the token and keeps it alive for the duration of
// every call it was passed to. Threading: every member is safe to call from
// any thread at any time. Once cancelled, a token stays cancelled.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace anvil::llm {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Raises the flag and wakes every thread in WaitFor.
  void Cancel() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  // Sleeps for `seconds` or until Cancel(), whichever comes first (a back-off
  // wait must not hold up a cancellation). Returns true when cancelled.
  bool WaitFor(double seconds) const {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return cancelled_; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool cancelled_ = false;
};

}  // namespace anvil::llm
