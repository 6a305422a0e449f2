// A one-line progress bar with ETA on stderr, redrawn in place. Does
// nothing when disabled (not a terminal, or --json).
#pragma once

#include <chrono>
#include <string>

namespace anvil::cli {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() { Clear(); }
  // `label`: what is being worked on; `phase`: build/correctness/performance.
  void Update(const std::string& label, const std::string& phase, int done, int total);
  void Clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string phase_;
  std::chrono::steady_clock::time_point phase_start_ = std::chrono::steady_clock::now();
};

}  // namespace anvil::cli
