#include "backend/build_common.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "util/subprocess.h"

namespace fs = std::filesystem;

namespace anvil {

const std::vector<std::string>& ForbiddenImports() {
  static const std::vector<std::string> kNames = {
      "dlopen", "dlmopen", "dlsym", "dlvsym", "fork", "vfork", "_Fork", "clone", "clone3", "execve", "execv",
      "execvp", "execvpe", "execl", "execlp", "execle", "fexecve", "system", "popen", "posix_spawn",
      "posix_spawnp", "socket", "connect", "ptrace", "process_vm_readv", "process_vm_writev", "syscall"};
  return kNames;
}

std::string TrimLog(const std::string& log, int max_lines, size_t max_bytes) {
  std::istringstream in(log);
  std::string line, out;
  int kept = 0, total = 0;
  while (std::getline(in, line)) {
    ++total;
    if (kept < max_lines && out.size() + line.size() < max_bytes) {
      out += line + "\n";
      ++kept;
    }
  }
  if (total > kept) out += fmt::format("... ({} more lines of compiler output not shown)\n", total - kept);
  return out;
}

Result<std::vector<std::string>> ImportedSymbols(const std::string& library) {
  ANVIL_ASSIGN_OR_RETURN(ProcessResult r, RunProcess({"nm", "-D", "--undefined-only", library}, 30));
  if (r.exit_code != 0) return IoError("nm failed on " + library + ": " + TrimLog(r.output, 5));
  std::vector<std::string> out;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    // "                 U dlsym@GLIBC_2.34"
    std::istringstream fields(line);
    std::string kind, name;
    fields >> kind >> name;
    if (name.empty()) continue;
    out.push_back(name.substr(0, name.find('@')));
  }
  return out;
}

Result<std::string> CompilerIdentity(const std::string& compiler) {
  ANVIL_ASSIGN_OR_RETURN(ProcessResult r, RunProcess({compiler, "--version"}, 30));
  if (r.exit_code != 0) return IoError(fmt::format("'{} --version' failed: {}", compiler, TrimLog(r.output, 5)));
  return r.output;
}

std::string AbiHeadersText(const std::string& include_dir) {
  std::string all;
  std::error_code ec;
  std::vector<fs::path> headers;
  for (auto& e : fs::directory_iterator(fs::path(include_dir) / "anvil", ec))
    if (e.path().extension() == ".h") headers.push_back(e.path());
  std::sort(headers.begin(), headers.end());
  for (auto& h : headers) {
    auto t = ReadFile(h.string());
    all += h.filename().string() + "\n" + (t.ok() ? *t : "") + "\n";
  }
  return all;
}

std::vector<std::string> AbiIncludeFlags(const std::string& include_dir) {
  std::vector<std::string> flags = {"-I" + include_dir};
  // DLPack normally sits in /usr/include, which must not be added with -I
  // (it reorders the system headers); elsewhere (the GPU machine) it must be.
  if (std::string dlpack = ANVIL_DLPACK_INCLUDE_DIR; dlpack != "/usr/include") flags.push_back("-I" + dlpack);
  return flags;
}

Result<BuildCacheSlot> PrepareBuildCacheSlot(const std::string& cache_dir, const std::string& key,
                                             const std::string& source_name) {
  BuildCacheSlot slot;
  slot.key = key;
  fs::path dir = fs::path(cache_dir) / key;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create build cache dir '{}': {}", dir.string(), ec.message()));
  slot.dir = dir.string();
  slot.source_path = (dir / source_name).string();
  slot.library_path = (dir / "kernel.so").string();
  // Per process, so concurrent builds of one key never write the same file.
  slot.temp_library_path = (dir / fmt::format("kernel.so.tmp.{}", getpid())).string();
  return slot;
}

Result<BuildResult> CompileIntoCache(const BuildCacheSlot& slot, const std::string& source,
                                     const std::vector<std::string>& argv, double timeout_seconds,
                                     const std::atomic<bool>* cancel) {
  BuildResult result;
  result.cache_key = slot.key;
  for (auto& a : argv) result.command += (result.command.empty() ? "" : " ") + a;
  fs::path build_log = fs::path(slot.dir) / "build.log";
  std::error_code ec;

  if (fs::exists(slot.library_path)) {
    result.cached = true;
    auto log = ReadFile(build_log.string());
    result.log = log.ok() ? *log : "";
  } else {
    ANVIL_RETURN_IF_ERROR(WriteFileAtomic(slot.source_path, source));
    ANVIL_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, timeout_seconds, slot.dir, cancel));
    if (r.cancelled) {
      fs::remove(slot.temp_library_path, ec);
      return Cancelled(fmt::format("stopped: the compiler was killed after {:.1f} s (interrupted)", r.seconds));
    }
    result.seconds = r.seconds;
    std::string log = r.output;
    if (r.timed_out) log += fmt::format("\ncompiler timed out after {:.0f} s\n", timeout_seconds);
    result.log = TrimLog(log);
    if (r.timed_out || r.exit_code != 0) {
      fs::remove(slot.temp_library_path, ec);
      return result;  // ok == false: a build_error verdict
    }
    ANVIL_RETURN_IF_ERROR(WriteFileAtomic(build_log.string(), result.log));
    fs::rename(slot.temp_library_path, slot.library_path, ec);
    if (ec) return IoError(fmt::format("cannot publish '{}': {}", slot.library_path, ec.message()));
  }
  result.ok = true;
  result.library_path = slot.library_path;

  ANVIL_ASSIGN_OR_RETURN(std::vector<std::string> imports, ImportedSymbols(result.library_path));
  std::set<std::string> forbidden(ForbiddenImports().begin(), ForbiddenImports().end());
  for (auto& s : imports)
    if (forbidden.count(s)) result.forbidden_imports.push_back(s);
  return result;
}

}  // namespace anvil
