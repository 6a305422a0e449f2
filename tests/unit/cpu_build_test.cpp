#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backend/build_common.h"
#include "backend/cpu/cpu_build.h"

namespace anvil {
namespace {

class CpuBuildTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "anvil-build-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    options_.include_dir = ANVIL_SOURCE_INCLUDE_DIR;
    options_.cache_dir = dir_ + "/cache";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }
  std::string dir_;
  CpuBuildOptions options_;
};

const char* kOk = R"(#include <anvil/kernel.h>
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall*) { return ANVIL_OK; })";

TEST_F(CpuBuildTest, BuildsThenServesFromTheCache) {
  std::string src = Write("k.cpp", kOk);
  auto first = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_TRUE(first->ok) << first->log;
  EXPECT_FALSE(first->cached);
  EXPECT_TRUE(std::filesystem::exists(first->library_path));
  EXPECT_NE(first->command.find("-Wl,--no-undefined"), std::string::npos);
  EXPECT_NE(first->command.find("-march=native"), std::string::npos);
  EXPECT_TRUE(first->forbidden_imports.empty());
  auto second = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->cached);
  EXPECT_EQ(second->library_path, first->library_path);
  // Different flags, different key.
  options_.extra_flags = {"-DVARIANT=1"};
  auto third = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->cache_key, first->cache_key);
}

// An interrupted build (EvaluatorOptions::cancel, Ctrl-C) is no build error:
// kCancelled, and nothing is published into the cache.
TEST_F(CpuBuildTest, ACancelledBuildIsCancelledAndCachesNothing) {
  std::string src = Write("k.cpp", kOk);
  std::atomic<bool> cancel{true};
  options_.cancel = &cancel;
  auto r = BuildCpuCandidate(src, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCancelled) << r.status().message();
  for (const auto& e : std::filesystem::recursive_directory_iterator(options_.cache_dir))
    EXPECT_NE(e.path().filename().string().rfind("kernel.so", 0), 0u) << e.path();
  cancel = false;
  auto again = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->ok) << again->log;
  EXPECT_FALSE(again->cached);
}

TEST_F(CpuBuildTest, CompileErrorsAreReturnedVerbatimAndTrimmed) {
  std::string src = Write("bad.cpp", std::string(kOk) + "\nint broken( {\n");
  auto r = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->log.find("error"), std::string::npos) << r->log;
  EXPECT_LE(std::count(r->log.begin(), r->log.end(), '\n'), 41);
}

TEST_F(CpuBuildTest, PyTorchSymbolsDoNotLink) {
  std::string src = Write("torch.cpp", R"(#include <anvil/kernel.h>
namespace at { void manual_seed_everything(int); }
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall*) { at::manual_seed_everything(0); return ANVIL_OK; })");
  auto r = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->log.find("undefined reference"), std::string::npos) << r->log;
}

TEST_F(CpuBuildTest, ForbiddenImportsAreListed) {
  std::string src = Write("fork.cpp", R"(#include <anvil/kernel.h>
#include <unistd.h>
#include <dlfcn.h>
extern "C" ANVIL_EXPORT int anvil_kernel(const AnvilCall*) { return fork() + (dlsym(RTLD_DEFAULT, "x") != 0); })");
  auto r = BuildCpuCandidate(src, options_);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->ok) << r->log;
  EXPECT_NE(std::find(r->forbidden_imports.begin(), r->forbidden_imports.end(), "fork"), r->forbidden_imports.end());
  EXPECT_NE(std::find(r->forbidden_imports.begin(), r->forbidden_imports.end(), "dlsym"), r->forbidden_imports.end());
}

TEST_F(CpuBuildTest, MissingSourceOrCompilerIsAnError) {
  EXPECT_FALSE(BuildCpuCandidate(dir_ + "/nope.cpp", options_).ok());
  options_.compiler = "/nonexistent/g++";
  auto r = BuildCpuCandidate(Write("k.cpp", kOk), options_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/g++"), std::string::npos) << r.status().message();
}

TEST(TrimLog, KeepsTheFirstLinesAndCountsTheRest) {
  std::string log;
  for (int i = 0; i < 100; ++i) log += "line " + std::to_string(i) + "\n";
  std::string t = TrimLog(log, 10);
  EXPECT_NE(t.find("line 9\n"), std::string::npos);
  EXPECT_EQ(t.find("line 10\n"), std::string::npos);
  EXPECT_NE(t.find("90 more lines"), std::string::npos);
}

}  // namespace
}  // namespace anvil
