#include "orchestrator/worker_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "util/subprocess.h"

namespace anvil {
namespace {

WorkerEvent ExitedEvent() {
  WorkerEvent e;
  e.kind = WorkerEvent::Kind::kExited;
  return e;
}

WorkerEvent TimedOutEvent() {
  WorkerEvent e;
  e.kind = WorkerEvent::Kind::kTimedOut;
  return e;
}

WorkerEvent CancelledEvent() {
  WorkerEvent e;
  e.kind = WorkerEvent::Kind::kCancelled;
  return e;
}

// How long one poll() waits at most: the longest a raised cancel flag goes
// unnoticed (data wakes poll at once).
constexpr int kPollSliceMs = 100;

}  // namespace

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  const char* desc = sigdescr_np(sig);
  return fmt::format("SIG{} ({})", abbrev ? abbrev : std::to_string(sig).c_str(), desc ? desc : "unknown signal");
}

Result<std::unique_ptr<WorkerClient>> WorkerClient::Start(const WorkerOptions& options,
                                                          const std::atomic<bool>* cancel) {
  std::error_code ec;
  std::filesystem::create_directories(options.scratch_dir, ec);
  if (ec) return IoError(fmt::format("cannot create scratch dir '{}': {}", options.scratch_dir, ec.message()));
  if (access(options.worker_path.c_str(), X_OK) != 0)
    return NotFound(fmt::format("worker executable '{}' not found or not executable (build it, or pass --worker)",
                                options.worker_path));

  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0)
    return IoError(std::string("pipe: ") + std::strerror(errno));
  auto client = std::unique_ptr<WorkerClient>(new WorkerClient());
  client->stderr_path_ = (std::filesystem::path(options.scratch_dir) / "worker-stderr.log").string();

  std::vector<std::string> args = options.launcher;
  if (!args.empty()) {
    std::string resolved = FindExecutable(args[0]);
    if (resolved.empty())
      return NotFound(fmt::format("the worker's launcher '{}' is not an executable file{}", args[0],
                                  args[0].find('/') == std::string::npos ? " on PATH" : ""));
    args[0] = resolved;
  }
  args.insert(args.end(), {options.worker_path, "--scratch-dir", options.scratch_dir, "--memory-limit-mb",
                           std::to_string(options.memory_limit_mb), "--device", options.device});
  if (!options.isolate_network) args.push_back("--no-network-isolation");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Built before fork: the child only makes the system call.
  cpu_set_t cpu_mask;
  CPU_ZERO(&cpu_mask);
  for (int cpu : options.cpus)
    if (cpu >= 0 && cpu < CPU_SETSIZE) CPU_SET(cpu, &cpu_mask);
  const bool restrict_cpus = CPU_COUNT(&cpu_mask) > 0;

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return IoError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setpgid(0, 0);
    // The worker lives in its own process group (so a timeout can kill all of
    // it), which also keeps it out of the terminal's Ctrl-C: make it die with
    // the orchestrator instead. Survives exec; the getppid check closes the
    // race with a parent that died before prctl.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // Pin OpenMP threads (the candidate's and LibTorch's alike) to cores, so
    // timings do not depend on the scheduler moving threads; a user's own
    // settings win. libgomp reads these when it loads, hence before exec.
    // Before exec, so libgomp builds its places from the restricted mask.
    if (restrict_cpus) (void)sched_setaffinity(0, sizeof(cpu_mask), &cpu_mask);
    setenv("OMP_PROC_BIND", "close", /*overwrite=*/0);
    setenv("OMP_PLACES", "cores", /*overwrite=*/0);
    for (const auto& [name, value] : options.environment) setenv(name.c_str(), value.c_str(), /*overwrite=*/1);
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    int err = open(client->stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);
  close(in_pipe[0]);
  close(out_pipe[1]);
  client->pid_ = pid;
  client->to_worker_ = in_pipe[1];
  client->from_worker_ = out_pipe[0];
  signal(SIGPIPE, SIG_IGN);  // a dead worker must not kill the orchestrator on write

  // A launcher may print its own lines on stdout before the worker's hello
  // (a banner); they are not JSON and are skipped, within the same deadline.
  auto hello_deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.startup_timeout_s);
  auto seconds_left = [&] {
    return std::max(0.0, std::chrono::duration<double>(hello_deadline - std::chrono::steady_clock::now()).count());
  };
  WorkerEvent hello = client->Next(seconds_left(), cancel);
  while (!options.launcher.empty() && hello.kind == WorkerEvent::Kind::kMessage &&
         hello.message.value("type", "") == "garbage")
    hello = client->Next(seconds_left(), cancel);
  if (hello.kind == WorkerEvent::Kind::kCancelled) {
    client->Kill();
    return Cancelled("interrupted while the worker was starting");
  }
  if (hello.kind != WorkerEvent::Kind::kMessage || hello.message.value("type", "") != "hello") {
    std::string why = hello.kind == WorkerEvent::Kind::kTimedOut ? "did not say hello in time"
                      : hello.kind == WorkerEvent::Kind::kExited
                          ? (hello.signal ? "died with " + SignalName(hello.signal)
                                          : fmt::format("exited with code {}", hello.exit_code))
                          : "sent " + hello.message.dump();
    std::string tail = client->StderrTail();
    client->Kill();
    std::string under = options.launcher.empty() ? "" : fmt::format(" (under {})", options.launcher[0]);
    return ProtocolError(
        fmt::format("anvil-worker{} failed to start: {}{}", under, why, tail.empty() ? "" : "\n" + tail));
  }
  client->sandbox_ = SandboxReportFromJson(hello.message.value("sandbox", nlohmann::json::object()));
  client->device_ = hello.message.value("device", nlohmann::json::object());
  client->python_ = hello.message.value("python", nlohmann::json::object());
  client->startup_seconds_ = hello.message.value("startup_seconds", nlohmann::json::object());
  return client;
}

WorkerClient::~WorkerClient() {
  Kill();
}

Status WorkerClient::Send(const nlohmann::json& message) {
  if (pid_ <= 0) return ProtocolError("worker is not running");
  std::string line = message.dump() + "\n";
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = write(to_worker_, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ProtocolError(std::string("writing to worker: ") + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

WorkerEvent WorkerClient::Reap() {
  WorkerEvent e;
  e.kind = WorkerEvent::Kind::kExited;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
  if (WIFEXITED(status)) e.exit_code = WEXITSTATUS(status);
  kill(-pid_, SIGKILL);  // anything the candidate left in the group
  close(to_worker_);
  close(from_worker_);
  pid_ = -1;
  return e;
}

WorkerEvent WorkerClient::Next(double timeout_seconds, const std::atomic<bool>* cancel) {
  if (pid_ <= 0) return ExitedEvent();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
  while (true) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      WorkerEvent e;
      e.message = nlohmann::json::parse(line, nullptr, false);
      if (e.message.is_discarded()) e.message = {{"type", "garbage"}, {"text", line}};
      return e;
    }
    if (cancel != nullptr && cancel->load()) return CancelledEvent();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return TimedOutEvent();
    pollfd p{from_worker_, POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), kPollSliceMs)));
    if (n < 0 && errno != EINTR) return Reap();
    if (n <= 0) continue;
    char buf[65536];
    ssize_t got = read(from_worker_, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Reap();  // EOF: the worker is gone
    buffer_.append(buf, static_cast<size_t>(got));
  }
}

void WorkerClient::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  Reap();
}

void WorkerClient::MarkStderr() {
  std::error_code ec;
  auto size = std::filesystem::file_size(stderr_path_, ec);
  stderr_mark_ = ec ? 0 : static_cast<long long>(size);
}

std::string WorkerClient::StderrTail(size_t max_bytes) const {
  std::ifstream in(stderr_path_, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  long long size = in.tellg();
  long long start = std::max(stderr_mark_, size - static_cast<long long>(max_bytes));
  if (start >= size) return "";
  in.seekg(start);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

}  // namespace anvil
