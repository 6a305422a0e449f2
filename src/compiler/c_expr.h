// C++ text for the values of a kernel plan, shared by the CPU (g++) and CUDA
// (nvcc) printers: the type a dtype computes in, loads and stores of each
// storage dtype, and one expression per elementwise op whose semantics match
// the reference (reference/evaluate.cpp; NaN rules in formula/ir.h). The
// math helpers the expressions call live in include/anvil/fused_math.h
// (host and device).
#pragma once

#include <string>
#include <vector>

#include "compiler/kernel_plan.h"
#include "util/status.h"

namespace anvil::compiler {

// The C++ type a value of `t` is computed in: float for f16, bf16 and f32;
// double for f64; the integer type itself; bool.
std::string ComputeType(DType t);
// The C++ storage type of a tensor element: float, double, anvil::F16,
// anvil::BF16, int32_t, ... (fused_math.h's fm::f16_t/bf16_t, defined for host and device).
std::string StorageType(DType t);
// A storage element `ref` (an lvalue expression of StorageType(t)) as ComputeType(t).
std::string LoadAs(DType t, const std::string& ref);
// `value` (of ComputeType(t)) converted to StorageType(t), rounded to nearest even.
std::string StoreAs(DType t, const std::string& value);

// A literal of a scalar (a kConst node): double, int64_t or bool, inf and NaN included.
std::string ScalarLiteral(const ScalarValue& v);

// The expression of kOp node `n` whose operands' values are `args` (each of
// ComputeType of its operand's dtype, as `arg_dtypes` says). The result is
// of ComputeType(n.dtype). kUnsupported for ops the printers do not serve.
Result<std::string> OpExpression(const KNode& n, const std::vector<std::string>& args,
                                 const std::vector<DType>& arg_dtypes);

// The C++ printers name node i's value `v<i>`.
std::string VarName(int id);
// The expression of a constant, attribute or op node of `plan`: a literal,
// the attribute read from the call (AttrValue(call, name), which the
// printed file defines), or the op over its operands' variables.
// kInternal for other kinds (each printer reads inputs its own way).
Result<std::string> ConstAttrOrOpValue(const KernelPlan& plan, int id);

// The fold of a kReduce node: its identity and the update `acc = f(acc, v)`
// as an expression of `acc` and `v` (both of the accumulator type).
std::string ReduceIdentity(const KNode& n);
std::string ReduceUpdate(const KNode& n, const std::string& acc, const std::string& v);
// The accumulator type: double for floating sums and products, the float type for max/min, int64_t for integers.
std::string AccumulatorType(const KNode& n);

}  // namespace anvil::compiler
