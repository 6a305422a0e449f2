// Symbolic shapes. A task declares input shapes with symbols ("B", "N") and
// integers; a case binds every symbol to a size. Formula shape inference works
// on symbolic shapes; the worker works on concrete ones.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "util/status.h"

namespace anvil {

// One dimension: a fixed size or a symbol bound per case.
struct Dim {
  std::variant<int64_t, std::string> value;

  static Dim Fixed(int64_t n) { return Dim{n}; }
  static Dim Symbol(std::string s) { return Dim{std::move(s)}; }
  bool is_fixed() const { return std::holds_alternative<int64_t>(value); }
  int64_t fixed() const { return std::get<int64_t>(value); }
  const std::string& symbol() const { return std::get<std::string>(value); }
  bool operator==(const Dim&) const = default;
  std::string ToString() const { return is_fixed() ? std::to_string(fixed()) : symbol(); }
};

using SymShape = std::vector<Dim>;
using Shape = std::vector<int64_t>;
// Symbol -> size, for one case.
using Bindings = std::map<std::string, int64_t>;

std::string ShapeToString(const SymShape& s);  // "[B, 4, N]"
std::string ShapeToString(const Shape& s);     // "[8, 4, 1000]"
std::string BindingsToString(const Bindings& b);  // "B=8, N=1000"
int64_t NumElements(const Shape& s);

// Substitutes bindings; an unbound symbol is an InvalidInput error naming it.
Result<Shape> Concretize(const SymShape& s, const Bindings& b);

}  // namespace anvil
