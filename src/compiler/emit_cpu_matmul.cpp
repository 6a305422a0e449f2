// The CPU printer's matmul with a fused epilogue (emit_cpu_matmul.h).
//
// The printed Run<v> is a blocked matmul in the usual shape of fast CPU
// GEMMs: the output is cut into mc x nc tiles shared out over OpenMP
// threads; for each slice of kc along K a thread packs its A block into
// panels of MR rows and its B block into panels of NR columns (converted to
// the compute type, zero-padded at the edges, any input strides), then a
// register-blocked micro-kernel adds each MR x NR product into the tile.
// The micro-kernel uses GCC vector types (two 32-byte vectors per row, six
// rows: twelve accumulators, which fit the 16 registers of AVX2), so the
// compiler emits FMAs on any x86-64 it targets. When the tile is finished
// the epilogue runs over it once per element: the plan's element nodes with
// the matmul node read from the tile, stored to the contiguous output (an
// in-place output, an epilogue input itself, through its own strides: the
// epilogue reads that input only at the element it then writes).
//
// Accumulation is in the compute type (f32 for f16, bf16 and f32; f64 for
// f64), as BLAS does; the verifier's tolerance grows with sqrt(K).
#include "compiler/emit_cpu_matmul.h"

#include <fmt/format.h>

#include "compiler/c_expr.h"

namespace anvil::compiler {
namespace {

std::string V(int id) { return VarName(id); }

constexpr int64_t kRegisterRows = 6;  // MR: rows of the micro-kernel

class CpuMatmulPrinter {
 public:
  CpuMatmulPrinter(const KernelPlan& plan, int variant, const KernelParams& params)
      : p_(plan), variant_(variant), params_(params) {}

  Result<std::string> Print() {
    if (!p_.HasMatmul() || p_.rank != 2) return InternalError("CPU matmul printer: plan '" + p_.name + "' has no 2-D matmul");
    for (const PlanOutput& o : p_.outputs)
      if (!o.per_element) return InternalError("CPU matmul printer: output '" + o.name + "' is not per element");
    const int a = p_.MatmulInput(false), b = p_.MatmulInput(true);
    const DType compute = p_.nodes[p_.matmul].dtype;
    const std::string t = ComputeType(compute);
    const int64_t lanes = compute == DType::kF64 ? 4 : 8;
    const int64_t nr = 2 * lanes;
    auto param = [&](const char* key, int64_t fallback) { return params_.count(key) ? params_.at(key) : fallback; };
    // Tiles hold whole micro-kernel blocks: mc a multiple of MR, nc of NR.
    const int64_t mc = RoundUp(param("mc", 72), kRegisterRows);
    const int64_t nc = RoundUp(param("nc", 256), nr);
    const int64_t kc = std::max<int64_t>(1, param("kc", 256));

    std::string s = fmt::format("// dtype variant {}: {}: [M, K] @ [K, N] with the epilogue fused\nint Run{}(const AnvilCall* call) {{\n",
                                variant_, VariantLabel(), variant_);
    s += "  const DLTensor* in = call->inputs;\n  const DLTensor* out = call->outputs;\n";
    for (int d = 0; d < 2; ++d) s += fmt::format("  const int64_t n{} = {};\n", d, SizeOf(p_.dim_source[d]));
    s += fmt::format("  const int64_t K = {};\n", SizeOf(p_.matmul_k));
    for (size_t i = 0; i < p_.inputs.size(); ++i) {
      const PlanInput& in = p_.inputs[i];
      s += fmt::format("  const {0}* p{1} = anvil::DataPtr<const {0}>(in[{1}]);  // {2}\n", StorageType(in.dtype), i,
                       in.name);
      if (in.role == InputRole::kDomain) {
        for (int d = 0; d < 2; ++d)
          s += in.broadcast[d] ? fmt::format("  const int64_t s{}_{} = 0;\n", i, d)
                               : fmt::format("  const int64_t s{}_{} = in[{}].strides[{}];\n", i, d, i, d - (2 - in.rank));
      }
    }
    s += fmt::format("  const int64_t a_m = in[{0}].strides[0], a_k = in[{0}].strides[1];\n", a);
    s += fmt::format("  const int64_t b_k = in[{0}].strides[0], b_n = in[{0}].strides[1];\n", b);
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      s += fmt::format("  {0}* q{1} = anvil::DataPtr<{0}>(out[{1}]);  // {2}\n", StorageType(p_.outputs[o].dtype), o,
                       p_.outputs[o].name);
      if (p_.outputs[o].inplace >= 0)
        s += fmt::format("  const int64_t t{0}_0 = out[{0}].strides[0], t{0}_1 = out[{0}].strides[1];  // in place "
                         "into {1}: its strides\n",
                         o, p_.inputs[p_.outputs[o].inplace].name);
    }
    s += "  (void)in;\n";
    for (int id : p_.ScalarNodes()) {
      ANVIL_ASSIGN_OR_RETURN(std::string e, ConstAttrOrOpValue(p_, id));
      s += fmt::format("  const {} {} = {};\n", ComputeType(p_.nodes[id].dtype), V(id), e);
    }
    s += fmt::format("  typedef {} vec __attribute__((vector_size(32)));\n", t);
    s += fmt::format("  constexpr int64_t W = {}, MR = {}, NR = {}, MC = {}, NC = {}, KC = {};\n", lanes, kRegisterRows,
                     nr, mc, nc, kc);
    s += fmt::format(R"(  // C[MR x NR] (leading dimension ldc) += A panel [kc][MR] x B panel [kc][NR].
  auto micro = [](int64_t kc, const {0}* ap, const {0}* bp, {0}* c, int64_t ldc) {{
    vec acc[MR][2];
    for (int64_t r = 0; r < MR; ++r) {{
      __builtin_memcpy(&acc[r][0], c + r * ldc, sizeof(vec));
      __builtin_memcpy(&acc[r][1], c + r * ldc + W, sizeof(vec));
    }}
    for (int64_t k = 0; k < kc; ++k) {{
      vec b0, b1;
      __builtin_memcpy(&b0, bp + k * NR, sizeof(vec));
      __builtin_memcpy(&b1, bp + k * NR + W, sizeof(vec));
      for (int64_t r = 0; r < MR; ++r) {{
        const vec av = ap[k * MR + r] - vec{{}};  // broadcast
        acc[r][0] += av * b0;
        acc[r][1] += av * b1;
      }}
    }}
    for (int64_t r = 0; r < MR; ++r) {{
      __builtin_memcpy(c + r * ldc, &acc[r][0], sizeof(vec));
      __builtin_memcpy(c + r * ldc + W, &acc[r][1], sizeof(vec));
    }}
  }};
  const int64_t mtiles = (n0 + MC - 1) / MC, ntiles = (n1 + NC - 1) / NC;
#pragma omp parallel num_threads(anvil::NumThreads(call)) if (n0 * n1 * (K + 1) > 262144)
  {{
    std::vector<{0}> apack(MC * KC), bpack(KC * NC), tile(MC * NC);
#pragma omp for schedule(static)
    for (int64_t t = 0; t < mtiles * ntiles; ++t) {{
      const int64_t i0 = (t / ntiles) * MC, j0 = (t % ntiles) * NC;
      const int64_t mc = n0 - i0 < MC ? n0 - i0 : MC, nc = n1 - j0 < NC ? n1 - j0 : NC;
      std::fill(tile.begin(), tile.end(), {0}(0));
      for (int64_t k0 = 0; k0 < K; k0 += KC) {{
        const int64_t kc = K - k0 < KC ? K - k0 : KC;
        for (int64_t jp = 0; jp < nc; jp += NR)
          for (int64_t k = 0; k < kc; ++k)
            for (int64_t jj = 0; jj < NR; ++jj)
              bpack[jp * kc + k * NR + jj] = jp + jj < nc ? {1} : {0}(0);
        for (int64_t ip = 0; ip < mc; ip += MR)
          for (int64_t k = 0; k < kc; ++k)
            for (int64_t ii = 0; ii < MR; ++ii)
              apack[ip * kc + k * MR + ii] = ip + ii < mc ? {2} : {0}(0);
        for (int64_t ip = 0; ip < mc; ip += MR)
          for (int64_t jp = 0; jp < nc; jp += NR)
            micro(kc, &apack[ip * kc], &bpack[jp * kc], &tile[ip * NC + jp], NC);
      }}
      // The epilogue, once per element of the finished tile.
      for (int64_t i = 0; i < mc; ++i) {{
        const int64_t r = i0 + i;
)",
                     t,
                     LoadAs(p_.inputs[b].dtype, fmt::format("p{}[(k0 + k) * b_k + (j0 + jp + jj) * b_n]", b)),
                     LoadAs(p_.inputs[a].dtype, fmt::format("p{}[(i0 + ip + ii) * a_m + (k0 + k) * a_k]", a)));
    for (size_t i = 0; i < p_.inputs.size(); ++i)
      if (p_.inputs[i].role == InputRole::kDomain) s += fmt::format("        const int64_t b{0} = r * s{0}_0;\n", i);
    s += "        for (int64_t jt = 0; jt < nc; ++jt) {\n";
    s += "          const int64_t j = j0 + jt;\n";
    std::vector<int> targets;
    for (const PlanOutput& o : p_.outputs) targets.push_back(o.node);
    for (int id : p_.ElementNodesFor(targets)) {
      const KNode& n = p_.nodes[id];
      std::string e;
      if (id == p_.matmul) {
        e = "tile[i * NC + jt]";
      } else if (n.kind == KNode::Kind::kInput) {
        e = LoadAs(p_.inputs[n.index].dtype, fmt::format("p{0}[b{0} + j * s{0}_1]", n.index));
      } else {
        ANVIL_ASSIGN_OR_RETURN(e, ConstAttrOrOpValue(p_, id));
      }
      s += fmt::format("          const {} {} = {};\n", ComputeType(n.dtype), V(id), e);
    }
    for (size_t o = 0; o < p_.outputs.size(); ++o) {
      const PlanOutput& out = p_.outputs[o];
      std::string v = V(out.node);
      if (ComputeType(p_.nodes[out.node].dtype) != ComputeType(out.dtype))
        v = fmt::format("static_cast<{}>({})", ComputeType(out.dtype), v);
      const std::string index = out.inplace >= 0 ? fmt::format("r * t{0}_0 + j * t{0}_1", o) : "r * n1 + j";
      s += fmt::format("          q{}[{}] = {};\n", o, index, StoreAs(out.dtype, v));
    }
    s += "        }\n      }\n    }\n  }\n  return ANVIL_OK;\n}\n";
    return s;
  }

 private:
  static int64_t RoundUp(int64_t v, int64_t m) { return std::max<int64_t>(m, (v + m - 1) / m * m); }

  static std::string SizeOf(const DimSource& d) {
    return d.fixed ? std::to_string(d.size) : fmt::format("in[{}].shape[{}] /* {} */", d.input, d.dim, d.symbol);
  }

  std::string VariantLabel() const {
    std::vector<std::string> parts;
    for (const PlanInput& in : p_.inputs) parts.push_back(fmt::format("{}: {}", in.name, DTypeName(in.dtype)));
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  const KernelPlan& p_;
  int variant_;
  const KernelParams& params_;
};

}  // namespace

Result<std::string> PrintCpuMatmulVariant(const KernelPlan& plan, int variant, const KernelParams& params) {
  for (const auto& [key, value] : params)
    if ((key != "mc" && key != "nc" && key != "kc") || value <= 0)
      return InvalidInput(fmt::format("CPU matmul printer: parameter {}={} (known: mc, nc, kc, positive)", key, value));
  return CpuMatmulPrinter(plan, variant, params).Print();
}

std::vector<KernelParams> CpuMatmulSpace() {
  // Default: a B block of 256 x 256 f32 (256 KiB, an L2's share) and A blocks of 72 rows.
  return {{{"mc", 72}, {"nc", 256}, {"kc", 256}},
          {{"mc", 48}, {"nc", 128}, {"kc", 256}},
          {{"mc", 96}, {"nc", 512}, {"kc", 128}},
          {{"mc", 144}, {"nc", 256}, {"kc", 512}}};
}

}  // namespace anvil::compiler
