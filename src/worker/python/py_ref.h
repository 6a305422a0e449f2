// Owned references to Python objects, the text of a Python exception, and the
// anvil_worker.bridge functions the worker calls.
//
// Declares no Python.h types beyond the opaque PyObject, so headers that hold
// Python objects (triton_candidate.h, compiled_function.h) stay free of
// Python.h. Call only on the worker's thread, with the interpreter
// initialised (python_runtime.h).
#pragma once

#include <string>
#include <utility>

#include "util/status.h"

struct _object;
typedef _object PyObject;  // as Python.h declares it

namespace anvil::worker::python {

// One strong reference; released (Py_DECREF) on destruction.
class PyRef {
 public:
  PyRef() = default;
  // Takes ownership of a new reference (may be null).
  static PyRef Steal(PyObject* o) { return PyRef(o); }
  // Adds a reference to a borrowed one.
  static PyRef Borrow(PyObject* o);
  ~PyRef();
  PyRef(PyRef&& other) noexcept : o_(std::exchange(other.o_, nullptr)) {}
  PyRef& operator=(PyRef&& other) noexcept;
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;

  PyObject* get() const { return o_; }
  explicit operator bool() const { return o_ != nullptr; }

 private:
  explicit PyRef(PyObject* o) : o_(o) {}
  PyObject* o_ = nullptr;
};

// Takes the pending Python exception (clearing it) and formats it as
// "Type: message" plus the last frames of its traceback, leaving out
// frames of anvil_worker and of the import machinery; at most a few
// thousand characters. Without a pending exception: "unknown Python error".
std::string TakePythonError();
// Only str() of the pending exception (no type, no traceback), clearing it;
// "" when none is pending or it cannot be printed.
std::string TakePythonErrorMessage();

// Whether the pending Python exception is an instance of
// anvil_worker.bridge.<class_name> (e.g. "GateViolation").
bool PendingErrorIs(const char* class_name);

// anvil_worker.bridge.<name> (imported by Initialize()).
Result<PyRef> BridgeFunction(const char* name);

}  // namespace anvil::worker::python
