#include "backend/cpu/cpu_build.h"

#include <sstream>

#include "backend/build_common.h"
#include "util/hash.h"
#include "util/subprocess.h"

namespace anvil {
namespace {

// -fno-math-errno: math functions do not set errno (as in PyTorch's own build).
// Otherwise GCC keeps a branch to the library around every sqrtf for errno's
// sake and no loop calling sqrt vectorises (a fused batch norm ran 13x slower
// in f32). No result changes.
const std::vector<std::string> kBaseFlags = {"-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-fopenmp",
                                             "-fPIC", "-shared", "-Wl,--no-undefined"};

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

}  // namespace

Result<BuildResult> BuildCpuCandidate(const std::string& source_path, const CpuBuildOptions& options) {
  ANVIL_ASSIGN_OR_RETURN(std::string source, ReadFile(source_path));
  ANVIL_ASSIGN_OR_RETURN(std::string compiler_id, CompilerIdentity(options.compiler));

  std::vector<std::string> flags = kBaseFlags;
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  ContentHasher hasher;
  hasher.Add(source).Add(AbiHeadersText(options.include_dir)).Add(compiler_id).Add(HostCpuIdentity());
  for (auto& f : flags) hasher.Add(f);
  ANVIL_ASSIGN_OR_RETURN(BuildCacheSlot slot, PrepareBuildCacheSlot(options.cache_dir, hasher.Hex(), "kernel.cpp"));

  std::vector<std::string> argv = {options.compiler};
  argv.insert(argv.end(), flags.begin(), flags.end());
  for (auto& f : AbiIncludeFlags(options.include_dir)) argv.push_back(f);
  argv.insert(argv.end(), {slot.source_path, "-o", slot.temp_library_path, "-lm", "-lgomp"});
  return CompileIntoCache(slot, source, argv, options.timeout_seconds, options.cancel);
}

}  // namespace anvil
