// EmitPython (formula/python_emit.h) against the native-precision reference:
// each formula is emitted, all of them run in ONE system-Python process
// (torch 1.13) on the same inputs the reference gets, and every output must
// match reference::Evaluate(..., kNative) bit for bit. Bitwise is the right
// bar here: the Python torch and our LibTorch are the same 1.13 CPU kernels,
// and both sides run single-threaded so reductions split work identically.
// Inputs travel as raw little-endian bytes; Python reports dtype and shape
// beside each output's bytes.
#include "formula/python_emit.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/Parallel.h>

#include "formula/formula.h"
#include "reference/evaluate.h"
#include "util/subprocess.h"

namespace anvil::formula {
namespace {

namespace fs = std::filesystem;

SymShape S(std::initializer_list<const char*> dims) {
  SymShape s;
  for (const char* d : dims) {
    if (std::isdigit(static_cast<unsigned char>(d[0]))) s.push_back(Dim::Fixed(std::stoll(d)));
    else s.push_back(Dim::Symbol(d));
  }
  return s;
}

struct Case {
  std::string formula;
  std::vector<InputDecl> inputs;
  std::vector<AttrDecl> attrs;
  std::vector<ScalarValue> attr_values;
  std::vector<std::string> outputs = {"out"};
};

// Shapes: B=3, N=5, M=4, K=6.
Bindings kSizes = {{"B", 3}, {"N", 5}, {"M", 4}, {"K", 6}};

at::Tensor MakeInput(const InputDecl& d, int seed) {
  std::vector<int64_t> shape = *Concretize(d.shape, kSizes);
  at::manual_seed(seed);
  at::Tensor t;
  switch (Category(d.dtype)) {
    case DTypeCategory::kBool: t = at::randint(0, 2, shape).to(at::kBool); break;
    case DTypeCategory::kInteger: t = at::randint(d.dtype == DType::kU8 ? 0 : -7, 8, shape).to(reference::ToAten(d.dtype)); break;
    case DTypeCategory::kFloating: {
      t = (at::randn(shape, at::kDouble) * 2).to(reference::ToAten(d.dtype));
      // A few specials so NaN/inf/zero policies are exercised too.
      if (t.numel() >= 8) {
        at::Tensor flat = t.view({-1});
        flat[1] = 0.0;
        flat[3] = std::numeric_limits<double>::quiet_NaN();
        flat[5] = std::numeric_limits<double>::infinity();
        flat[7] = -0.5;
      }
      break;
    }
  }
  return t.contiguous();
}

std::string Bytes(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

std::string PyShape(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::vector<Case> Cases() {
  const DType f32 = DType::kF32, f16 = DType::kF16, f64 = DType::kF64, i32 = DType::kI32, i64 = DType::kI64,
              b = DType::kBool, bf16 = DType::kBF16, u8 = DType::kU8;
  InputDecl x{"x", f32, S({"B", "N"})}, y{"y", f32, S({"B", "N"})}, row{"w", f32, S({"N"})};
  return {
      // unary elementwise
      {"out = exp(x) + log1p(abs(x)) - sqrt(abs(x)) * rsqrt(abs(x) + 1)", {x}},
      {"out = sin(x) * cos(x) + tan(x) - atan(x) + tanh(x) + asinh(x) + erf(x) - erfc(x)", {x}},
      {"out = sigmoid(x) + relu(x) + silu(x) + mish(x) + hardsigmoid(x) + hardswish(x)", {x}},
      {"out = gelu(x) + gelu(x, approximate='tanh')", {x}},
      {"out = softplus(x, 2.0, 10.0) + elu(x, 0.5) + leaky_relu(x, 0.2) + hardtanh(x, -0.5, 0.75)", {x}},
      {"out = floor(x) + ceil(x) - round(x) + trunc(x) + sign(x) + reciprocal(x) + square(x) + exp2(x) - expm1(x)", {x}},
      {"out = log(x) + log2(x) + log10(x) + asin(x) + acos(x) + acosh(x) + atanh(x) + sinh(x) + cosh(x)", {x}},
      // binary elementwise, broadcasting, scalars on either side
      {"out = (x + w) * (x - w) / (w + 0.1) - 2.5 * x + 1 / x", {x, row}},
      {"out = x // 0.7 + remainder(x, 1.5) + fmod(x, 1.5) + remainder(2.0, x) + fmod(3.0, x)", {x}},
      {"out = pow(x, 2.0) + pow(abs(x), 0.5) + pow(2.0, x) + x ** 3", {x}},
      {"out = maximum(x, w) + minimum(x, 0.25) + maximum(-1, x) + atan2(x, w) + atan2(x, 0.5) + atan2(2, x)", {x, row}},
      {"out = clamp_min(x, -0.5) + clamp_max(x, 0.5) + clamp_min(x, w)", {x, row}},
      // comparisons, logical, where, isnan
      {"out = where((x > w) & (x <= 1.0) | (0.5 < x), x, 0.0)", {x, row}},
      {"out = where(isnan(x) | isinf(x) | ~isfinite(x), -1, where(x != 0.25, x, w))", {x, row}},
      {"out = logical_and(x, 0.5) ^ logical_or(x > 0, w > 0) | logical_xor(1, x) | logical_not(x)", {x, row}},
      {"out = (x == y) | (x >= y) | (x < y) | (1.0 == x) | (2.0 >= x)", {x, y}},
      // integers and bools
      {"out = a * 3 + a // 2 - remainder(a, 3) + bitwise_and(a, 6) + (a ^ 5) + (~a) + abs(a) + floor(a)",
       {{"a", i32, S({"B", "N"})}}},
      {"out = a / 2 + a * 1.5 + exp(a) + sigmoid(a)", {{"a", i32, S({"B", "N"})}}},
      {"out = (m & n) | (m ^ True)", {{"m", b, S({"B", "N"})}, {"n", b, S({"N"})}}},
      {"out = m + 1", {{"m", b, S({"B", "N"})}}},
      {"out = u * 2 + maximum(u, 3) + bitwise_or(u, 1)", {{"u", u8, S({"B", "N"})}}},
      // casts and mixed dtypes
      {"out = to(x, f16) * 2.5 + h", {x, {"h", f16, S({"B", "N"})}}},
      {"out = to(h, f32) + to(x, i32) + to(to(x, f16), f64)", {x, {"h", f16, S({"B", "N"})}}},
      {"out = h + z", {{"h", f16, S({"B", "N"})}, {"z", f32, S({})}}},
      {"out = to(d, bf16) * 0.3 + to(maximum(d, 0.0), f32)", {{"d", f64, S({"B", "N"})}}},
      // reductions
      {"out = sum(x, 1) + mean(x, -1) + amax(x, 1) - amin(x, 1) + prod(x, 1) + logsumexp(x, 1)", {x}},
      {"out = sum(x, (0, 1), keepdim=True) + mean(x) + prod(x, (0, 1))", {x}},
      {"out = var(x, -1, keepdim=True) + std(x, 0, keepdim=True, correction=0) + var(x, correction=2)", {x}},
      {"out = sum(a, 1) + prod(a, 1) + sum(m)", {{"a", i32, S({"B", "N"})}, {"m", b, S({"N"})}}},
      {"out = argmax(x, 1) + argmin(x, 1) + argmax(x)", {x}},
      {"out = argmax(x, keepdim=True)", {x}},
      {"out = softmax(x, -1) + log_softmax(x, 0)", {x}},
      {"out = softmax(a, 1)", {{"a", i32, S({"B", "N"})}}},
      // matmul
      {"out = matmul(p, q)", {{"p", f32, S({"B", "M", "K"})}, {"q", f32, S({"K", "N"})}}},
      {"out = matmul(v, q)", {{"v", f64, S({"K"})}, {"q", f64, S({"K", "N"})}}},
      // attributes, computed scalars, several outputs, an output that is an input
      {"s = sqrt(t) * 2 + 1\nout = softmax(x / s, -1) * scale + bias\nout2 = x * (k + 1) + where(flag, 1.0, 0.0)\nout3 = x",
       {x},
       {{"t", f32}, {"scale", f32}, {"bias", f64}, {"k", i64}, {"flag", b}},
       {ScalarValue::Float(0.7, f32), ScalarValue::Float(1.0 / 3.0, f32), ScalarValue::Float(-2.25),
        ScalarValue::Int(3), ScalarValue::Bool(true)},
       {"out", "out2", "out3"}},
      {"out = a * n + a // n + exp(n + 0.5) * a", {{"a", i32, S({"B", "N"})}}, {{"n", i64}}, {ScalarValue::Int(2)}},
      {"out = x * 1e308 * 10.0 + minimum(x, -0.0) + x * 1e-300", {x}},
  };
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(PythonEmit, MatchesNativeReferenceBitwise) {
  fs::path dir = fs::temp_directory_path() / ("anvil_python_emit_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const int old_threads = at::get_num_threads();
  at::set_num_threads(1);

  std::string script =
      "import sys, torch\n"
      "torch.set_num_threads(1)\n"
      "def load(p, dt, shape):\n"
      "    raw = bytearray(open(p, 'rb').read())\n"
      "    if not raw: return torch.empty(shape, dtype=dt)\n"
      "    return torch.frombuffer(raw, dtype=dt).reshape(shape)\n"
      "def save(prefix, outs):\n"
      "    for j, t in enumerate(outs):\n"
      "        open(prefix + '_o%d.bin' % j, 'wb').write(bytes(t.contiguous().reshape(-1).view(torch.uint8).tolist()))\n"
      "        open(prefix + '_o%d.txt' % j, 'w').write(str(t.dtype) + ' ' + str(list(t.shape)))\n";
  std::vector<Case> cases = Cases();
  ASSERT_GE(cases.size(), 25u);
  std::vector<std::vector<at::Tensor>> want(cases.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    const Case& k = cases[c];
    auto g = Compile(k.formula, k.inputs, k.attrs, k.outputs);
    ASSERT_TRUE(g.ok()) << k.formula << ": " << g.status().message();
    std::string fname = "f" + std::to_string(c);
    auto fn = EmitPython(*g, fname);
    ASSERT_TRUE(fn.ok()) << k.formula << ": " << fn.status().message();
    script += "\n" + fn->source;
    std::vector<at::Tensor> ins;
    std::string call;
    for (size_t i = 0; i < k.inputs.size(); ++i) {
      at::Tensor t = MakeInput(k.inputs[i], static_cast<int>(100 * c + i));
      ins.push_back(t);
      std::string path = (dir / ("c" + std::to_string(c) + "_i" + std::to_string(i) + ".bin")).string();
      std::ofstream(path, std::ios::binary) << Bytes(t);
      call += "load('" + path + "', " + TorchDTypeName(k.inputs[i].dtype) + ", " + PyShape(t.sizes().vec()) + "), ";
    }
    for (const ScalarValue& v : k.attr_values) call += PythonLiteral(v) + ", ";
    script += "try:\n    save('" + (dir / ("c" + std::to_string(c))).string() + "', " + fname + "(" + call +
              "))\nexcept Exception as e:\n    open('" + (dir / ("c" + std::to_string(c) + ".err")).string() +
              "', 'w').write(repr(e))\n";
    auto r = reference::Evaluate(*g, ins, k.attr_values, reference::Precision::kNative);
    ASSERT_TRUE(r.ok()) << k.formula << ": " << r.status().message();
    want[c] = *r;
  }
  at::set_num_threads(old_threads);
  std::string script_path = (dir / "run.py").string();
  std::ofstream(script_path) << script;

  auto run = RunProcess({"/usr/bin/python3", script_path}, 60);
  ASSERT_TRUE(run.ok()) << run.status().message();
  ASSERT_EQ(run->exit_code, 0) << run->output;

  for (size_t c = 0; c < cases.size(); ++c) {
    SCOPED_TRACE(cases[c].formula);
    std::string prefix = (dir / ("c" + std::to_string(c))).string();
    ASSERT_FALSE(fs::exists(prefix + ".err")) << ReadAll(prefix + ".err");
    for (size_t j = 0; j < want[c].size(); ++j) {
      const at::Tensor& w = want[c][j];
      std::string meta = ReadAll(prefix + "_o" + std::to_string(j) + ".txt");
      std::string want_meta = TorchDTypeName(*reference::FromAten(w.scalar_type())) + " " + PyShape(w.sizes().vec());
      EXPECT_EQ(meta, want_meta) << "output " << j;
      std::string got = ReadAll(prefix + "_o" + std::to_string(j) + ".bin");
      if (got != Bytes(w)) {
        std::string tmp = got;
        at::Tensor g = at::from_blob(tmp.data(), w.sizes(), w.options()).clone();
        ADD_FAILURE() << "output " << j << " differs\ngot\n" << g << "\nwant\n" << w;
      }
    }
  }
  fs::remove_all(dir);
}

TEST(PythonEmit, EmitsReadableSsaSource) {
  auto g = Compile("out = softmax(x / t, -1)", {{"x", DType::kF32, S({"B", "N"})}}, {{"t", DType::kF32}}, {"out"});
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto fn = EmitPython(*g);
  ASSERT_TRUE(fn.ok()) << fn.status().message();
  EXPECT_EQ(fn->name, "anvil_formula");
  EXPECT_EQ(fn->params, (std::vector<std::string>{"x", "t"}));
  EXPECT_EQ(fn->source,
            "import torch\n\n\ndef anvil_formula(x, t):\n"
            "    t0 = x\n"
            "    t1 = float(t)\n"
            "    t2 = torch.div(t0, t1)\n"
            "    t3 = torch.softmax(t2, dim=1)\n"
            "    return (t3,)\n");
}

TEST(PythonEmit, LiteralsRoundTrip) {
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(0.1)), "0.1");
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(2)), "2.0");
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(-0.0)), "-0.0");
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(1e300)), "1e+300");
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(std::numeric_limits<double>::infinity())), "float('inf')");
  EXPECT_EQ(PythonLiteral(ScalarValue::Float(std::nan(""))), "float('nan')");
  EXPECT_EQ(PythonLiteral(ScalarValue::Int(-3)), "-3");
  EXPECT_EQ(PythonLiteral(ScalarValue::Bool(true)), "True");
}

TEST(PythonEmit, NamesPythonCannotTakeAreClearErrors) {
  for (const char* bad : {"torch", "lambda"}) {
    Graph g({{bad, DType::kF32, S({"N"})}}, {});
    Node in;
    in.op = Op::kInput;
    in.index = 0;
    in.dtype = DType::kF32;
    in.shape = S({"N"});
    g.AddOutput("out", g.AddNode(in));
    auto fn = EmitPython(g);
    ASSERT_FALSE(fn.ok()) << bad;
    EXPECT_NE(fn.status().message().find(std::string("input '") + bad + "' cannot be a Python parameter name"),
              std::string::npos)
        << fn.status().message();
  }
  auto g = Compile("out = x", {{"x", DType::kF32, S({"N"})}}, {}, {"out"});
  ASSERT_TRUE(g.ok());
  auto fn = EmitPython(*g, "my func");
  ASSERT_FALSE(fn.ok());
  EXPECT_NE(fn.status().message().find("function name 'my func'"), std::string::npos) << fn.status().message();
}

TEST(PythonEmit, TemporariesAvoidParameterNames) {
  auto g = Compile("out = t0 + t1", {{"t0", DType::kF32, S({"N"})}, {"t1", DType::kF32, S({"N"})}}, {}, {"out"});
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto fn = EmitPython(*g);
  ASSERT_TRUE(fn.ok());
  EXPECT_NE(fn->source.find("t_2 = torch.add(t_0, t_1)"), std::string::npos) << fn->source;
}

}  // namespace
}  // namespace anvil::formula
