// The embedded-Python bridge on CPU: interpreter start-up, the Triton static
// gate (pure ast, so it runs without triton), zero-copy DLPack crossings,
// calling a Python candidate in place, errors as verdicts and statuses, and
// the torch.compile baseline's version check (torch 1.13 here).
// What needs a GPU (Triton launches, the profiler's kernel list) is not here.
#include <gtest/gtest.h>

#include "worker/python/python_runtime.h"

#if ANVIL_WITH_PYTHON
#include <Python.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "anvil/kernel.h"
#include "worker/python/compile_watch.h"
#include "worker/python/compiled_function.h"
#include "worker/python/tensor_exchange.h"
#include "worker/python/triton_candidate.h"

namespace anvil::worker::python {
namespace {

const std::string kData = std::string(ANVIL_TEST_DATA_DIR) + "/unit_torch/python_bridge/";

// One scratch directory and one `import torch` for the whole binary.
const std::string& Scratch() {
  static const std::string dir =
      (std::filesystem::temp_directory_path() / ("anvil-python-bridge-" + std::to_string(getpid()))).string();
  return dir;
}

class PythonBridge : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = Initialize(Scratch(), /*with_triton=*/false);
    ASSERT_TRUE(s.ok()) << s.message();
  }
};

// Evaluates a Python expression with torch in scope.
PyRef Eval(const char* expression) {
  PyRef globals = PyRef::Steal(PyDict_New());
  PyRef torch = PyRef::Steal(PyImport_ImportModule("torch"));
  PyDict_SetItemString(globals.get(), "torch", torch.get());
  PyRef r = PyRef::Steal(PyRun_String(expression, Py_eval_input, globals.get(), globals.get()));
  if (!r) ADD_FAILURE() << TakePythonError();
  return r;
}

int64_t CallInt(PyObject* o, const char* method) {
  PyRef r = PyRef::Steal(PyObject_CallMethod(o, method, nullptr));
  return r ? PyLong_AsLongLong(r.get()) : -1;
}

std::vector<int64_t> Strides(PyObject* o) {
  PyRef r = PyRef::Steal(PyObject_CallMethod(o, "stride", nullptr));
  std::vector<int64_t> v;
  for (Py_ssize_t i = 0; r && i < PyTuple_Size(r.get()); ++i) v.push_back(PyLong_AsLongLong(PyTuple_GetItem(r.get(), i)));
  return v;
}

TEST_F(PythonBridge, InitializeIsIdempotentAndPreparesTheScratchDirectory) {
  EXPECT_TRUE(Built());
  EXPECT_TRUE(Initialize(Scratch(), false).ok());
  EXPECT_TRUE(Initialized());
  EXPECT_TRUE(std::filesystem::is_directory(Scratch() + "/triton-cache"));
  EXPECT_TRUE(std::filesystem::is_directory(Scratch() + "/inductor-cache"));
  EXPECT_EQ(std::string(getenv("TMPDIR")), Scratch() + "/tmp");
  EXPECT_EQ(std::string(getenv("TORCHINDUCTOR_COMPILE_THREADS")), "1");
  Status other = Initialize(Scratch() + "-other", false);
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.message().find("initialised for scratch directory"), std::string::npos) << other.message();
  EXPECT_EQ(PySys_GetObject("dont_write_bytecode"), Py_True);
}

// Triton's compiles are signalled through _anvil_native (the wrapping of
// JITFunction.compile itself needs triton and runs on the GPU machine).
TEST_F(PythonBridge, CompileSignalsReachTheWorker) {
  CompileActivitySeconds();  // forget earlier activity
  EXPECT_EQ(CompileActivitySeconds(), 0);
  PyRef native = PyRef::Steal(PyImport_ImportModule("_anvil_native"));
  ASSERT_TRUE(native) << TakePythonError();
  PyRef::Steal(PyObject_CallMethod(native.get(), "compile_started", nullptr));
  PyRef::Steal(PyObject_CallMethod(native.get(), "compile_started", nullptr));  // nested (autotune)
  EXPECT_GT(CompileActivitySeconds(), 0);
  PyRef::Steal(PyObject_CallMethod(native.get(), "compile_finished", nullptr));
  EXPECT_GT(CompileActivitySeconds(), 0);
  PyRef::Steal(PyObject_CallMethod(native.get(), "compile_finished", nullptr));
  EXPECT_GT(CompileActivitySeconds(), 0) << "a compile that ended since the last look counts once";
  EXPECT_EQ(CompileActivitySeconds(), 0);
}

TEST_F(PythonBridge, GateAcceptsAWellFormedTritonCandidate) {
  TritonLoad load = TritonCandidate::Load(kData + "good_triton.py");
  if (load.verdict == Verdict::kCorrect) return;  // triton is installed: the gate passed and the import worked
  EXPECT_EQ(load.verdict, Verdict::kLoadError) << load.reason;
  EXPECT_NE(load.reason.find("No module named 'triton'"), std::string::npos) << load.reason;
}

TEST_F(PythonBridge, GateReportsEachRuleWithItsLine) {
  TritonLoad load = TritonCandidate::Load(kData + "bad_triton.py");
  ASSERT_EQ(load.verdict, Verdict::kSuspicious) << load.reason;
  EXPECT_EQ(load.candidate, nullptr);
  const std::string file = kData + "bad_triton.py";
  for (const std::string& expected : {
           file + ":4: import of 'numpy' is not allowed",
           file + ":14: torch.softmax computes with PyTorch; candidates compute only in @triton.jit kernels",
           file + ":15: .copy_() is a PyTorch tensor operation",
           file + ":16: eval() is not allowed",
           file + ":17: attribute '__class__' is not allowed",
           file + ":18: torch.cuda is not allowed",
       })
    EXPECT_NE(load.reason.find(expected), std::string::npos) << "missing: " << expected << "\nin:\n" << load.reason;
  // x.to(tl.float32) inside the @triton.jit kernel (line 10) is Triton's, not PyTorch's.
  EXPECT_EQ(load.reason.find(file + ":10:"), std::string::npos) << load.reason;
}

TEST_F(PythonBridge, GateRequiresAJitKernel) {
  // A file with no Triton kernel computes with something else: a rule
  // violation. (A missing entry is a load error: MissingEntryIsLoadError.)
  TritonLoad load = TritonCandidate::Load(kData + "no_kernels.py");
  ASSERT_EQ(load.verdict, Verdict::kSuspicious) << load.reason;
  EXPECT_NE(load.reason.find("no @triton.jit function"), std::string::npos) << load.reason;
}

TEST_F(PythonBridge, DLPackCrossesWithoutCopiesBothWays) {
  // C++ -> Python: a non-contiguous view (strides 2, 6) of a 4x6 buffer.
  at::Tensor base = at::arange(24, at::kFloat).reshape({4, 6});
  at::Tensor view = base.t().slice(0, 0, 6, 2);
  ASSERT_EQ(view.strides().vec(), (std::vector<int64_t>{2, 6}));
  auto py = ToPython(view);
  ASSERT_TRUE(py.ok()) << py.status().message();
  EXPECT_EQ(CallInt(py->get(), "data_ptr"), reinterpret_cast<int64_t>(view.data_ptr()));
  EXPECT_EQ(Strides(py->get()), (std::vector<int64_t>{2, 6}));
  PyRef filled = PyRef::Steal(PyObject_CallMethod(py->get(), "fill_", "d", -1.0));
  ASSERT_TRUE(filled) << TakePythonError();
  EXPECT_EQ(base.eq(-1).sum().item<int64_t>(), 12);  // exactly the viewed elements changed
  EXPECT_EQ(base[0][0].item<float>(), -1.0f);
  EXPECT_EQ(base[0][1].item<float>(), 1.0f);

  // ... and back: the same memory and strides.
  auto back = FromPython(py->get());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->data_ptr(), view.data_ptr());
  EXPECT_EQ(back->strides().vec(), view.strides().vec());

  // Python -> C++: a tensor Python allocated, strided; written from C++.
  PyRef origin = Eval("torch.zeros(3, 8, dtype=torch.float64)[:, ::2]");
  ASSERT_TRUE(origin);
  auto t = FromPython(origin.get());
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(reinterpret_cast<int64_t>(t->data_ptr()), CallInt(origin.get(), "data_ptr"));
  EXPECT_EQ(t->strides().vec(), (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(t->scalar_type(), at::kDouble);
  t->fill_(2.0);
  PyRef sum = PyRef::Steal(PyObject_CallMethod(origin.get(), "sum", nullptr));
  PyRef item = sum ? PyRef::Steal(PyObject_CallMethod(sum.get(), "item", nullptr)) : PyRef();
  ASSERT_TRUE(item) << TakePythonError();
  EXPECT_EQ(PyFloat_AsDouble(item.get()), 24.0);
}

TEST_F(PythonBridge, BoolTensorsCrossAsBool) {
  at::Tensor mask = at::arange(3).remainder(2).eq(0);  // true, false, true
  auto py = ToPython(mask);
  ASSERT_TRUE(py.ok()) << py.status().message();
  PyRef dtype = PyRef::Steal(PyObject_GetAttrString(py->get(), "dtype"));
  PyRef torch_bool = Eval("torch.bool");
  EXPECT_EQ(dtype.get(), torch_bool.get());
  auto back = FromPython(py->get());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->scalar_type(), at::kBool);
  EXPECT_EQ(back->data_ptr(), mask.data_ptr());
}

TEST_F(PythonBridge, CandidateWritesItsOutputInPlace) {
  TritonLoad load = TritonCandidate::Load(kData + "plain_inplace.py", /*static_gate=*/false);
  ASSERT_EQ(load.verdict, Verdict::kCorrect) << load.reason;
  load.candidate->SetNames({"x"}, {"out"});
  at::Tensor x = at::arange(6, at::kFloat).reshape({2, 3});
  at::Tensor out = at::full({3, 2}, NAN, at::kFloat).t();  // non-contiguous output
  CallResult r = load.candidate->Call({x}, {out}, {{"scale", ScalarValue::Float(2.0)}, {"flip", ScalarValue::Bool(true)}},
                                      1, nullptr);
  ASSERT_EQ(r.status, ANVIL_OK) << r.message;
  EXPECT_TRUE(out.equal(x * -2)) << out;
}

TEST_F(PythonBridge, PythonExceptionIsInternalStatusWithTraceback) {
  TritonLoad load = TritonCandidate::Load(kData + "raises.py", /*static_gate=*/false);
  ASSERT_EQ(load.verdict, Verdict::kCorrect) << load.reason;
  load.candidate->SetNames({"x"}, {"out"});
  at::Tensor x = at::zeros({2});
  CallResult r = load.candidate->Call({x}, {at::empty({2})}, {}, 1, nullptr);
  EXPECT_EQ(r.status, ANVIL_ERROR_INTERNAL);
  EXPECT_EQ(r.message.rfind("ValueError: block size 3 does not divide 8", 0), 0u) << r.message;
  EXPECT_NE(r.message.find("raises.py\", line 2, in anvil_kernel"), std::string::npos) << r.message;
  EXPECT_EQ(r.message.find("bridge.py"), std::string::npos) << r.message;  // the bridge's frames are trimmed
}

TEST_F(PythonBridge, CallWithoutNamesIsAHarnessError) {
  TritonLoad load = TritonCandidate::Load(kData + "raises.py", /*static_gate=*/false);
  ASSERT_EQ(load.verdict, Verdict::kCorrect) << load.reason;
  CallResult r = load.candidate->Call({at::zeros({2})}, {at::empty({2})}, {}, 1, nullptr);
  EXPECT_EQ(r.status, ANVIL_ERROR_INTERNAL);
  EXPECT_NE(r.message.find("SetNames"), std::string::npos) << r.message;
}

TEST_F(PythonBridge, SyntaxErrorIsLoadError) {
  TritonLoad load = TritonCandidate::Load(kData + "syntax_error.py");
  EXPECT_EQ(load.verdict, Verdict::kLoadError);
  EXPECT_NE(load.reason.find("SyntaxError"), std::string::npos) << load.reason;
  EXPECT_NE(load.reason.find("syntax_error.py"), std::string::npos) << load.reason;
}

TEST_F(PythonBridge, MissingEntryIsLoadError) {
  TritonLoad load = TritonCandidate::Load(kData + "missing_entry.py", /*static_gate=*/false);
  EXPECT_EQ(load.verdict, Verdict::kLoadError);
  EXPECT_NE(load.reason.find("no callable top-level anvil_kernel"), std::string::npos) << load.reason;
  TritonLoad absent = TritonCandidate::Load(kData + "does_not_exist.py");
  EXPECT_EQ(absent.verdict, Verdict::kLoadError);
  EXPECT_NE(absent.reason.find("FileNotFoundError"), std::string::npos) << absent.reason;
}

TEST_F(PythonBridge, ForeignKernelNamesKeepOnlyOtherWork) {
  std::vector<std::string> launched = {"scale_kernel", "scale_kernel_0d1d2d",
                                       "void at::native::vectorized_elementwise_kernel<4, ...>",
                                       "Memcpy DtoD (Device -> Device)", "scale_kernelx", "scale_kernelx"};
  EXPECT_EQ(ForeignKernelNames(launched, {"scale_kernel"}),
            (std::vector<std::string>{"void at::native::vectorized_elementwise_kernel<4, ...>",
                                      "Memcpy DtoD (Device -> Device)", "scale_kernelx"}));
  EXPECT_TRUE(ForeignKernelNames({"a_kernel"}, {"a_kernel", "b"}).empty());
}

TEST_F(PythonBridge, CompiledFunctionNeedsTorchCompile) {
  const char* source =
      "def anvil_formula(x, w, eps):\n"
      "    return (x * w + eps,)\n";
  auto fn = CompiledFunction::Create(source, "anvil_formula");
  PyRef has_compile = Eval("hasattr(torch, 'compile')");
  ASSERT_TRUE(has_compile);
  if (has_compile.get() == Py_False) {  // Debian's torch 1.13
    ASSERT_FALSE(fn.ok());
    EXPECT_EQ(fn.status().code(), ErrorCode::kUnsupported);
    EXPECT_NE(fn.status().message().find("torch.compile needs PyTorch >= 2.0"), std::string::npos)
        << fn.status().message();
    return;
  }
  ASSERT_TRUE(fn.ok()) << fn.status().message();
  at::Tensor x = at::arange(4, at::kFloat), w = at::full({4}, 2.0f);
  auto out = (*fn)->Call({x, w}, {ScalarValue::Float(0.5)});
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_TRUE((*out)[0].allclose(x * w + 0.5));
}

}  // namespace
}  // namespace anvil::worker::python

#else

TEST(PythonBridge, NotBuilt) {
  GTEST_SKIP() << "anvil-worker was built without Python (no Python3 Development.Embed at configure time): "
                  "Triton candidates and the torch.compile baseline are unavailable";
}

#endif
