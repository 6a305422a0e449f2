// Lowering pass 3 (kernel_plan.cpp runs it after decompose): rewrites the
// spelled-out softplus of a plan into a form whose exp cannot overflow.
//
// log1p(exp(z)) (as in soft_margin_loss's mean(log1p(exp(-x * y)))) and
// log(1 + exp(z)) overflow early in a narrow compute type: exp(z) is inf in
// f32 for z > 88.7, so an f32 kernel gives inf where the f64 reference gives
// about z. Each such f(z) becomes
//   z > ln(DBL_MAX) ? inf : max(z, 0) + f(-|z|)
// with f printed as the formula wrote it (log1p(exp(.)) or log(1 + exp(.))):
//   - for z <= 0 that is f(z) itself, op for op (max(z, 0) is +0);
//   - for z > 0 it is the identity f(z) = z + f(-z), and exp(-z) <= 1 cannot
//     overflow in any compute type;
//   - the formula means its f64 evaluation (the reference), where exp(z)
//     itself overflows past ln(DBL_MAX) = 709.78...: the rewrite keeps that
//     inf (the comparison is made in f64, so it is exact for any f32 or f64
//     z) and changes only what the narrower compute type got wrong.
//     PyTorch's vectorised f64 exp overflows a little earlier (past about
//     709.78271), so a z within 3e-6 of the bound may still disagree.
// NaN stays NaN (max, +, and the comparison's false branch); z = -inf gives
// 0 and z = +inf gives inf, as the reference does. Being a rewrite of the
// plan, every backend prints the stable form. Other overflowing patterns are
// not rewritten.
#pragma once

#include <vector>

#include "compiler/kernel_plan.h"

namespace anvil::compiler {

// Rewrites every matching node of `plan` (nodes in topological order, before
// prune: the replaced exp and add stay, unused, for prune to drop); outputs
// and the matmul index follow. Returns the new index of each old node.
std::vector<int> StabilizeSoftplus(KernelPlan& plan);

}  // namespace anvil::compiler
