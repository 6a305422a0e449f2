#include <Python.h>  // first, as Python's documentation asks

#include "worker/python/python_runtime.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "worker/python/compile_watch.h"
#include "worker/python/py_ref.h"

namespace anvil::worker::python {
namespace {

struct RuntimeState {
  bool initialized = false;
  bool triton = false;
  std::string scratch_dir;
};

RuntimeState& State() {
  static RuntimeState state;
  return state;
}

Status ImportModule(const char* module, const char* what_to_do) {
  PyRef m = PyRef::Steal(PyImport_ImportModule(module));
  if (m) return Status::Ok();
  return Unsupported(fmt::format("the worker's Python ({}) cannot import {}: {}\n{}", ANVIL_PYTHON_EXECUTABLE,
                                 module, TakePythonError(), what_to_do));
}

// Distinct files mapped into this process whose name starts with `prefix`.
std::set<std::string> MappedFiles(const std::string& prefix) {
  std::set<std::string> files;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if (std::filesystem::path(path).filename().string().rfind(prefix, 0) == 0) files.insert(path);
  }
  return files;
}

// Sets the environment Triton and Inductor read at import: their caches and
// temporary files go to the scratch directory (the only place the sandbox
// lets the worker write), and Inductor compiles in this process rather than
// in a pool of worker processes (seccomp forbids creating processes).
Status PrepareEnvironment(const std::string& scratch_dir) {
  namespace fs = std::filesystem;
  const std::pair<const char*, const char*> dirs[] = {
      {"TRITON_CACHE_DIR", "triton-cache"}, {"TORCHINDUCTOR_CACHE_DIR", "inductor-cache"}, {"TMPDIR", "tmp"}};
  for (const auto& [variable, name] : dirs) {
    fs::path dir = fs::path(scratch_dir) / name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError(fmt::format("cannot create {} for {}: {}", dir.string(), variable, ec.message()));
    setenv(variable, dir.c_str(), 1);
  }
  setenv("TORCHINDUCTOR_COMPILE_THREADS", "1", 1);
  return Status::Ok();
}

Status StartInterpreter() {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // SIGINT and friends stay the worker's
  config.write_bytecode = 0;           // sys.dont_write_bytecode: no __pycache__ beside candidates
  config.parse_argv = 0;
  // The interpreter derives sys.prefix (and a venv's site-packages, through
  // pyvenv.cfg) from its program name.
  PyStatus status = PyConfig_SetBytesString(&config, &config.program_name, ANVIL_PYTHON_EXECUTABLE);
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    return InternalError(fmt::format("could not start the embedded Python ({}): {}", ANVIL_PYTHON_EXECUTABLE,
                                     status.err_msg ? status.err_msg : "no reason given"));
  PyObject* path = PySys_GetObject("path");  // borrowed
  PyRef dir = PyRef::Steal(PyUnicode_FromString(ANVIL_PYTHON_DIR));
  if (!path || !dir || PyList_Insert(path, 0, dir.get()) != 0)
    return InternalError("could not put " ANVIL_PYTHON_DIR " on sys.path: " + TakePythonError());
  return Status::Ok();
}

// Python's torch must run on the libtorch this worker links: two copies
// would mean two CUDA caching allocators and no shared current stream.
Status CheckOneLibtorch() {
  std::set<std::string> copies = MappedFiles("libtorch_cpu.so");
  if (copies.size() <= 1) return Status::Ok();
  std::string list;
  for (const auto& c : copies) list += "\n  " + c;
  return Unsupported(fmt::format("the worker's Python ({}) loaded a different libtorch than the worker links:{}\n"
                                 "build anvil-worker against that Python's torch (Torch_DIR=<torch>/share/cmake/Torch)",
                                 ANVIL_PYTHON_EXECUTABLE, list));
}

}  // namespace

Status Initialize(const std::string& scratch_dir, bool with_triton) {
  RuntimeState& state = State();
  if (state.initialized && scratch_dir != state.scratch_dir)
    return InternalError(fmt::format("the embedded Python was initialised for scratch directory {}, not {}",
                                     state.scratch_dir, scratch_dir));
  if (!state.initialized) {
    ANVIL_RETURN_IF_ERROR(PrepareEnvironment(scratch_dir));
    if (!Py_IsInitialized()) ANVIL_RETURN_IF_ERROR(StartInterpreter());
    ANVIL_RETURN_IF_ERROR(RegisterCompileWatch());
    ANVIL_RETURN_IF_ERROR(ImportModule("torch", "install PyTorch for that interpreter, or configure the build "
                                                "with -DPython3_EXECUTABLE=<a python that has torch>"));
    ANVIL_RETURN_IF_ERROR(CheckOneLibtorch());
    ANVIL_RETURN_IF_ERROR(ImportModule("anvil_worker.bridge", "is " ANVIL_PYTHON_DIR " readable by the worker?"));
    state.initialized = true;
    state.scratch_dir = scratch_dir;
  }
  if (with_triton && !state.triton) {
    ANVIL_RETURN_IF_ERROR(
        ImportModule("triton", "install Triton for that interpreter (it comes with PyTorch's CUDA wheels)"));
    state.triton = true;
  }
  return Status::Ok();
}

bool Initialized(bool with_triton) { return State().initialized && (!with_triton || State().triton); }

}  // namespace anvil::worker::python
