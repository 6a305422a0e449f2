#include "backend/cuda/cuda_build.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "backend/build_common.h"
#include "util/hash.h"
#include "util/subprocess.h"

namespace anvil {
namespace {

const std::vector<std::string> kBaseFlags = {"-O3", "-std=c++17", "-lineinfo", "-Xcompiler", "-fPIC", "-shared",
                                             "-cudart", "shared", "-Xlinker", "--no-undefined"};
constexpr const char* kDefaultNvcc = "/usr/local/cuda/bin/nvcc";

// "sm_90a" -> "compute_90a"; InvalidInput unless `arch` is sm_<digits><optional letter>.
Result<std::string> VirtualArchFor(const std::string& arch) {
  auto malformed = [&] {
    return InvalidInput(fmt::format(
        "CUDA arch '{}' is not of the form sm_<digits>[a] (e.g. sm_90a for an H100; the worker reports its "
        "GPU's compute capability, see CudaArchForComputeCapability)",
        arch));
  };
  if (arch.empty()) return InvalidInput("no CUDA arch given: building a CUDA candidate needs one, e.g. sm_90a");
  if (arch.rfind("sm_", 0) != 0) return malformed();
  size_t i = 3;
  while (i < arch.size() && std::isdigit(static_cast<unsigned char>(arch[i]))) ++i;
  if (i == 3 || arch.size() - i > 1 || (i < arch.size() && !std::islower(static_cast<unsigned char>(arch[i]))))
    return malformed();
  return "compute_" + arch.substr(3);
}

}  // namespace

std::string CudaArchForComputeCapability(int major, int minor) {
  // From Hopper (9.0) on, the arch-specific targets ("a") enable instructions
  // (wgmma, setmaxnreg, tcgen05) that the portable target lacks; their code
  // runs only on that exact compute capability, which is the one we build for.
  return fmt::format("sm_{}{}{}", major, minor, major >= 9 ? "a" : "");
}

Result<std::string> FindNvcc(const std::string& configured) {
  if (!configured.empty()) {
    std::string found = FindExecutable(configured);
    if (found.empty())
      return NotFound(fmt::format("nvcc '{}' (from --nvcc or CUDACXX) is not an executable file{}", configured,
                                  configured.find('/') == std::string::npos ? " on PATH" : ""));
    return found;
  }
  std::vector<std::string> tried;
  if (const char* env = std::getenv("CUDACXX"); env != nullptr && *env != '\0') {
    if (std::string found = FindExecutable(env); !found.empty()) return found;
    tried.push_back(fmt::format("$CUDACXX='{}'", env));
  }
  if (std::string found = FindExecutable("nvcc"); !found.empty()) return found;
  tried.push_back("nvcc on PATH");
  if (IsExecutableFile(kDefaultNvcc)) return std::string(kDefaultNvcc);
  tried.push_back(kDefaultNvcc);
  std::string where;
  for (auto& t : tried) where += (where.empty() ? "" : ", ") + t;
  return NotFound(fmt::format("nvcc not found (looked at {}); install the CUDA toolkit or set CUDACXX or --nvcc "
                              "to the nvcc to use",
                              where));
}

Result<BuildResult> BuildCudaCandidate(const std::string& source_path, const CudaBuildOptions& options) {
  ANVIL_ASSIGN_OR_RETURN(std::string virtual_arch, VirtualArchFor(options.arch));
  ANVIL_ASSIGN_OR_RETURN(std::string source, ReadFile(source_path));
  ANVIL_ASSIGN_OR_RETURN(std::string nvcc, FindNvcc(options.nvcc));
  ANVIL_ASSIGN_OR_RETURN(std::string nvcc_id, CompilerIdentity(nvcc));

  std::vector<std::string> flags = kBaseFlags;
  flags.insert(flags.end(), {"-gencode", fmt::format("arch={},code={}", virtual_arch, options.arch)});
  flags.insert(flags.end(), options.extra_flags.begin(), options.extra_flags.end());
  ContentHasher hasher;
  hasher.Add(source).Add(AbiHeadersText(options.include_dir)).Add(nvcc_id).Add(options.arch);
  for (auto& f : flags) hasher.Add(f);
  ANVIL_ASSIGN_OR_RETURN(BuildCacheSlot slot, PrepareBuildCacheSlot(options.cache_dir, hasher.Hex(), "kernel.cu"));

  std::vector<std::string> argv = {nvcc};
  argv.insert(argv.end(), flags.begin(), flags.end());
  for (auto& f : AbiIncludeFlags(options.include_dir)) argv.push_back(f);
  argv.insert(argv.end(), {"-o", slot.temp_library_path, slot.source_path});
  return CompileIntoCache(slot, source, argv, options.timeout_seconds, options.cancel);
}

}  // namespace anvil
