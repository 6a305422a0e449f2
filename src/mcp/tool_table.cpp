#include "mcp/tool_table.h"

#include <fmt/format.h>

#include "mcp/tool_handlers.h"

namespace anvil::mcp {
namespace {

using json = nlohmann::json;

json StringProp(const std::string& description) { return {{"type", "string"}, {"description", description}}; }

json EnumProp(const std::vector<std::string>& values, const std::string& description) {
  return {{"type", "string"}, {"enum", values}, {"description", description}};
}

json Schema(json properties, std::vector<std::string> required) {
  json s = {{"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

const char* kTaskArg =
    "Path of the task file (TOML), absolute or relative to the directory anvil mcp was started in, e.g. "
    "\"examples/softmax/task.toml\". list_tasks finds them.";

json EvaluateSchema() {
  json props = {
      {"task", StringProp(kTaskArg)},
      {"target", EnumProp({"cpu", "cuda", "triton"},
                          "Backend of the candidate: cpu (C++ on this machine's cores, .cpp), cuda (CUDA C++ on the "
                          "first GPU, .cu) or triton (Python with @triton.jit kernels, .py).")},
      {"candidate", StringProp("Path of the kernel source file (.cpp for cpu, .cu for cuda, .py for triton). Give "
                               "this or source, not both.")},
      {"source", StringProp("The kernel's source text, instead of a file: anvil writes it to "
                            "<workspace>/mcp/<hash>.<ext> and evaluates that. Give this or candidate, not both.")},
      {"full_report",
       {{"type", "boolean"},
        {"description", "Return the whole report as `anvil verify --json` prints it: every correctness case and "
                        "the raw timing samples (default false: only the cases that did not pass and no raw "
                        "samples, to keep the answer short; cases_total and cases_passed always count every case)."}}}};
  return Schema(props, {"task", "target"});
}

std::vector<ToolSpec> MakeTools() {
  std::vector<ToolSpec> tools;
  tools.push_back(
      {"list_tasks", "List tasks",
       "List the task files (TOML) under directories: each task's name, description, formula (or reference module), "
       "inputs with dtypes and symbolic shapes, attributes, dtype variants and case counts. Files that do not load "
       "are listed with their error.",
       Schema({{"dirs",
                {{"type", "array"},
                 {"items", {{"type", "string"}}},
                 {"description", "Directories to search recursively for *.toml task files (default: ./examples and "
                                 "./tasks of the directory anvil mcp was started in)."}}}},
              {}),
       {},
       ListTasksTool});
  tools.push_back(
      {"show_task", "Show a task",
       "Show one task: everything list_tasks gives plus the typed graph of the formula per dtype variant. With "
       "backend, also the candidate ABI for that backend (what the kernel must export and how it is called) and "
       "Anvil's knowledge documents for it (basics, API facts, optimisation guidance, pitfalls). Call this before "
       "writing a kernel.",
       Schema({{"task", StringProp(kTaskArg)},
               {"backend", EnumProp({"cpu", "cuda", "triton"},
                                    "The backend you will write the kernel for; adds its ABI and knowledge docs.")}},
              {"task"}),
       {},
       ShowTaskTool});
  tools.push_back(
      {"verify", "Verify a kernel",
       "Prove a candidate kernel against the task's reference on every correctness case (shapes, dtypes, layouts, "
       "value distributions, seeds) in a sandboxed worker. Returns the verdict (correct, build_error, wrong, crash, "
       "timeout, suspicious, ...), the reason, the worst case with its first mismatching values, the build log on a "
       "build error, and evaluation_id (for save_kernel). isError is true when the verdict is not correct.",
       EvaluateSchema(),
       {"candidate", "source"},
       VerifyTool});
  tools.push_back(
      {"bench", "Benchmark a kernel",
       "Verify a candidate, then time it against PyTorch eager (and on GPUs torch.compile) on the task's "
       "performance shapes: medians, spread, speedup (geometric mean of eager / candidate), and on GPUs the "
       "fraction of the measured speed of light. Slower than verify; use it once the kernel is correct.",
       EvaluateSchema(),
       {"candidate", "source"},
       BenchTool});
  tools.push_back(
      {"search_kernels", "Search proven kernels",
       "Full-text search over kernels that Anvil has proven correct (and those saved with save_kernel): task name, "
       "op kinds, dtypes, description. Each hit has the kernel's source, its backend, dtypes, op kinds, speedup "
       "over PyTorch eager when it was timed, and its evaluation_id.",
       Schema({{"query", StringProp("Words to search for, e.g. \"softmax temperature\" or \"rmsnorm\". Empty or "
                                    "absent: no text condition (filters only).")},
               {"backend", EnumProp({"cpu", "cuda", "triton"}, "Only kernels for this backend.")},
               {"dtype", StringProp("Only kernels verified for this dtype, e.g. \"f32\", \"f16\", \"bf16\".")},
               {"op_kind", StringProp("Only kernels whose formula has this kind of op: elementwise, reduction, "
                                      "softmax, norm, matmul, index, ...")},
               {"saved_only", {{"type", "boolean"}, {"description", "Only kernels kept with save_kernel."}}},
               {"limit",
                {{"type", "integer"},
                 {"minimum", 1},
                 {"maximum", 100},
                 {"description", "At most this many hits, best first (default 10)."}}}},
              {}),
       {},
       SearchKernelsTool});
  tools.push_back(
      {"save_kernel", "Save a kernel",
       "Keep a kernel whose evaluation was correct: mark it saved in the store (search_kernels saved_only finds it) "
       "and write its source to a file with a one-line header naming the evaluation and verdict.",
       Schema({{"evaluation_id",
                {{"type", "integer"},
                 {"minimum", 1},
                 {"description", "The evaluation_id a verify or bench call returned (its verdict must be correct)."}}},
               {"path", StringProp("Where to write the kernel source (default: <workspace>/kernels/<task>/"
                                   "<backend>-e<evaluation_id>.<ext>, one file per evaluation, so saving another "
                                   "kernel never replaces one saved before). An existing file at an explicit path "
                                   "is replaced. Relative paths are relative to the directory anvil mcp was "
                                   "started in.")},
               {"note", StringProp("A note stored with the saved kernel (what it is, why it is kept).")}},
              {"evaluation_id"}),
       {},
       SaveKernelTool});
  return tools;
}

std::string TypeName(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Checks one value against one property schema of the subset the table uses.
Status CheckValue(const std::string& where, const json& schema, const json& value) {
  std::string type = schema.value("type", "");
  if (type == "string") {
    if (!value.is_string()) return InvalidInput(fmt::format("{}: expected a string, got {}", where, TypeName(value)));
    if (schema.contains("enum")) {
      for (const json& e : schema["enum"])
        if (e == value) return Status::Ok();
      std::string allowed;
      for (const json& e : schema["enum"]) allowed += (allowed.empty() ? "" : ", ") + e.dump();
      return InvalidInput(fmt::format("{}: expected one of {}, got {}", where, allowed, value.dump()));
    }
    return Status::Ok();
  }
  if (type == "integer") {
    // 3.0 is an integer to JSON Schema; 3.5 is not.
    bool integral = value.is_number_integer() || value.is_number_unsigned() ||
                    (value.is_number_float() && value.get<double>() == static_cast<double>(
                                                                          static_cast<long long>(value.get<double>())));
    if (!integral) return InvalidInput(fmt::format("{}: expected an integer, got {}", where, TypeName(value)));
    double v = value.get<double>();
    if (schema.contains("minimum") && v < schema["minimum"].get<double>())
      return InvalidInput(fmt::format("{}: expected an integer >= {}, got {}", where, schema["minimum"].dump(),
                                      value.dump()));
    if (schema.contains("maximum") && v > schema["maximum"].get<double>())
      return InvalidInput(fmt::format("{}: expected an integer <= {}, got {}", where, schema["maximum"].dump(),
                                      value.dump()));
    return Status::Ok();
  }
  if (type == "boolean") {
    if (!value.is_boolean()) return InvalidInput(fmt::format("{}: expected a boolean, got {}", where, TypeName(value)));
    return Status::Ok();
  }
  if (type == "array") {
    if (!value.is_array())
      return InvalidInput(fmt::format("{}: expected an array, got {}", where, TypeName(value)));
    for (size_t i = 0; i < value.size(); ++i)
      ANVIL_RETURN_IF_ERROR(CheckValue(fmt::format("{}[{}]", where, i), schema["items"], value[i]));
    return Status::Ok();
  }
  return InternalError(fmt::format("{}: the tool table uses schema type '{}', which the validator lacks", where, type));
}

}  // namespace

ToolResult ToolError(const std::string& message) {
  ToolResult r;
  r.structured = {{"error", message}};
  r.is_error = true;
  return r;
}

const std::vector<ToolSpec>& Tools() {
  static const std::vector<ToolSpec> kTools = MakeTools();
  return kTools;
}

const ToolSpec* FindTool(const std::string& name) {
  for (const ToolSpec& t : Tools())
    if (t.name == name) return &t;
  return nullptr;
}

json ToolListing(const ToolSpec& tool) {
  return {{"name", tool.name}, {"title", tool.title}, {"description", tool.description},
          {"inputSchema", tool.input_schema}};
}

Status ValidateArguments(const ToolSpec& tool, const json& arguments) {
  if (!arguments.is_object())
    return InvalidInput(fmt::format("arguments: expected an object, got {}", TypeName(arguments)));
  const json& properties = tool.input_schema["properties"];
  std::string names;
  for (const auto& [name, schema] : properties.items()) names += (names.empty() ? "" : ", ") + name;
  for (const auto& [name, value] : arguments.items()) {
    if (!properties.contains(name))
      return InvalidInput(fmt::format("unknown argument '{}'; this tool takes: {}", name, names));
    ANVIL_RETURN_IF_ERROR(CheckValue(fmt::format("argument '{}'", name), properties[name], value));
  }
  if (tool.input_schema.contains("required"))
    for (const json& r : tool.input_schema["required"]) {
      std::string name = r.get<std::string>();
      if (!arguments.contains(name))
        return InvalidInput(fmt::format("missing required argument '{}' ({})", name,
                                        properties[name].value("description", "")));
    }
  if (!tool.exactly_one_of.empty()) {
    int given = 0;
    for (const std::string& name : tool.exactly_one_of) given += arguments.contains(name) ? 1 : 0;
    if (given != 1) {
      std::string list;
      for (const std::string& name : tool.exactly_one_of) list += (list.empty() ? "'" : "' or '") + name;
      return InvalidInput(fmt::format("{} argument {}': give exactly one", given == 0 ? "missing" : "conflicting",
                                      list));
    }
  }
  return Status::Ok();
}

}  // namespace anvil::mcp
