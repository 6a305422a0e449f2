#include "core/shape.h"

namespace anvil {

std::string ShapeToString(const SymShape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + s[i].ToString();
  return out + "]";
}

std::string ShapeToString(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::string BindingsToString(const Bindings& b) {
  std::string out;
  for (const auto& [k, v] : b) out += (out.empty() ? "" : ", ") + k + "=" + std::to_string(v);
  return out;
}

int64_t NumElements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Result<Shape> Concretize(const SymShape& s, const Bindings& b) {
  Shape out;
  out.reserve(s.size());
  for (const Dim& d : s) {
    if (d.is_fixed()) {
      out.push_back(d.fixed());
      continue;
    }
    auto it = b.find(d.symbol());
    if (it == b.end())
      return InvalidInput("shape symbol '" + d.symbol() + "' has no size in this case (bound: " +
                          (b.empty() ? std::string("nothing") : BindingsToString(b)) + ")");
    out.push_back(it->second);
  }
  return out;
}

}  // namespace anvil
