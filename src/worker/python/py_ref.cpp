#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/py_ref.h"

#include <string_view>

#include <fmt/format.h>

namespace anvil::worker::python {
namespace {

constexpr size_t kMaxErrorChars = 4000;
constexpr Py_ssize_t kMaxFrames = 5;

std::string Utf8(PyObject* o) {
  if (!o) return "";
  PyRef s = PyRef::Steal(PyObject_Str(o));
  const char* text = s ? PyUnicode_AsUTF8(s.get()) : nullptr;
  if (!text) {
    PyErr_Clear();
    return "<unprintable>";
  }
  return text;
}

// The frames a candidate's author can act on: not the bridge's own, not
// importlib's.
bool FrameWorthShowing(PyObject* frame) {
  PyRef filename = PyRef::Steal(PyObject_GetAttrString(frame, "filename"));
  std::string name = Utf8(filename.get());
  return name.rfind(ANVIL_PYTHON_DIR "/anvil_worker/", 0) != 0 && name.rfind("<frozen", 0) != 0;
}

// "Type: message" and the trimmed traceback, through Python's traceback module.
std::string Format(PyObject* value) {
  PyRef traceback = PyRef::Steal(PyImport_ImportModule("traceback"));
  if (!traceback) return "";
  PyRef only = PyRef::Steal(PyObject_CallMethod(traceback.get(), "format_exception_only", "OO",
                                                reinterpret_cast<PyObject*>(Py_TYPE(value)), value));
  PyRef empty = PyRef::Steal(PyUnicode_FromString(""));
  PyRef headline = only ? PyRef::Steal(PyUnicode_Join(empty.get(), only.get())) : PyRef();
  if (!headline) return "";
  std::string text = Utf8(headline.get());
  while (!text.empty() && text.back() == '\n') text.pop_back();

  PyRef tb = PyRef::Steal(PyException_GetTraceback(value));
  if (!tb) return text;
  PyRef frames = PyRef::Steal(PyObject_CallMethod(traceback.get(), "extract_tb", "O", tb.get()));
  PyRef kept = PyRef::Steal(PyList_New(0));
  if (!frames || !kept) return text;
  Py_ssize_t n = PySequence_Size(frames.get());
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyRef frame = PyRef::Steal(PySequence_GetItem(frames.get(), i));
    if (frame && FrameWorthShowing(frame.get())) PyList_Append(kept.get(), frame.get());
  }
  Py_ssize_t k = PyList_Size(kept.get());
  if (k == 0) return text;
  PyRef last = PyRef::Steal(PyList_GetSlice(kept.get(), std::max<Py_ssize_t>(0, k - kMaxFrames), k));
  PyRef lines = PyRef::Steal(PyObject_CallMethod(traceback.get(), "format_list", "O", last.get()));
  PyRef joined = lines ? PyRef::Steal(PyUnicode_Join(empty.get(), lines.get())) : PyRef();
  if (!joined) return text;
  std::string body = Utf8(joined.get());
  while (!body.empty() && body.back() == '\n') body.pop_back();
  bool trimmed = k > kMaxFrames || k < n;
  return text + (trimmed ? "\nTraceback (most recent call last, trimmed):\n"
                                 : "\nTraceback (most recent call last):\n") +
         body;
}

}  // namespace

PyRef PyRef::Borrow(PyObject* o) {
  Py_XINCREF(o);
  return PyRef(o);
}

PyRef::~PyRef() { Py_XDECREF(o_); }

PyRef& PyRef::operator=(PyRef&& other) noexcept {
  if (this != &other) {
    Py_XDECREF(o_);
    o_ = std::exchange(other.o_, nullptr);
  }
  return *this;
}

// The pending exception as an object (normalised, carrying its traceback),
// clearing it; null when none is pending.
static PyRef TakeRaisedException() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyRef::Steal(PyErr_GetRaisedException());
#else
  PyObject *type = nullptr, *raw = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &raw, &tb);
  PyErr_NormalizeException(&type, &raw, &tb);
  if (raw && tb) PyException_SetTraceback(raw, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return PyRef::Steal(raw);
#endif
}

std::string TakePythonErrorMessage() {
  PyRef value = TakeRaisedException();
  if (!value) return "";
  PyRef text = PyRef::Steal(PyObject_Str(value.get()));
  const char* s = text ? PyUnicode_AsUTF8(text.get()) : nullptr;
  std::string out = s ? s : "";
  PyErr_Clear();
  return out;
}

std::string TakePythonError() {
  PyRef value = TakeRaisedException();
  if (!value) return "unknown Python error";
  std::string text = Format(value.get());
  if (text.empty()) {  // formatting itself failed: the bare type and message
    PyErr_Clear();
    text = fmt::format("{}: {}", Py_TYPE(value.get())->tp_name, Utf8(value.get()));
  }
  if (text.size() > kMaxErrorChars) text = text.substr(0, kMaxErrorChars) + "\n... (cut)";
  return text;
}

bool PendingErrorIs(const char* class_name) {
  if (!PyErr_Occurred()) return false;
  // Looking the class up must not disturb the pending exception.
#if PY_VERSION_HEX >= 0x030C0000
  PyObject* pending = PyErr_GetRaisedException();
#else
  PyObject *type = nullptr, *value = nullptr, *tb = nullptr;
  PyErr_Fetch(&type, &value, &tb);
#endif
  PyRef bridge = PyRef::Steal(PyImport_ImportModule("anvil_worker.bridge"));
  PyRef cls = bridge ? PyRef::Steal(PyObject_GetAttrString(bridge.get(), class_name)) : PyRef();
  PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
  PyErr_SetRaisedException(pending);
#else
  PyErr_Restore(type, value, tb);
#endif
  return cls && PyErr_ExceptionMatches(cls.get());
}

Result<PyRef> BridgeFunction(const char* name) {
  PyRef bridge = PyRef::Steal(PyImport_ImportModule("anvil_worker.bridge"));
  PyRef fn = bridge ? PyRef::Steal(PyObject_GetAttrString(bridge.get(), name)) : PyRef();
  if (!fn) return InternalError(fmt::format("anvil_worker.bridge.{}: {}", name, TakePythonError()));
  return fn;
}

}  // namespace anvil::worker::python
