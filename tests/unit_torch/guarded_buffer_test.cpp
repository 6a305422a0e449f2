#include "worker/guarded_buffer.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace anvil::worker {
namespace {

int CountMappings() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int n = 0;
  while (std::getline(maps, line)) ++n;
  return n;
}

at::Tensor Contiguous1d(at::ScalarType dtype, int64_t n) { return AllocateGuarded(dtype, {n}, {1}, n); }

TEST(GuardedBuffer, ShapeStridesAlignmentAndInBoundsWrites) {
  at::Tensor t = AllocateGuarded(at::kFloat, {3, 5}, {5, 1}, 15);
  EXPECT_TRUE(IsGuarded(t));
  EXPECT_EQ(t.sizes(), at::IntArrayRef({3, 5}));
  EXPECT_EQ(t.strides(), at::IntArrayRef({5, 1}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, 0u);
  t.fill_(1.5f);
  EXPECT_TRUE(CheckGuards(t, "output 'y'").ok());
  EXPECT_FLOAT_EQ(t.sum().item<float>(), 22.5f);
  // Views share the mapping.
  EXPECT_TRUE(IsGuarded(t.select(0, 1)));
  EXPECT_FALSE(IsGuarded(at::zeros({3})));
  EXPECT_FALSE(CheckGuards(at::zeros({3}), "x").ok());
}

TEST(GuardedBuffer, DataEndsNearTheTrailingGuardPage) {
  long page = sysconf(_SC_PAGESIZE);
  for (int64_t n : {1, 7, 16, 1000, 1024}) {
    at::Tensor t = Contiguous1d(at::kFloat, n);
    auto end = reinterpret_cast<uintptr_t>(t.data_ptr<float>() + n);
    uintptr_t slack_to_page = (page - end % page) % page;
    EXPECT_LT(slack_to_page, 64u) << n;
  }
}

TEST(GuardedBuffer, OverrunIntoPaddingIsDetected) {
  at::Tensor t = Contiguous1d(at::kFloat, 7);  // 28 bytes: 36 bytes of padding
  float* p = t.data_ptr<float>();
  p[7] = 1.0f;  // one element past the end
  Status s = CheckGuards(t, "output 'y'");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "wrote 4 bytes past the end of output 'y'");
}

TEST(GuardedBuffer, WriteBeforeStartIsDetected) {
  at::Tensor t = Contiguous1d(at::kShort, 10);
  auto* bytes = static_cast<uint8_t*>(t.data_ptr());
  bytes[-3] ^= 0xFF;
  Status s = CheckGuards(t, "output 'z'");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "wrote 3 bytes before the start of output 'z'");
}

TEST(GuardedBuffer, ReadingPastTheGuardPageKillsWithSigsegv) {
  at::Tensor t = Contiguous1d(at::kDouble, 16);  // 128 bytes: ends exactly at the guard page
  const volatile double* p = t.data_ptr<double>();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    volatile double v = p[16];  // first byte of the guard page
    (void)v;
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
}

TEST(GuardedBuffer, PoisonPatterns) {
  at::Tensor f = Contiguous1d(at::kFloat, 5);
  Poison(f);
  EXPECT_TRUE(at::isnan(f).all().item<bool>());
  uint32_t bits32;
  std::memcpy(&bits32, f.data_ptr(), 4);
  EXPECT_EQ(bits32, 0x7FDA5A5Au);
  EXPECT_TRUE(IsPoisonElement(f.data_ptr<float>() + 4, at::kFloat));
  f[4] = NAN;  // an ordinary NaN is not the poison
  EXPECT_FALSE(IsPoisonElement(f.data_ptr<float>() + 4, at::kFloat));

  at::Tensor d = Contiguous1d(at::kDouble, 3);
  Poison(d);
  EXPECT_TRUE(std::isnan(d[2].item<double>()));
  for (auto dtype : {at::kHalf, at::kBFloat16}) {
    at::Tensor h = Contiguous1d(dtype, 4);
    Poison(h);
    EXPECT_TRUE(at::isnan(h).all().item<bool>());
  }
  uint16_t bits16;
  at::Tensor h = Contiguous1d(at::kHalf, 1);
  Poison(h);
  std::memcpy(&bits16, h.data_ptr(), 2);
  EXPECT_EQ(bits16, 0x7E5A);

  at::Tensor i = Contiguous1d(at::kInt, 2);
  Poison(i);
  EXPECT_EQ(i[1].item<int32_t>(), 0x5A5A5A5A);
  at::Tensor b = Contiguous1d(at::kBool, 3);
  Poison(b);
  EXPECT_EQ(static_cast<uint8_t*>(b.data_ptr())[2], 0x5A);
  EXPECT_TRUE(IsPoisonElement(b.data_ptr(), at::kBool));
  EXPECT_TRUE(IsPoisonElement(i.data_ptr(), at::kInt));
  EXPECT_TRUE(IsPoisonElement(d.data_ptr(), at::kDouble));
  EXPECT_TRUE(IsPoisonElement(h.data_ptr(), at::kHalf));
  EXPECT_TRUE(CheckGuards(b, "b").ok());  // poison stays inside the data
}

TEST(GuardedBuffer, PoisonCoversTheWholeStorageOfAStridedView) {
  at::Tensor t = AllocateGuarded(at::kFloat, {4}, {2}, 7);  // every other element
  Poison(t);
  t.fill_(0.0f);  // writes only the viewed elements
  const float* raw = static_cast<const float*>(t.storage().data_ptr().get());
  EXPECT_EQ(raw[0], 0.0f);
  EXPECT_TRUE(std::isnan(raw[1]));  // gap element keeps its poison
  EXPECT_TRUE(CheckGuards(t, "t").ok());
}

TEST(GuardedBuffer, SizeZeroAndRankZero) {
  at::Tensor empty = AllocateGuarded(at::kFloat, {0, 3}, {3, 1}, 0);
  EXPECT_EQ(empty.numel(), 0);
  Poison(empty);
  EXPECT_TRUE(CheckGuards(empty, "empty").ok());
  EXPECT_EQ(empty.sum().item<float>(), 0.0f);

  at::Tensor scalar = AllocateGuarded(at::kDouble, {}, {}, 1);
  scalar.fill_(2.5);
  EXPECT_EQ(scalar.item<double>(), 2.5);
  EXPECT_TRUE(CheckGuards(scalar, "s").ok());
}

TEST(GuardedBuffer, DeleterUnmapsNoLeakOver10kAllocations) {
  int before = CountMappings();
  {
    std::vector<at::Tensor> live;
    for (int i = 0; i < 100; ++i) live.push_back(Contiguous1d(at::kFloat, 100 + i));
    EXPECT_GE(CountMappings(), before + 100);  // the mappings are really there while alive
  }
  for (int i = 0; i < 10000; ++i) {
    at::Tensor t = Contiguous1d(at::kFloat, 1 + i % 3000);
    t.fill_(1.0f);
  }
  EXPECT_LE(CountMappings(), before + 4);
}

}  // namespace
}  // namespace anvil::worker
