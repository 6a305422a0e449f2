#include "cli/progress.h"

#include <cstdio>

#include <fmt/format.h>

namespace anvil::cli {

void ProgressBar::Update(const std::string& label, const std::string& phase, int done, int total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    phase_ = phase;
    phase_start_ = now;
  }
  constexpr int kWidth = 24;
  int filled = total > 0 ? kWidth * done / total : 0;
  double elapsed = std::chrono::duration<double>(now - phase_start_).count();
  std::string eta = done > 0 && total > done ? fmt::format("ETA {:.0f}s", elapsed / done * (total - done)) : "";
  std::string line = fmt::format("  {:<28.28} {:<11} [{}{}] {}/{} {}", label, phase, std::string(filled, '#'),
                                 std::string(kWidth - filled, '.'), done, total, eta);
  std::fprintf(stderr, "\r%-100s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r%-100s\r", "");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace anvil::cli
