#include "worker/sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace anvil::worker {
namespace {

void Note(SandboxReport& r, const std::string& s) { r.notes += (r.notes.empty() ? "" : "; ") + s; }

bool WriteFile(const char* path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f.flush());
}

bool IsolateNetwork(SandboxReport& report) {
  if (unshare(CLONE_NEWNET) == 0) return true;
  int root_errno = errno;
  // Without CAP_SYS_ADMIN: a user namespace first, mapping our ids.
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
    WriteFile("/proc/self/setgroups", "deny");
    WriteFile("/proc/self/uid_map", fmt::format("{} {} 1", uid, uid));
    WriteFile("/proc/self/gid_map", fmt::format("{} {} 1", gid, gid));
    return true;
  }
  Note(report, fmt::format("network not isolated: unshare(CLONE_NEWNET) failed ({}), user namespace too ({})",
                           std::strerror(root_errno), std::strerror(errno)));
  return false;
}

bool RestrictWrites(const SandboxOptions& options, SandboxReport& report) {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) {
    Note(report, "writes not confined: this kernel has no Landlock");
    return false;
  }
  uint64_t write_rights = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                          LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                          LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
                          LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
  if (abi >= 2) write_rights |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 3) write_rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = write_rights;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
  if (ruleset < 0) {
    Note(report, fmt::format("writes not confined: landlock_create_ruleset: {}", std::strerror(errno)));
    return false;
  }
  auto allow = [&](const std::string& path, uint64_t rights) {
    int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) return false;
    landlock_path_beneath_attr rule{};
    rule.allowed_access = rights;
    rule.parent_fd = fd;
    bool ok = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0;
    close(fd);
    return ok;
  };
  bool ok = allow(options.scratch_dir, write_rights);
  allow("/dev/null", LANDLOCK_ACCESS_FS_WRITE_FILE);
  for (const std::string& path : options.writable_devices) ok = ok && allow(path, LANDLOCK_ACCESS_FS_WRITE_FILE);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  ok = ok && syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
  if (!ok) Note(report, fmt::format("writes not confined: landlock rules failed: {}", std::strerror(errno)));
  close(ruleset);
  return ok;
}

}  // namespace

void ApplyProcessLimits(const SandboxOptions& options, SandboxReport& report) {
  rlimit core{0, 0};
  setrlimit(RLIMIT_CORE, &core);
  if (options.file_size_limit_mb > 0) {
    rlim_t bytes = static_cast<rlim_t>(options.file_size_limit_mb) << 20;
    rlimit fsize{bytes, bytes};
    setrlimit(RLIMIT_FSIZE, &fsize);
  }
  if (options.isolate_network) report.network_isolated = IsolateNetwork(report);
  if (!options.scratch_dir.empty()) report.landlock = RestrictWrites(options, report);
}

void LimitAddressSpace(const SandboxOptions& options, SandboxReport& report) {
  if (options.memory_limit_mb <= 0) return;
  // VmSize in /proc/self/status: the address space mapped now, in kB.
  std::ifstream status("/proc/self/status");
  std::string line;
  long long vm_kb = -1;
  while (std::getline(status, line))
    if (line.rfind("VmSize:", 0) == 0) vm_kb = std::stoll(line.substr(7));
  if (vm_kb < 0) {
    Note(report, "no memory limit: cannot read VmSize from /proc/self/status");
    return;
  }
  rlim_t bytes = (static_cast<rlim_t>(vm_kb) << 10) + (static_cast<rlim_t>(options.memory_limit_mb) << 20);
  rlimit as{bytes, bytes};
  if (setrlimit(RLIMIT_AS, &as) == 0) {
    report.memory_limit_mb = options.memory_limit_mb;
    report.base_address_space_mb = vm_kb >> 10;
  } else {
    Note(report, fmt::format("no memory limit: setrlimit(RLIMIT_AS): {}", std::strerror(errno)));
  }
}

void ForbidProcessCreation(SandboxReport& report) {
#if defined(__x86_64__)
  constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
  constexpr uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
  Note(report, "process creation not forbidden: no seccomp filter for this architecture");
  return;
#endif
  constexpr uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
  constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
  constexpr uint32_t kNoSys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
  auto nr = [](int n) { return static_cast<uint32_t>(n); };
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, kKill),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
#ifdef __NR_fork
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_fork), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kKill),
#endif
#ifdef __NR_vfork
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_vfork), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kKill),
#endif
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_execve), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kKill),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_execveat), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kKill),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_clone3), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kNoSys),
      // clone: allowed only for threads (CLONE_THREAD in the flags argument,
      // whose low 32 bits are loaded: x86-64 and aarch64 are little-endian).
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr(__NR_clone), 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, kAllow),
      BPF_STMT(BPF_RET | BPF_K, kKill),
      BPF_STMT(BPF_RET | BPF_K, kAllow),  // every other system call
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    Note(report, fmt::format("process creation not forbidden: seccomp: {}", std::strerror(errno)));
    return;
  }
  report.seccomp = true;
}

}  // namespace anvil::worker
