#include "worker/guarded_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/check.h"

namespace anvil::worker {
namespace {

constexpr size_t kAlign = 64;

// One mapping; owned by the storage's DataPtr context, freed by DeleteMapping.
struct GuardedMapping {
  uint8_t* base = nullptr;  // start of the leading guard page
  size_t map_bytes = 0;     // whole region, guards included
  uint8_t* slack = nullptr; // first accessible byte (canary up to data)
  uint8_t* data = nullptr;
  size_t data_bytes = 0;
  uint8_t* end = nullptr;   // first byte of the trailing guard page (canary from data + data_bytes)
};

void DeleteMapping(void* ctx) {
  auto* m = static_cast<GuardedMapping*>(ctx);
  munmap(m->base, m->map_bytes);
  delete m;
}

// Canary byte for an address: depends on the position so that a candidate
// writing one repeated value cannot reproduce it by accident over a run.
uint8_t CanaryAt(const uint8_t* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return static_cast<uint8_t>(0xA5u ^ static_cast<uint8_t>(a * 29u) ^ static_cast<uint8_t>(a >> 8));
}

void FillCanary(uint8_t* from, uint8_t* to) {
  for (uint8_t* p = from; p < to; ++p) *p = CanaryAt(p);
}

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

const GuardedMapping* MappingOf(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  const c10::DataPtr& dp = t.storage().data_ptr();
  if (dp.get_deleter() != &DeleteMapping) return nullptr;
  return static_cast<const GuardedMapping*>(dp.get_context());
}

constexpr uint64_t kPoisonF64 = 0x7FFA5A5A5A5A5A5AULL;
constexpr uint32_t kPoisonF32 = 0x7FDA5A5Au;
constexpr uint16_t kPoisonBF16 = 0x7FDA;
constexpr uint16_t kPoisonF16 = 0x7E5A;
constexpr uint8_t kPoisonByte = 0x5A;

template <typename Word>
void FillWords(uint8_t* data, size_t bytes, Word word) {
  size_t n = bytes / sizeof(Word);
  for (size_t i = 0; i < n; ++i) std::memcpy(data + i * sizeof(Word), &word, sizeof(Word));
}

}  // namespace

at::Tensor AllocateGuarded(at::ScalarType dtype, at::IntArrayRef sizes, at::IntArrayRef strides,
                           int64_t storage_elements) {
  ANVIL_CHECK(sizes.size() == strides.size());
  ANVIL_CHECK(storage_elements >= 0);
  int64_t span = 1;  // elements the view reaches (0 for an empty tensor)
  for (size_t d = 0; d < sizes.size(); ++d) {
    ANVIL_CHECK(sizes[d] >= 0 && strides[d] >= 0);
    if (sizes[d] == 0) span = 0;
  }
  if (span != 0)
    for (size_t d = 0; d < sizes.size(); ++d) span += (sizes[d] - 1) * strides[d];
  ANVIL_CHECK(storage_elements >= span);

  const size_t page = PageSize();
  const size_t data_bytes = static_cast<size_t>(storage_elements) * c10::elementSize(dtype);
  const size_t padded = (data_bytes + kAlign - 1) / kAlign * kAlign;
  const size_t data_pages = std::max<size_t>(1, (padded + page - 1) / page);
  const size_t map_bytes = (data_pages + 2) * page;

  void* region = mmap(nullptr, map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  TORCH_CHECK(region != MAP_FAILED, "guarded allocation of ", data_bytes, " bytes failed: ", std::strerror(errno));
  auto* base = static_cast<uint8_t*>(region);
  if (mprotect(base + page, data_pages * page, PROT_READ | PROT_WRITE) != 0) {
    int err = errno;
    munmap(region, map_bytes);
    TORCH_CHECK(false, "guarded allocation of ", data_bytes, " bytes failed: ", std::strerror(err));
  }
  auto* m = new GuardedMapping;
  m->base = base;
  m->map_bytes = map_bytes;
  m->slack = base + page;
  m->end = base + page + data_pages * page;
  m->data = m->end - padded;
  m->data_bytes = data_bytes;
  FillCanary(m->slack, m->data);
  FillCanary(m->data + data_bytes, m->end);

  c10::DataPtr data_ptr(m->data, m, &DeleteMapping, at::Device(at::kCPU));
  c10::Storage storage(c10::Storage::use_byte_size_t(), data_bytes, std::move(data_ptr), nullptr, false);
  at::Tensor t = at::empty({0}, at::TensorOptions().dtype(dtype));
  t.set_(storage, 0, sizes, strides);
  return t;
}

void Poison(const at::Tensor& t) {
  auto* data = static_cast<uint8_t*>(t.storage().data_ptr().get());
  size_t bytes = t.storage().nbytes();
  if (data == nullptr || bytes == 0) return;
  switch (t.scalar_type()) {
    case at::kDouble: FillWords(data, bytes, kPoisonF64); break;
    case at::kFloat: FillWords(data, bytes, kPoisonF32); break;
    case at::kBFloat16: FillWords(data, bytes, kPoisonBF16); break;
    case at::kHalf: FillWords(data, bytes, kPoisonF16); break;
    default: std::memset(data, kPoisonByte, bytes); break;  // integers and bool
  }
}

bool IsPoisonElement(const void* element, at::ScalarType dtype) {
  auto same = [&](auto word) { return std::memcmp(element, &word, sizeof(word)) == 0; };
  switch (dtype) {
    case at::kDouble: return same(kPoisonF64);
    case at::kFloat: return same(kPoisonF32);
    case at::kBFloat16: return same(kPoisonBF16);
    case at::kHalf: return same(kPoisonF16);
    default: {
      const auto* b = static_cast<const uint8_t*>(element);
      for (size_t i = 0; i < c10::elementSize(dtype); ++i)
        if (b[i] != kPoisonByte) return false;
      return true;
    }
  }
}

bool IsGuarded(const at::Tensor& t) { return MappingOf(t) != nullptr; }

Status CheckGuards(const at::Tensor& t, const std::string& what) {
  const GuardedMapping* m = MappingOf(t);
  if (m == nullptr) return InternalError("CheckGuards: " + what + " is not a guarded allocation");
  for (const uint8_t* p = m->slack; p < m->data; ++p) {
    if (*p != CanaryAt(p))
      return InvalidInput(fmt::format("wrote {} bytes before the start of {}", m->data - p, what));
  }
  const uint8_t* data_end = m->data + m->data_bytes;
  for (const uint8_t* p = m->end; p > data_end; --p) {
    if (p[-1] != CanaryAt(p - 1))
      return InvalidInput(fmt::format("wrote {} bytes past the end of {}", p - data_end, what));
  }
  return Status::Ok();
}

}  // namespace anvil::worker
