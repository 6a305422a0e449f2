// Evaluate (reference/evaluate.h) against hand-written ATen calls, in both
// precisions, plus a sweep over every catalog op.
#include "reference/evaluate.h"

#include <gtest/gtest.h>

#include "formula/formula.h"

namespace anvil::reference {
namespace {

using formula::AttrDecl;
using formula::Graph;
using formula::InputDecl;

SymShape S(std::initializer_list<const char*> dims) {
  SymShape s;
  for (const char* d : dims) {
    if (std::isdigit(static_cast<unsigned char>(d[0]))) s.push_back(Dim::Fixed(std::stoll(d)));
    else s.push_back(Dim::Symbol(d));
  }
  return s;
}

Graph MustCompile(const std::string& src, const std::vector<InputDecl>& in, const std::vector<AttrDecl>& attrs = {},
                  const std::vector<std::string>& outs = {"out"}) {
  auto g = formula::Compile(src, in, attrs, outs);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return g.ok() ? *g : Graph();
}

at::Tensor Eval(const Graph& g, const std::vector<at::Tensor>& in, Precision p, const std::vector<ScalarValue>& a = {}) {
  auto r = Evaluate(g, in, a, p);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->at(0) : at::Tensor();
}

void ExpectSame(const at::Tensor& got, const at::Tensor& want) {
  ASSERT_TRUE(got.defined());
  EXPECT_EQ(got.scalar_type(), want.scalar_type());
  EXPECT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(at::equal(got, want)) << "got\n" << got << "\nwant\n" << want;
}

void ExpectClose(const at::Tensor& got, const at::Tensor& want, double tol) {
  ASSERT_TRUE(got.defined());
  EXPECT_EQ(got.scalar_type(), want.scalar_type());
  EXPECT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(at::allclose(got.to(at::kDouble), want.to(at::kDouble), tol, tol, /*equal_nan=*/true))
      << "max diff " << (got.to(at::kDouble) - want.to(at::kDouble)).abs().max().item<double>();
}

class ReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override { at::manual_seed(7); }
  const std::vector<InputDecl> x_bn_{{"x", DType::kF32, S({"B", "N"})}};
};

TEST_F(ReferenceTest, SoftmaxWithTemperature) {
  Graph g = MustCompile("out = softmax(x / t, -1)", x_bn_, {{"t", DType::kF32}});
  at::Tensor x = at::randn({4, 33});
  ScalarValue t = ScalarValue::Float(0.7, DType::kF32);
  ExpectSame(Eval(g, {x}, Precision::kNative, {t}), at::softmax(x / 0.7, -1));
  ExpectSame(Eval(g, {x}, Precision::kUpcast64, {t}), at::softmax(x.to(at::kDouble) / 0.7, -1).to(at::kFloat));
}

TEST_F(ReferenceTest, LayerNormMatchesAtenLayerNorm) {
  Graph g = MustCompile(
      "mu = mean(x, -1, keepdim=True)\n"
      "out = (x - mu) * rsqrt(var(x, -1, keepdim=True, correction=0) + eps) * w + b",
      {{"x", DType::kF32, S({"B", "N"})}, {"w", DType::kF32, S({"N"})}, {"b", DType::kF32, S({"N"})}},
      {{"eps", DType::kF32}});
  at::Tensor x = at::randn({5, 64}), w = at::randn({64}), b = at::randn({64});
  at::Tensor want = at::layer_norm(x.to(at::kDouble), {64}, w.to(at::kDouble), b.to(at::kDouble), 1e-5);
  at::Tensor got = Eval(g, {x, w, b}, Precision::kUpcast64, {ScalarValue::Float(1e-5)});
  ExpectSame(got, want.to(at::kFloat));
  ExpectClose(Eval(g, {x, w, b}, Precision::kNative, {ScalarValue::Float(1e-5)}), want.to(at::kFloat), 1e-5);
}

TEST_F(ReferenceTest, GeluTanhAndWhere) {
  Graph g = MustCompile("out = where(x > 0, gelu(x, approximate='tanh'), 0.1 * x)", x_bn_);
  at::Tensor x = at::randn({3, 17});
  ExpectSame(Eval(g, {x}, Precision::kNative), at::where(x > 0, at::gelu(x, "tanh"), x * 0.1));
}

TEST_F(ReferenceTest, IntegerOps) {
  std::vector<InputDecl> in = {{"a", DType::kI32, S({"N"})}, {"b", DType::kI32, S({"N"})}};
  at::Tensor a = at::randint(-50, 50, {40}, at::kInt);
  at::Tensor b = at::randint(1, 9, {40}, at::kInt) * (at::randint(0, 2, {40}, at::kInt) * 2 - 1);
  Graph identity = MustCompile("out = (a // b) * b + a % b", in);
  ExpectSame(Eval(identity, {a, b}, Precision::kNative), a);
  ExpectSame(Eval(identity, {a, b}, Precision::kUpcast64), a);
  Graph div = MustCompile("out = a / b", in);
  ExpectSame(Eval(div, {a, b}, Precision::kNative), a.to(at::kFloat) / b.to(at::kFloat));
  Graph sum = MustCompile("out = a.sum() + b.sum(0)", in);
  ExpectSame(Eval(sum, {a, b}, Precision::kUpcast64), a.sum(at::kLong) + b.sum(at::kLong));
  Graph scaled = MustCompile("out = a * 1.5", {in[0]});
  ExpectSame(Eval(scaled, {a}, Precision::kNative), a.to(at::kFloat) * 1.5);
  Graph bits = MustCompile("out = (a & b) | ~a ^ b", in);
  ExpectSame(Eval(bits, {a, b}, Precision::kNative), at::bitwise_or(at::bitwise_and(a, b), at::bitwise_xor(at::bitwise_not(a), b)));
}

TEST_F(ReferenceTest, ArgmaxForms) {
  at::Tensor x = at::randn({6, 9});
  ExpectSame(Eval(MustCompile("out = argmax(x, -1)", x_bn_), {x}, Precision::kUpcast64), at::argmax(x, -1));
  ExpectSame(Eval(MustCompile("out = x.argmin(0, keepdim=True)", x_bn_), {x}, Precision::kNative),
             at::argmin(x, 0, true));
  ExpectSame(Eval(MustCompile("out = argmax(x)", x_bn_), {x}, Precision::kNative), at::argmax(x));
  ExpectSame(Eval(MustCompile("out = argmax(x, keepdim=True)", x_bn_), {x}, Precision::kNative),
             at::argmax(x).reshape({1, 1}));
}

TEST_F(ReferenceTest, BatchedMatmulAndVectorForms) {
  std::vector<InputDecl> in = {{"a", DType::kF32, S({"B", "M", "K"})}, {"w", DType::kF32, S({"K", "N"})},
                               {"v", DType::kF32, S({"K"})}};
  at::Tensor a = at::randn({2, 3, 5}), w = at::randn({5, 4}), v = at::randn({5});
  Graph g = MustCompile("out = a @ w + (a @ v).sum() + v @ v + (v @ w).sum()", in);
  at::Tensor want = at::matmul(a, w) + at::matmul(a, v).sum() + at::matmul(v, v) + at::matmul(v, w).sum();
  ExpectSame(Eval(g, {a, w, v}, Precision::kNative), want);
  auto d = [](const at::Tensor& t) { return t.to(at::kDouble); };
  at::Tensor want64 = at::matmul(d(a), d(w)) + at::matmul(d(a), d(v)).sum() + at::matmul(d(v), d(v)) +
                      at::matmul(d(v), d(w)).sum();
  ExpectSame(Eval(g, {a, w, v}, Precision::kUpcast64), want64.to(at::kFloat));
}

TEST_F(ReferenceTest, KeepdimReductions) {
  std::vector<InputDecl> in = {{"x", DType::kF32, S({"A", "B", "C"})}};
  at::Tensor x = at::randn({3, 4, 5});
  ExpectSame(Eval(MustCompile("out = sum(x, (0, 2), keepdim=True)", in), {x}, Precision::kNative),
             x.sum(at::IntArrayRef{0, 2}, true));
  ExpectSame(Eval(MustCompile("out = x.max(1, keepdim=True) - x.amin((-1, 0), keepdim=True)", in), {x},
                  Precision::kNative),
             at::amax(x, {1}, true) - at::amin(x, {0, 2}, true));
  ExpectClose(Eval(MustCompile("out = prod(x, (0, 2))", in), {x}, Precision::kNative), x.prod(2).prod(0), 1e-5);
  ExpectClose(Eval(MustCompile("out = std(x, 1, correction=2) + logsumexp(x, -2)", in), {x}, Precision::kUpcast64),
              (at::std(x.to(at::kDouble), at::IntArrayRef{1}, c10::optional<int64_t>(2), false) +
               at::logsumexp(x.to(at::kDouble), {-2}))
                  .to(at::kFloat),
              0);
}

TEST_F(ReferenceTest, NonContiguousInputs) {
  at::Tensor base = at::randn({7, 6});
  at::Tensor xt = base.t();  // [6, 7], strides (1, 6)
  ASSERT_FALSE(xt.is_contiguous());
  Graph g = MustCompile("out = x * sigmoid(1.702 * x) - mean(x, 0)", x_bn_);
  at::Tensor got = Eval(g, {xt}, Precision::kUpcast64);
  ExpectSame(got, Eval(g, {xt.contiguous()}, Precision::kUpcast64));
  EXPECT_TRUE(got.is_contiguous());
}

TEST_F(ReferenceTest, HalfInputNativeComputesInHalfUpcastInF64) {
  std::vector<InputDecl> in = {{"x", DType::kF16, S({"N"})}};
  at::Tensor x = (at::rand({64}) * 8 + 1).to(at::kHalf);
  Graph g = MustCompile("out = (x * 1000.0 + 1.0) - x * 1000.0", in);
  at::Tensor native = Eval(g, {x}, Precision::kNative);
  at::Tensor upcast = Eval(g, {x}, Precision::kUpcast64);
  ASSERT_TRUE(native.defined() && upcast.defined());
  EXPECT_EQ(native.scalar_type(), at::kHalf);
  EXPECT_EQ(upcast.scalar_type(), at::kHalf);
  ExpectSame(native, (x * 1000.0 + 1.0) - x * 1000.0);  // eager PyTorch in f16
  ExpectSame(upcast, at::ones({64}, at::kHalf));        // exact in f64
  EXPECT_FALSE(at::equal(native, upcast));
}

TEST_F(ReferenceTest, ExplicitCastRoundsThroughTheType) {
  at::Tensor x = at::randn({4, 8});
  Graph g = MustCompile("out = x.half().float() - x", x_bn_);
  at::Tensor got = Eval(g, {x}, Precision::kUpcast64);
  ExpectSame(got, (x.to(at::kHalf).to(at::kDouble) - x.to(at::kDouble)).to(at::kFloat));
  EXPECT_GT(got.abs().max().item<float>(), 0.0f);  // the rounding really happened
  Graph bf = MustCompile("out = to(x, bf16) + 0", x_bn_);
  ExpectSame(Eval(bf, {x}, Precision::kUpcast64), x.to(at::kBFloat16));
}

TEST_F(ReferenceTest, ScalarAttributesFollowPythonSemantics) {
  Graph g = MustCompile("out = x / sqrt(d) + (d // 3) * 0.5", x_bn_, {{"d", DType::kI64}});
  at::Tensor x = at::randn({2, 3});
  ExpectSame(Eval(g, {x}, Precision::kNative, {ScalarValue::Int(16)}), x / 4.0 + 2.5);
  Graph h = MustCompile("out = clamp(x, min=-0.5, max=hi)", x_bn_, {{"hi", DType::kF32}});
  ExpectSame(Eval(h, {x}, Precision::kNative, {ScalarValue::Float(0.25)}), at::clamp(x, -0.5, 0.25));
}

// Formula scalars are CPU numbers; on a GPU they must join the tensors'
// device where ATen checks devices (clamp with tensor bounds). Runs where
// LibTorch has CUDA (the GPU machine's `make gpu-test`), skips elsewhere.
TEST_F(ReferenceTest, ScalarAttributesWorkWithCudaTensors) {
  if (!at::hasCUDA()) GTEST_SKIP() << "LibTorch has no CUDA device here: CUDA reference test skipped";
  Graph g = MustCompile("out = where(x > 0.5, x.clamp(lo, hi), fill) * s", x_bn_,
                        {{"lo", DType::kF32}, {"hi", DType::kF32}, {"fill", DType::kF32}, {"s", DType::kF32}});
  const std::vector<ScalarValue> attrs = {ScalarValue::Float(-1), ScalarValue::Float(1), ScalarValue::Float(-2),
                                          ScalarValue::Float(3)};
  at::Tensor x = at::randn({4, 5});
  at::Tensor on_cpu = Eval(g, {x}, Precision::kUpcast64, attrs);
  at::Tensor on_gpu = Eval(g, {x.cuda()}, Precision::kUpcast64, attrs);
  ASSERT_TRUE(on_gpu.defined());
  EXPECT_TRUE(on_gpu.is_cuda());
  ExpectSame(on_gpu.cpu(), on_cpu);
}

TEST_F(ReferenceTest, RejectsMismatchedInputs) {
  Graph g = MustCompile("out = x + y", {{"x", DType::kF32, S({"B", "N"})}, {"y", DType::kF32, S({"N"})}});
  auto bad_size = Evaluate(g, {at::zeros({2, 3}), at::zeros({4})}, {}, Precision::kNative);
  ASSERT_FALSE(bad_size.ok());
  EXPECT_EQ(bad_size.status().message(), "reference: N is 3 in 'x' but 4 in 'y'");
  auto bad_dtype = Evaluate(g, {at::zeros({2, 3}, at::kDouble), at::zeros({3})}, {}, Precision::kNative);
  ASSERT_FALSE(bad_dtype.ok());
  EXPECT_EQ(bad_dtype.status().message(), "reference: input 'x' is f64, declared f32");
  EXPECT_EQ(Evaluate(g, {at::zeros({3})}, {}, Precision::kNative).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(ReferenceTest, NativeDtypesFollowEagerPromotion) {
  std::vector<InputDecl> in = {{"i", DType::kI32, S({"N"})}, {"h", DType::kF16, S({"N"})}};
  at::Tensor i = at::randint(-5, 5, {16}, at::kInt), h = at::randn({16}).to(at::kHalf);
  struct Case {
    const char* src;
    at::Tensor want;
  };
  std::vector<Case> cases = {
      {"out = clamp(i, min=0.5) + h.sum() * 0", at::clamp_min(i.to(at::kFloat), 0.5)},
      {"out = where(h > 0, h, 0) + i.sum() * 0", at::where(h > 0, h, at::zeros({}, at::kHalf))},
      {"out = softmax(i, -1) + h.sum() * 0", at::softmax(i.to(at::kFloat), -1)},
      {"out = (i > 0) + (h < 0) + 1", at::add(i > 0, h < 0) + 1},  // bool + bool is logical or
      {"out = h * 2.5 + i.sum()", h * 2.5 + i.sum()},
  };
  for (const Case& c : cases) {
    Graph g = MustCompile(c.src, in);
    ExpectSame(Eval(g, {i, h}, Precision::kNative), c.want);
  }
}

// Every unary and binary catalog op: native f32 agrees with the f64 reference,
// and both have the graph's dtype (Evaluate checks every node internally).
TEST_F(ReferenceTest, EveryElementwiseCatalogOpEvaluates) {
  at::Tensor x = at::rand({3, 5}) * 0.8 + 0.1;  // inside every op's domain (acosh excepted below)
  at::Tensor y = at::rand({5}) * 0.8 + 0.1;
  at::Tensor i = at::randint(1, 20, {3, 5}, at::kInt);
  at::Tensor j = at::randint(1, 20, {5}, at::kInt);
  int checked = 0;
  for (const formula::OpInfo& info : formula::Catalog()) {
    if (!info.callable || (info.kind != formula::OpKind::kUnary && info.kind != formula::OpKind::kBinary)) continue;
    bool ints = info.operand_rule == formula::OperandRule::kIntOrBool;
    std::string name(info.name);
    std::string src = info.kind == formula::OpKind::kUnary ? "out = " + name + "(x" + (name == "acosh" ? " + 1)" : ")")
                                                            : "out = " + name + "(x, y)";
    DType t = ints ? DType::kI32 : DType::kF32;
    std::vector<InputDecl> decls = {{"x", t, S({"B", "N"})}};
    if (info.kind == formula::OpKind::kBinary) decls.push_back({"y", t, S({"N"})});
    Graph g = MustCompile(src, decls);
    std::vector<at::Tensor> in = ints ? std::vector<at::Tensor>{i, j} : std::vector<at::Tensor>{x, y};
    if (info.kind == formula::OpKind::kUnary) in.resize(1);
    auto native = Evaluate(g, in, {}, Precision::kNative);
    auto upcast = Evaluate(g, in, {}, Precision::kUpcast64);
    ASSERT_TRUE(native.ok()) << name << ": " << native.status().message();
    ASSERT_TRUE(upcast.ok()) << name << ": " << upcast.status().message();
    EXPECT_EQ(native->at(0).scalar_type(), ToAten(g.outputs()[0].dtype)) << name;
    ExpectClose(native->at(0), upcast->at(0), 1e-5);
    ++checked;
  }
  EXPECT_GT(checked, 70);
}

}  // namespace
}  // namespace anvil::reference
