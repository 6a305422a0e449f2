#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/compile_watch.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "worker/python/py_ref.h"

namespace anvil::worker::python {
namespace {

std::atomic<int> compile_depth{0};             // nested compiles (autotune configs, helper kernels)
std::atomic<int64_t> compile_started_ns{0};    // steady clock, when depth went 0 -> 1
std::atomic<bool> finished_unseen{false};      // a compile ended since CompileActivitySeconds() last looked

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

PyObject* CompileStarted(PyObject*, PyObject*) {
  if (compile_depth.fetch_add(1) == 0) compile_started_ns = NowNs();
  Py_RETURN_NONE;
}

PyObject* CompileFinished(PyObject*, PyObject*) {
  if (compile_depth.load() > 0) compile_depth.fetch_sub(1);
  finished_unseen = true;
  Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"compile_started", CompileStarted, METH_NOARGS, "A Triton JIT compile began (the worker sends heartbeats)."},
    {"compile_finished", CompileFinished, METH_NOARGS, "That compile ended."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_anvil_native", "Signals from Python to the anvil-worker.", -1,
                       kMethods, nullptr, nullptr, nullptr, nullptr};

}  // namespace

Status RegisterCompileWatch() {
  PyRef module = PyRef::Steal(PyModule_Create(&kModule));
  if (!module || PyDict_SetItemString(PyImport_GetModuleDict(), "_anvil_native", module.get()) != 0)
    return InternalError("could not install the _anvil_native module: " + TakePythonError());
  return Status::Ok();
}

double CompileActivitySeconds() {
  const bool finished = finished_unseen.exchange(false);
  if (compile_depth.load() > 0) return std::max(1e-9, (NowNs() - compile_started_ns.load()) * 1e-9);
  return finished ? 1e-9 : 0;
}

}  // namespace anvil::worker::python
