// Shared by the compiler's printer tests: a formula with its declarations,
// lowered to one KernelPlan per dtype variant.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compiler/kernel_plan.h"
#include "formula/formula.h"

namespace anvil::compiler::testing {

inline Dim S(const char* s) { return Dim::Symbol(s); }
inline Dim F(int64_t n) { return Dim::Fixed(n); }

struct Formula {
  std::string name;
  std::string source;
  std::vector<formula::InputDecl> inputs;
  std::vector<formula::AttrDecl> attrs;
  std::vector<std::string> outputs = {"out"};
  InPlaceOutputs inplace = {};  // output -> the input it is written into
};

// One plan per dtype in `dtypes` (every input takes the variant's dtype;
// attributes keep theirs). Failures are test failures; the result is then empty.
inline std::vector<KernelPlan> Lower(const Formula& f, const std::vector<DType>& dtypes) {
  std::vector<KernelPlan> plans;
  for (DType t : dtypes) {
    std::vector<formula::InputDecl> inputs = f.inputs;
    for (formula::InputDecl& in : inputs) in.dtype = t;
    auto graph = formula::Compile(f.source, inputs, f.attrs, f.outputs);
    EXPECT_TRUE(graph.ok()) << f.name << ": " << graph.status().message();
    if (!graph.ok()) return {};
    auto plan = LowerToPlan(*graph, f.name, nullptr, f.inplace);
    EXPECT_TRUE(plan.ok()) << f.name << ": " << plan.status().message();
    if (!plan.ok()) return {};
    plans.push_back(std::move(*plan));
  }
  return plans;
}

inline bool Has(const std::string& text, const std::string& piece) { return text.find(piece) != std::string::npos; }

}  // namespace anvil::compiler::testing
