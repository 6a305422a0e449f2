// Content hashes for the build cache and the store: 128-bit FNV-1a (two
// independent 64-bit lanes), hex encoded. Not cryptographic; it only has to
// make accidental collisions between sources vanishingly unlikely.
#pragma once

#include <string>
#include <string_view>

namespace anvil {

class ContentHasher {
 public:
  ContentHasher& Add(std::string_view bytes);  // length-prefixed, so Add("ab").Add("c") != Add("a").Add("bc")
  std::string Hex() const;                     // 32 hex digits

 private:
  unsigned long long a_ = 0xcbf29ce484222325ULL;
  unsigned long long b_ = 0x84222325cbf29ce4ULL;
};

inline std::string HashOf(std::string_view bytes) { return ContentHasher().Add(bytes).Hex(); }

}  // namespace anvil
