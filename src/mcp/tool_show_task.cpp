// show_task: a task as `anvil task show --json` gives it (cli/task_json.h)
// and, for a backend, what an agent needs before it writes a kernel:
//   "abi": how this task's kernel is called on that backend (the entry point
//          with this task's argument order or names) and the ABI text itself:
//          include/anvil/kernel.h and the opening of the backend's helper
//          header for cpu and cuda; the Triton candidate contract for triton
//          (what python/anvil_worker/triton_gate.py and bridge.py enforce);
//   "knowledge": the docs in knowledge/<backend>/*.md, read at call time in
//          name order (the folder is written by people and grows), or a note
//          saying the folder is missing.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cli/task_json.h"
#include "mcp/source_tree.h"
#include "mcp/tool_handlers.h"
#include "task/task_file.h"
#include "util/subprocess.h"

namespace anvil::mcp {
namespace {

using json = nlohmann::json;

const char* kTritonContract = R"(A Triton candidate is one Python file (.py) with:
- a top-level `def anvil_kernel(...)`, called once per case with the task's inputs, outputs and attributes as keyword
  arguments, by the names the task declares. Inputs and outputs are torch tensors on the GPU; attributes are Python
  scalars (float, int or bool). Its return value is ignored: results go into the outputs.
- its own `@triton.jit` kernels, launched by anvil_kernel. All computation must happen in them.
What the harness guarantees and expects:
- Inputs may be non-contiguous: transposed, strided, or broadcast (stride 0). Read them through their strides
  (x.stride(i), in elements); never assume contiguity. Inputs are read-only unless the task is in place.
- Outputs are pre-allocated, contiguous (row-major) and filled with poison: write every element.
- Shapes may be empty (a dimension of 0): return without launching.
- Launch on the current stream (Triton's default) and do not synchronise; the harness times and synchronises.
- Do not keep results between calls (no caches of outputs keyed on inputs).
Rules a static gate checks before import (breaking one is a rejection) and the run time enforces:
- Imports: only torch, triton, triton.language and math.
- torch is only for allocation and metadata: torch.empty, empty_like, empty_strided, the dtypes (torch.float32,
  float16, bfloat16, ...), torch.device, torch.Size, torch.Tensor. Tensor metadata and views are fine (shape,
  stride(), dtype, device, numel(), is_contiguous(), element_size(), data_ptr(), dim(), size(), view, transpose,
  permute). Tensor methods and torch functions that compute, copy or fill (clone, contiguous, to, float(), sum,
  exp, matmul, copy_, fill_, zero_, ...) are rejected, and so are operators on tensors outside kernels.
- No dynamic code or reflection: eval, exec, compile, __import__, getattr/setattr/delattr, vars, globals, locals,
  open, input, dunder attributes.
- At run time the worker records which GPU kernels ran; kernels that are not the candidate's own (PyTorch doing the
  work) make the verdict suspicious.
Examples: examples/softmax/softmax_triton.py, examples/matmul/matmul_triton.py.)";

// The file's text, or a note saying why it is not there.
json FileEntry(const std::string& path, size_t max_chars = std::string::npos) {
  auto text = ReadFile(path);
  if (!text.ok()) return {{"path", path}, {"error", text.status().message()}};
  std::string t = *text;
  if (t.size() > max_chars) t = t.substr(0, max_chars);
  return {{"path", path}, {"text", t}};
}

// The opening comment of a header: what it offers, without its body.
json HeaderOpening(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return {{"path", path}, {"error", text.status().message()}};
  size_t end = text->find("*/");
  return {{"path", path}, {"text", end == std::string::npos ? *text : text->substr(0, end + 2)},
          {"note", "the opening comment only; read the file for the functions"}};
}

// How this task's kernel is called on `backend`: argument order or names.
std::string CallFor(const Task& task, const std::string& backend) {
  std::vector<std::string> args;
  if (backend == "triton") {
    for (const auto& in : task.inputs) args.push_back(in.name);
    for (const auto& out : task.outputs) args.push_back(out.name);  // an in-place output too, under its own name
    for (const auto& a : task.attrs) args.push_back(a.name);
    std::string list;
    for (const std::string& a : args) list += (list.empty() ? "" : ", ") + a;
    return fmt::format("def anvil_kernel({})  # called with keyword arguments", list);
  }
  std::string out;
  for (size_t i = 0; i < task.inputs.size(); ++i)
    out += fmt::format("call->inputs[{}] = {} ({}{}); ", i, task.inputs[i].name, task.inputs[i].dtype,
                       ShapeToString(task.inputs[i].shape));
  for (size_t i = 0; i < task.outputs.size(); ++i)
    out += fmt::format("call->outputs[{}] = {}{}; ", i, task.outputs[i].name,
                       task.outputs[i].inplace ? fmt::format(" (the input {} itself, in place)", *task.outputs[i].inplace)
                                               : "");
  for (size_t i = 0; i < task.attrs.size(); ++i)
    out += fmt::format("call->attrs[{}] = {} ({}); ", i, task.attrs[i].name, DTypeName(task.attrs[i].value.dtype));
  return fmt::format("extern \"C\" ANVIL_EXPORT int anvil_kernel(const AnvilCall* call); {}",
                     out.empty() ? "" : out.substr(0, out.size() - 2));
}

json AbiFor(const Task& task, const std::string& backend) {
  json abi = {{"backend", backend}, {"call", CallFor(task, backend)}};
  if (backend == "triton") {
    abi["contract"] = kTritonContract;
    abi["file_kind"] = ".py";
    return abi;
  }
  std::string include = SourceTreePath("include");
  abi["file_kind"] = backend == "cpu" ? ".cpp" : ".cu";
  abi["build"] = backend == "cpu"
                     ? "g++ -std=c++17 -O3 -march=native -fno-math-errno -fopenmp -shared, against include/ only "
                       "(no PyTorch): #include \"anvil/cpu_tensor.h\""
                     : "nvcc -O3 -lineinfo for the GPU's own arch (sm_90a on Hopper), -cudart shared, against "
                       "include/ only (no PyTorch): #include \"anvil/cuda_tensor.h\"";
  abi["files"] = json::array({FileEntry(include + "/anvil/kernel.h"),
                              HeaderOpening(include + (backend == "cpu" ? "/anvil/cpu_tensor.h"
                                                                        : "/anvil/cuda_tensor.h")),
                              HeaderOpening(include + "/anvil/abi_helpers.h")});
  return abi;
}

json KnowledgeFor(const std::string& backend) {
  std::string dir = SourceTreePath("knowledge/" + backend);
  json k = {{"dir", dir}};
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    k["docs"] = json::array();
    k["missing"] = fmt::format("{} does not exist in this installation: no knowledge docs for {}; rely on the ABI "
                               "and the examples/ kernels",
                               dir, backend);
    return k;
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".md") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  json docs = json::array();
  for (const std::string& f : files) {
    json d = FileEntry(f);
    d["name"] = std::filesystem::path(f).filename().string();
    docs.push_back(d);
  }
  k["docs"] = docs;
  if (files.empty()) k["missing"] = fmt::format("{} has no .md files yet", dir);
  return k;
}

}  // namespace

ToolResult ShowTaskTool(McpSession&, const json& arguments) {
  std::string path = arguments["task"].get<std::string>();
  auto task = LoadTaskFile(path);
  if (!task.ok()) return ToolError(task.status().message());
  ToolResult result;
  result.structured = cli::TaskDetailJson(*task);
  if (arguments.contains("backend")) {
    std::string backend = arguments["backend"].get<std::string>();
    result.structured["abi"] = AbiFor(*task, backend);
    result.structured["knowledge"] = KnowledgeFor(backend);
  }
  return result;
}

}  // namespace anvil::mcp
