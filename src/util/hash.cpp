#include "util/hash.h"

#include <cstdio>

namespace anvil {

ContentHasher& ContentHasher::Add(std::string_view bytes) {
  constexpr unsigned long long kPrime = 0x100000001b3ULL;
  auto mix = [&](unsigned char c) {
    a_ = (a_ ^ c) * kPrime;
    b_ = (b_ ^ static_cast<unsigned char>(c + 0x5b)) * kPrime;
    b_ ^= b_ >> 29;
  };
  unsigned long long n = bytes.size();
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(n >> (8 * i)));
  for (unsigned char c : bytes) mix(c);
  return *this;
}

std::string ContentHasher::Hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", a_, b_);
  return buf;
}

}  // namespace anvil
