// The CPUs this process may run on, grouped into physical cores, and how to
// split them between parallel workers.
//
// Why: a suite run with several jobs starts one worker per job, and each
// worker pins its OpenMP threads (OMP_PROC_BIND=close, OMP_PLACES=cores).
// Every process binds its threads starting from the first place it may use,
// so workers that may all use every CPU pile their threads onto the same
// cores while others sit idle. Four GPU workers on a 64-core host each ran
// 64 pinned threads on the same cores and were ten times slower than one.
// Giving each job its own whole cores (SMT siblings stay together) keeps
// jobs off each other's cores and makes CPU timings mean what they say.
#pragma once

#include <vector>

namespace anvil {

// CPUs in this process's affinity mask, grouped by physical core (SMT
// siblings from sysfs; a CPU whose topology cannot be read is its own core),
// cores ordered by their lowest CPU number. Never empty.
std::vector<std::vector<int>> AllowedCores();

// Number of CPUs in this process's affinity mask (at least 1). Unlike
// std::thread::hardware_concurrency it respects taskset, cgroup cpusets and
// the share a suite job was given.
int AllowedCpuCount();

// The CPUs of job `index` of `jobs` when `cores` are split into contiguous,
// nearly equal runs of whole cores. With fewer cores than jobs, jobs share:
// job i gets core i mod cores.size().
std::vector<int> CpusForJob(const std::vector<std::vector<int>>& cores, int jobs, int index);

}  // namespace anvil
