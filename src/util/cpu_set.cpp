#include "util/cpu_set.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>

namespace anvil {
namespace {

std::vector<int> AffinityCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

// The sysfs siblings list of `cpu` ("0,32" or "0-1"), or "" if unreadable.
std::string SiblingsOf(int cpu) {
  std::ifstream in("/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/thread_siblings_list");
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

std::vector<std::vector<int>> AllowedCores() {
  std::map<std::string, std::vector<int>> by_siblings;
  std::vector<std::vector<int>> cores;
  for (int cpu : AffinityCpus()) {
    std::string key = SiblingsOf(cpu);
    if (key.empty()) key = "cpu" + std::to_string(cpu);
    by_siblings[key].push_back(cpu);
  }
  for (auto& [key, cpus] : by_siblings) cores.push_back(std::move(cpus));
  std::sort(cores.begin(), cores.end(), [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return cores;
}

int AllowedCpuCount() { return static_cast<int>(AffinityCpus().size()); }

std::vector<int> CpusForJob(const std::vector<std::vector<int>>& cores, int jobs, int index) {
  std::vector<int> cpus;
  if (cores.empty() || jobs <= 0 || index < 0) return cpus;
  const size_t n = cores.size(), j = static_cast<size_t>(jobs), i = static_cast<size_t>(index);
  if (n < j) return cores[i % n];
  // Job i takes cores [i*n/j, (i+1)*n/j): contiguous, sizes differ by at most one.
  for (size_t c = i * n / j; c < (i + 1) * n / j; ++c) cpus.insert(cpus.end(), cores[c].begin(), cores[c].end());
  return cpus;
}

}  // namespace anvil
