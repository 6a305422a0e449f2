#include "agent/reference_input.h"

#include <stdlib.h>  // mkstemp
#include <unistd.h>  // close

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "task/task_file.h"
#include "util/subprocess.h"

namespace anvil::agent {
namespace {

using nlohmann::json;

// Input elements above which a probe or a correctness shape is not tried:
// forward runs on the CPU of the machine importing, and the worker runs every
// correctness shape with several layouts and seeds.
constexpr int64_t kMaxProbeElements = int64_t{1} << 22;
constexpr int64_t kMaxCorrectnessElements = int64_t{1} << 20;

int64_t CeilDiv(int64_t v, int64_t d) { return (v + d - 1) / d; }

Result<DescribedValue> ValueFromJson(const json& j, const std::string& what) {
  DescribedValue v;
  if (!j.is_object() || !j.contains("kind")) return ProtocolError("describe_module.py: " + what + " has no kind");
  v.is_tensor = j["kind"] == "tensor";
  if (v.is_tensor) {
    v.dtype = j.value("dtype", "");
    v.shape = j.value("shape", Shape{});
  } else {
    v.scalar_type = j.value("type", "");
    const json& value = j["value"];
    v.number = value.is_boolean() ? (value.get<bool>() ? 1.0 : 0.0) : value.get<double>();
  }
  return v;
}

Result<DescribedOutput> OutputFromJson(const json& j) {
  return DescribedOutput{j.value("dtype", ""), j.value("shape", Shape{})};
}

bool IsSymbolName(const std::string& s) {
  static const std::regex kSymbol("[A-Za-z_][A-Za-z0-9_]*");
  return std::regex_match(s, kSymbol);
}

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string TomlShape(const SymShape& shape) {
  std::vector<std::string> dims;
  for (const Dim& d : shape) dims.push_back(d.is_fixed() ? std::to_string(d.fixed()) : TomlString(d.symbol()));
  return fmt::format("[{}]", fmt::join(dims, ", "));
}

std::string TomlBindings(const Bindings& b, const std::vector<std::string>& order) {
  std::vector<std::string> parts;
  for (const std::string& s : order)
    if (auto it = b.find(s); it != b.end()) parts.push_back(fmt::format("{} = {}", s, it->second));
  return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

std::string TomlNumber(const std::string& dtype, double v) {
  if (dtype == "bool") return v != 0 ? "true" : "false";
  if (dtype != "f64") return fmt::format("{}", static_cast<int64_t>(v));
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{:.17g}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";  // a TOML float, not an integer
  return s;
}

// Symbol order: every symbol that appears in the input shapes, first appearance first.
std::vector<std::string> SymbolOrder(const ModuleTaskSpec& spec) {
  std::vector<std::string> order;
  for (const auto& in : spec.inputs)
    for (const Dim& d : in.shape)
      if (!d.is_fixed() && std::find(order.begin(), order.end(), d.symbol()) == order.end())
        order.push_back(d.symbol());
  return order;
}

// Runs describe_module.py on the module, calling forward once per entry of
// `runs` (one shape per tensor input each). Returns the parsed description.
Result<ModuleDescription> Describe(const ReferenceModuleImport& request, const std::vector<std::vector<Shape>>& runs) {
  const std::string script = std::string(ANVIL_PYTHON_TOOLS_DIR) + "/anvil_tools/describe_module.py";
  std::string out_path =
      (std::filesystem::temp_directory_path() / fmt::format("anvil-describe-{}-XXXXXX", getpid())).string();
  int fd = mkstemp(out_path.data());
  if (fd < 0) return IoError("cannot create a temporary file for describe_module.py's answer");
  close(fd);
  // An empty run list asks for the description alone (no forward call).
  std::vector<std::string> argv = {request.python, script,   request.module_path, "--output",
                                   out_path,       "--runs", json(runs).dump()};
  Result<ProcessResult> run = RunProcess(argv, request.timeout_s);
  Result<std::string> answer = ReadFile(out_path);
  std::error_code ec;
  std::filesystem::remove(out_path, ec);
  if (!run.ok())
    return IoError(fmt::format("{}: cannot run {} to read it: {}", request.module_path, request.python,
                               run.status().message()));
  const ProcessResult& p = *run;
  std::string tail = p.output.size() > 1500 ? "..." + p.output.substr(p.output.size() - 1500) : p.output;
  if (p.timed_out)
    return IoError(fmt::format("{}: reading it with {} took longer than {:.0f} s (get_inputs or forward too slow?)",
                               request.module_path, request.python, request.timeout_s));
  if (!answer.ok() || answer->empty())
    return IoError(fmt::format("{}: {} {} failed ({}) without an answer; is torch importable there? Set "
                               "ANVIL_PYTHON or --python.\n{}",
                               request.module_path, request.python, script,
                               p.signal ? fmt::format("signal {}", p.signal) : fmt::format("exit code {}", p.exit_code),
                               tail));
  return ParseModuleDescription(*answer);
}

}  // namespace

Result<ModuleDescription> ParseModuleDescription(const std::string& json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ProtocolError("describe_module.py printed something not JSON");
  if (j.contains("error")) return InvalidInput(j["error"].get<std::string>());
  ModuleDescription d;
  try {
    d.file = j.value("file", "");
    d.forward_params = j.value("forward_params", std::vector<std::string>{});
    for (size_t k = 0; k < j["inputs"].size(); ++k) {
      ANVIL_ASSIGN_OR_RETURN(DescribedValue v, ValueFromJson(j["inputs"][k], fmt::format("input {}", k)));
      d.inputs.push_back(std::move(v));
    }
    for (size_t k = 0; k < j["init_inputs"].size(); ++k) {
      ANVIL_ASSIGN_OR_RETURN(DescribedValue v, ValueFromJson(j["init_inputs"][k], fmt::format("init input {}", k)));
      d.init_inputs.push_back(std::move(v));
    }
    d.held = j.value("held", std::vector<std::string>{});
    const json globals = j.value("globals", json::object());  // a named copy: items() refers into it
    for (const auto& [name, value] : globals.items())
      if (value.is_number_integer()) d.globals[name] = value.get<int64_t>();
    const json runs = j.value("runs", json::array());
    for (const json& r : runs) {
      DescribedRun run;
      run.shapes = r.value("shapes", std::vector<Shape>{});
      run.error = r.value("error", "");
      const json outputs = r.value("outputs", json::array());
      for (const json& o : outputs) {
        ANVIL_ASSIGN_OR_RETURN(DescribedOutput out, OutputFromJson(o));
        run.outputs.push_back(std::move(out));
      }
      d.runs.push_back(std::move(run));
    }
  } catch (const json::exception& e) {
    return ProtocolError(std::string("describe_module.py's JSON is not as expected: ") + e.what());
  }
  return d;
}

SymbolicInputs AssignSymbols(const ModuleDescription& description) {
  SymbolicInputs s;
  std::map<int64_t, std::string> by_size;
  std::set<std::string> taken(description.forward_params.begin(), description.forward_params.end());
  // A global names a size when it is the only integer global of that value.
  std::map<int64_t, std::vector<std::string>> globals_of;
  for (const auto& [name, value] : description.globals)
    if (IsSymbolName(name)) globals_of[value].push_back(name);
  for (const DescribedValue& in : description.inputs) {
    if (!in.is_tensor) continue;
    SymShape shape;
    for (int64_t size : in.shape) {
      if (size == 1) {
        shape.push_back(Dim::Fixed(1));
        continue;
      }
      auto it = by_size.find(size);
      if (it == by_size.end()) {
        std::string name;
        auto g = globals_of.find(size);
        if (g != globals_of.end() && g->second.size() == 1 && !taken.count(g->second[0])) name = g->second[0];
        for (int k = static_cast<int>(s.symbols.size()); name.empty() || taken.count(name); ++k)
          name = fmt::format("D{}", k);
        taken.insert(name);
        s.symbols.push_back(name);
        s.sizes[name] = size;
        it = by_size.emplace(size, name).first;
      }
      shape.push_back(Dim::Symbol(it->second));
    }
    s.tensor_shapes.push_back(std::move(shape));
  }
  return s;
}

std::vector<Shape> TensorShapesAt(const SymbolicInputs& symbolic, const Bindings& bindings) {
  std::vector<Shape> shapes;
  for (const SymShape& sym : symbolic.tensor_shapes) {
    Result<Shape> shape = Concretize(sym, bindings);  // every symbol is bound: the bindings come from `symbolic`
    shapes.push_back(shape.ok() ? *shape : Shape{});
  }
  return shapes;
}

namespace {

bool WithinElements(const SymbolicInputs& symbolic, const Bindings& b, int64_t limit) {
  for (const Shape& s : TensorShapesAt(symbolic, b))
    if (NumElements(s) > limit) return false;
  return true;
}

}  // namespace

std::vector<Bindings> OutputProbes(const SymbolicInputs& symbolic) {
  std::vector<Bindings> probes;
  for (int64_t factor : {64, 32, 16, 8}) {
    // Each symbol its own value (>= 2, so no dim looks like a broadcast dim),
    // then the same probe shifted by one: the pair differs at every symbol.
    Bindings b;
    std::set<int64_t> used;
    for (const std::string& s : symbolic.symbols) {
      int64_t v = std::max<int64_t>(2, CeilDiv(symbolic.sizes.at(s), factor));
      while (used.count(v)) ++v;
      used.insert(v);
      b[s] = v;
    }
    Bindings shifted = b;
    for (auto& [s, v] : shifted) ++v;
    for (const Bindings& p : {b, shifted})
      if (WithinElements(symbolic, p, kMaxProbeElements) && std::find(probes.begin(), probes.end(), p) == probes.end())
        probes.push_back(p);
  }
  return probes;
}

std::vector<Bindings> CorrectnessCandidates(const SymbolicInputs& symbolic) {
  std::vector<Bindings> out;
  auto add = [&](auto size_of) {
    Bindings b;
    for (const std::string& s : symbolic.symbols) b[s] = size_of(symbolic.sizes.at(s));
    if (WithinElements(symbolic, b, kMaxCorrectnessElements) && std::find(out.begin(), out.end(), b) == out.end())
      out.push_back(b);
  };
  add([](int64_t v) { return std::max<int64_t>(1, CeilDiv(v, 64)); });
  add([](int64_t v) { return std::max<int64_t>(3, CeilDiv(v, 32) | 1); });  // odd: no vector width divides it
  add([](int64_t) { return int64_t{1}; });
  add([](int64_t v) { return std::max<int64_t>(1, CeilDiv(v, 16)); });
  return out;
}

Result<SymShape> MatchOutputShape(const Shape& at_a, const Bindings& a, const Shape& at_b, const Bindings& b,
                                  const std::vector<std::string>& symbols, const std::string& what) {
  if (at_a.size() != at_b.size())
    return InvalidInput(fmt::format("{} has rank {} at one size and {} at another; a task's output has one rank",
                                    what, at_a.size(), at_b.size()));
  SymShape shape;
  for (size_t d = 0; d < at_a.size(); ++d) {
    std::string match;
    for (const std::string& s : symbols)
      if (a.at(s) == at_a[d] && b.at(s) == at_b[d]) {
        match = s;
        break;
      }
    if (!match.empty()) shape.push_back(Dim::Symbol(match));
    else if (at_a[d] == at_b[d]) shape.push_back(Dim::Fixed(at_a[d]));
    else
      return InvalidInput(fmt::format(
          "{} dim {} is {} at inputs {{{}}} and {} at {{{}}}: not one input dim's size nor a constant (a product "
          "such as a flatten?); a task's shapes are symbols and integers, so write this task by hand",
          what, d, at_a[d], BindingsToString(a), at_b[d], BindingsToString(b)));
  }
  return shape;
}

std::string RenderModuleTask(const ModuleTaskSpec& spec) {
  const std::vector<std::string> order = SymbolOrder(spec);
  std::string t;
  t += fmt::format("# {}\n", spec.source_note);
  t += "# Shapes: dims of equal size in get_inputs() share a symbol (a heuristic: check that the sizes\n"
       "# the module needs equal are the ones that share one). [performance] keeps the file's sizes;\n"
       "# [correctness] holds smaller sizes on which the module ran and gave outputs of these shapes.\n";
  t += fmt::format("name = {}\n", TomlString(spec.name));
  t += fmt::format("description = {}\n", TomlString(spec.description));
  t += fmt::format("\n[reference]\nmodule = {}\n", TomlString(spec.module));
  for (const auto& in : spec.inputs)
    t += fmt::format("\n[[inputs]]\nname = {}\ndtype = {}\nshape = {}\n", TomlString(in.name), TomlString(in.dtype),
                     TomlShape(in.shape));
  for (const auto& a : spec.attrs)
    t += fmt::format("\n[[attrs]]\nname = {}\ndtype = {}\nvalue = {}\n", TomlString(a.name), TomlString(a.dtype),
                     TomlNumber(a.dtype, a.value));
  for (const auto& o : spec.outputs)
    t += fmt::format("\n[[outputs]]\nname = {}\ndtype = {}\nshape = {}\n", TomlString(o.name), TomlString(o.dtype),
                     TomlShape(o.shape));
  std::vector<std::string> cases;
  for (const Bindings& b : spec.correctness) cases.push_back(TomlBindings(b, order));
  t += fmt::format("\n[correctness]\nshapes = [{}]\n", fmt::join(cases, ", "));
  t += fmt::format("\n[performance]\nshapes = [{}]\n", TomlBindings(spec.performance, order));
  t += "\n[compare]\nmode = \"allclose\"\n";
  // The module's code is opaque, but an input dim that no output keeps was
  // consumed: summed over (a matmul's K, a mean's dim) or reduced. Its size
  // is the reduction length the tolerance policy scales with (as a
  // formula's inferred one is); with none, the default 1 is the strictest.
  std::vector<std::string> consumed;
  for (const std::string& s : order) {
    bool in_output = false;
    for (const auto& o : spec.outputs)
      for (const Dim& d : o.shape) in_output |= !d.is_fixed() && d.symbol() == s;
    if (!in_output) consumed.push_back(s);
  }
  if (consumed.empty()) {
    t += "# Every input dim is kept by an output: elementwise or per-row work, reduction_length 1 (the default).\n";
  } else {
    std::vector<std::string> quoted;
    for (const std::string& s : consumed) quoted.push_back(TomlString(s));
    t += "# Input dims no output keeps were reduced over: they set the tolerance's reduction length\n"
         "# (docs/verification-policy.md). Check it for this module.\n";
    t += fmt::format("reduction_length = [{}]\n", fmt::join(quoted, ", "));
  }
  return t;
}

std::string TaskNameForModule(const std::string& module_path) {
  std::string stem = std::filesystem::path(module_path).stem().string(), name;
  for (char c : stem) {
    unsigned char u = static_cast<unsigned char>(c);
    char l = static_cast<char>(std::tolower(u));
    name += (std::isalnum(u) || l == '_' || l == '.' || l == '-') ? l : '_';
  }
  return name.empty() ? "module" : name;
}

Result<std::string> TaskTextFromReferenceModule(const ReferenceModuleImport& request) {
  const std::string& path = request.module_path;
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(path, ec).lexically_normal().string();
  if (!std::filesystem::is_regular_file(absolute, ec)) return NotFound(fmt::format("no module file '{}'", path));
  static const std::regex kName("[a-z0-9_.-]+");
  if (!std::regex_match(request.task_name, kName))
    return InvalidInput(fmt::format("task name '{}' may use a-z, 0-9, '_', '.', '-' only", request.task_name));

  ANVIL_ASSIGN_OR_RETURN(ModuleDescription first, Describe(request, {}));
  if (!first.held.empty())
    return InvalidInput(fmt::format(
        "{}: Model holds {}; a candidate kernel receives only the task's inputs, so a reference may hold no "
        "parameters or buffers: rewrite the module to take them as inputs of forward (and return them from "
        "get_inputs())",
        path, fmt::join(first.held, ", ")));
  bool seen_scalar = false;
  for (size_t k = 0; k < first.inputs.size(); ++k) {
    if (!first.inputs[k].is_tensor) seen_scalar = true;
    else if (seen_scalar)
      return InvalidInput(fmt::format(
          "{}: get_inputs()[{}] is a tensor after a scalar; a task passes forward its tensor inputs first and "
          "then its attributes, so reorder forward's arguments (tensors first)",
          path, k));
  }
  if (!std::any_of(first.inputs.begin(), first.inputs.end(), [](const DescribedValue& v) { return v.is_tensor; }))
    return InvalidInput(path + ": get_inputs() returns no tensor; a task needs at least one tensor input");

  SymbolicInputs symbolic = AssignSymbols(first);
  std::vector<Bindings> probes = OutputProbes(symbolic);
  std::vector<Bindings> candidates = CorrectnessCandidates(symbolic);
  std::vector<std::vector<Shape>> runs;
  for (const Bindings& b : probes) runs.push_back(TensorShapesAt(symbolic, b));
  for (const Bindings& b : candidates) runs.push_back(TensorShapesAt(symbolic, b));
  ANVIL_ASSIGN_OR_RETURN(ModuleDescription ran, Describe(request, runs));
  if (ran.runs.size() != runs.size())
    return ProtocolError(fmt::format("{}: describe_module.py answered {} runs for {}", path, ran.runs.size(),
                                     runs.size()));

  // Two probes that ran and differ at every symbol (consecutive probes do by construction).
  int a = -1, b = -1;
  for (size_t i = 0; i < probes.size() && b < 0; ++i) {
    if (!ran.runs[i].error.empty()) continue;
    if (a < 0) {
      a = static_cast<int>(i);
      continue;
    }
    bool all_differ = true;
    for (const std::string& s : symbolic.symbols) all_differ = all_differ && probes[a].at(s) != probes[i].at(s);
    if (all_differ) b = static_cast<int>(i);
  }
  if (b < 0) {
    std::string why = "no probe fitted the size limit";
    for (size_t i = 0; i < probes.size(); ++i)
      if (!ran.runs[i].error.empty()) {
        why = fmt::format("at inputs {{{}}}: {}", BindingsToString(probes[i]), ran.runs[i].error);
        break;
      }
    return InvalidInput(fmt::format("{}: forward did not run on two sets of small sizes, so the outputs' shapes "
                                    "are unknown ({})", path, why));
  }
  const DescribedRun& run_a = ran.runs[a];
  const DescribedRun& run_b = ran.runs[b];
  if (run_a.outputs.size() != run_b.outputs.size() || run_a.outputs.empty())
    return InvalidInput(fmt::format("{}: forward returned {} and then {} outputs", path, run_a.outputs.size(),
                                    run_b.outputs.size()));

  ModuleTaskSpec spec;
  spec.name = request.task_name;
  std::vector<std::string> init;
  for (const DescribedValue& v : first.init_inputs) init.push_back(TomlNumber(v.scalar_type == "float" ? "f64" :
                                                                              v.scalar_type == "bool" ? "bool" : "i64",
                                                                              v.number));
  spec.description = fmt::format("KernelBench-style problem {} (Model({})), imported by anvil",
                                 std::filesystem::path(path).filename().string(), fmt::join(init, ", "));
  spec.module = request.module_in_task.empty() ? absolute : request.module_in_task;
  spec.source_note = fmt::format("Imported from {} by anvil (src/agent/reference_input.cpp).",
                                 std::filesystem::path(path).filename().string());
  std::set<std::string> names;
  size_t tensor_index = 0;
  for (size_t k = 0; k < first.inputs.size(); ++k) {
    const DescribedValue& v = first.inputs[k];
    std::string name = k < first.forward_params.size() ? first.forward_params[k] : fmt::format("x{}", k);
    if (!IsSymbolName(name) || names.count(name)) name = fmt::format("x{}", k);
    while (names.count(name)) name += "_";
    names.insert(name);
    if (v.is_tensor) {
      spec.inputs.push_back({name, v.dtype, symbolic.tensor_shapes[tensor_index++]});
    } else {
      const std::string dtype = v.scalar_type == "float" ? "f64" : v.scalar_type == "bool" ? "bool" : "i64";
      spec.attrs.push_back({name, dtype, v.number});
    }
  }
  for (size_t j = 0; j < run_a.outputs.size(); ++j) {
    const std::string name = run_a.outputs.size() == 1 ? "out" : fmt::format("out{}", j);
    ANVIL_ASSIGN_OR_RETURN(SymShape shape,
                           MatchOutputShape(run_a.outputs[j].shape, probes[a], run_b.outputs[j].shape, probes[b],
                                            symbolic.symbols, fmt::format("{}: output {}", path, j)));
    spec.outputs.push_back({name, run_a.outputs[j].dtype, std::move(shape)});
  }
  // Correctness shapes: those forward ran on with outputs of the declared shapes.
  std::vector<std::string> dropped;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const DescribedRun& r = ran.runs[probes.size() + i];
    bool fits = r.error.empty() && r.outputs.size() == spec.outputs.size();
    for (size_t j = 0; fits && j < spec.outputs.size(); ++j) {
      Result<Shape> want = Concretize(spec.outputs[j].shape, candidates[i]);
      fits = want.ok() && *want == r.outputs[j].shape && r.outputs[j].dtype == spec.outputs[j].dtype;
    }
    if (fits) spec.correctness.push_back(candidates[i]);
    else dropped.push_back(r.error.empty() ? "outputs of other shapes" : r.error);
  }
  if (spec.correctness.empty())
    return InvalidInput(fmt::format("{}: forward failed on every small size tried, so the task would have no "
                                    "correctness cases (first: {})",
                                    path, dropped.empty() ? "none fitted the size limit" : dropped.front()));
  spec.performance = symbolic.sizes;

  // The text must load: check it with the module at its absolute path.
  ModuleTaskSpec check = spec;
  check.module = absolute;
  Result<Task> parsed = ParseTask(RenderModuleTask(check), absolute + ".toml");
  if (!parsed.ok())
    return InternalError(fmt::format("{}: the task written for it does not load: {}", path,
                                     parsed.status().message()));
  return RenderModuleTask(spec);
}

Result<std::string> TaskTextFromReferenceModule(const std::string& module_path, const std::string& python,
                                                const std::string& task_name) {
  ReferenceModuleImport request;
  request.module_path = module_path;
  request.python = python;
  request.task_name = task_name;
  return TaskTextFromReferenceModule(request);
}

}  // namespace anvil::agent
