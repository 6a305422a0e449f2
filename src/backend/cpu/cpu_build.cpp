#include "backend/cpu/cpu_build.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "util/hash.h"
#include "util/subprocess.h"

namespace fs = std::filesystem;

namespace anvil {
namespace {

const std::vector<std::string> kBaseFlags = {"-std=c++17", "-O3", "-march=native", "-fopenmp", "-fPIC",
                                             "-shared", "-Wl,--no-undefined"};

// The host CPU's identity: -march=native makes the binary specific to it.
std::string HostCpuIdentity() {
  auto text = ReadFile("/proc/cpuinfo");
  if (!text.ok()) return "unknown-cpu";
  std::istringstream in(*text);
  std::string line, model, flags;
  while (std::getline(in, line)) {
    if (model.empty() && line.rfind("model name", 0) == 0) model = line;
    if (flags.empty() && line.rfind("flags", 0) == 0) flags = line;
  }
  return model + "\n" + flags;
}

Result<std::string> CompilerIdentity(const std::string& compiler) {
  ANVIL_ASSIGN_OR_RETURN(ProcessResult r, RunProcess({compiler, "--version"}, 30));
  if (r.exit_code != 0) return IoError(fmt::format("'{} --version' failed: {}", compiler, TrimLog(r.output, 5)));
  return r.output.substr(0, r.output.find('\n'));
}

// Every header a candidate can include from Anvil is part of the key.
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

}  // namespace

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

Result<CpuBuildResult> BuildCpuCandidate(const std::string& source_path, const CpuBuildOptions& options) {
  ANVIL_ASSIGN_OR_RETURN(std::string source, ReadFile(source_path));
  ANVIL_ASSIGN_OR_RETURN(std::string compiler_id, CompilerIdentity(options.compiler));

  std::vector<std::string> flags = kBaseFlags;
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  ContentHasher hasher;
  hasher.Add(source).Add(AbiHeadersText(options.include_dir)).Add(compiler_id).Add(HostCpuIdentity());
  for (auto& f : flags) hasher.Add(f);

  CpuBuildResult result;
  result.cache_key = hasher.Hex();
  fs::path dir = fs::path(options.cache_dir) / result.cache_key;
  fs::path library = dir / "kernel.so";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError(fmt::format("cannot create build cache dir '{}': {}", dir.string(), ec.message()));

  fs::path source_copy = dir / "kernel.cpp";
  ANVIL_RETURN_IF_ERROR(WriteFileAtomic(source_copy.string(), source));
  fs::path tmp_library = dir / fmt::format("kernel.so.tmp.{}", getpid());
  std::vector<std::string> argv = {options.compiler};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("-I" + options.include_dir);
  // DLPack normally sits in /usr/include, which must not be added with -I
  // (it reorders the system headers); elsewhere (the GPU machine) it must be.
  if (std::string dlpack = ANVIL_DLPACK_INCLUDE_DIR; dlpack != "/usr/include") argv.push_back("-I" + dlpack);
  argv.insert(argv.end(), {source_copy.string(), "-o", tmp_library.string(), "-lm", "-lgomp"});
  for (auto& a : argv) result.command += (result.command.empty() ? "" : " ") + a;

  if (fs::exists(library)) {
    result.cached = true;
    auto log = ReadFile((dir / "build.log").string());
    result.log = log.ok() ? *log : "";
  } else {
    ANVIL_ASSIGN_OR_RETURN(ProcessResult r, RunProcess(argv, options.timeout_seconds, dir.string()));
    result.seconds = r.seconds;
    std::string log = r.output;
    if (r.timed_out) log += fmt::format("\ncompiler timed out after {:.0f} s\n", options.timeout_seconds);
    result.log = TrimLog(log);
    if (r.timed_out || r.exit_code != 0) {
      fs::remove(tmp_library, ec);
      return result;  // ok == false: a build_error verdict
    }
    ANVIL_RETURN_IF_ERROR(WriteFileAtomic((dir / "build.log").string(), result.log));
    fs::rename(tmp_library, library, ec);
    if (ec) return IoError(fmt::format("cannot publish '{}': {}", library.string(), ec.message()));
  }
  result.ok = true;
  result.library_path = library.string();

  ANVIL_ASSIGN_OR_RETURN(std::vector<std::string> imports, ImportedSymbols(result.library_path));
  std::set<std::string> forbidden(ForbiddenImports().begin(), ForbiddenImports().end());
  for (auto& s : imports)
    if (forbidden.count(s)) result.forbidden_imports.push_back(s);
  return result;
}

}  // namespace anvil
