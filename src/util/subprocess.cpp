#include "util/subprocess.h"

#include <cstdlib>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace anvil {

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, double timeout_seconds,
                                 const std::string& working_dir, const std::atomic<bool>* cancel) {
  if (argv.empty()) return InternalError("RunProcess: empty argv");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  // A pipe that reports exec failure: closed by exec (CLOEXEC) on success.
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid < 0) return IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    if (!working_dir.empty() && chdir(working_dir.c_str()) != 0) _exit(127);
    execvp(args[0], args.data());
    int err = errno;
    (void)!write(errpipe[1], &err, sizeof err);
    _exit(127);
  }
  setpgid(pid, pid);  // also from the parent: no race with the child's own call
  close(pipefd[1]);
  close(errpipe[1]);
  int exec_errno = 0;
  bool exec_failed = read(errpipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close(errpipe[0]);

  ProcessResult r;
  auto deadline = start + std::chrono::duration<double>(timeout_seconds);
  char buf[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    if (cancel != nullptr && cancel->load()) {
      r.cancelled = true;
      kill(-pid, SIGKILL);
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), cancel != nullptr ? 100 : 1000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = read(pipefd[0], buf, sizeof buf);
    if (got <= 0) break;
    r.output.append(buf, static_cast<size_t>(got));
  }
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.timed_out) kill(-pid, SIGKILL);  // stragglers in the group, if any
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (exec_failed)
    return IoError("cannot run '" + argv[0] + "': " + std::strerror(exec_errno));
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, const std::string& contents) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError("cannot write '" + tmp + "'");
    out << contents;
    if (!out.flush()) return IoError("write failed for '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return Status::Ok();
}

bool IsExecutableFile(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return IsExecutableFile(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return "";
}

}  // namespace anvil
