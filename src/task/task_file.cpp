#include "task/task_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <toml++/toml.h>

#include "formula/formula.h"
#include "task/task_check.h"

namespace anvil {
namespace {

// Formats "path:line:col: message" for a node (or the file when no position).
std::string Where(const std::string& origin, const toml::source_region& src) {
  if (src.begin.line == 0) return origin;
  return fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column);
}

class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}

  Status Error(const toml::node* node, const std::string& msg) const {
    return InvalidInput(fmt::format("{}: {}", node ? Where(origin_, node->source()) : origin_, msg));
  }
  Status Error(const toml::node_view<const toml::node>& view, const std::string& msg) const {
    return Error(view.node(), msg);
  }

  Result<std::string> String(const toml::table& t, std::string_view key, bool required,
                             const std::string& fallback = "") const {
    auto v = t[key];
    if (!v) {
      if (required) return Error(&t, fmt::format("missing required key '{}'", key));
      return fallback;
    }
    auto s = v.value<std::string>();
    if (!s || !v.is_string()) return Error(v, fmt::format("'{}' must be a string", key));
    return *s;
  }

  Result<SymShape> Shape(const toml::node_view<const toml::node>& v, const std::string& what) const {
    const toml::array* arr = v.as_array();
    if (!arr) return Error(v, what + ": shape must be an array like [\"B\", \"N\"] or [4, \"N\"]");
    SymShape shape;
    static const std::regex kSymbol("[A-Za-z_][A-Za-z0-9_]*");
    for (const toml::node& d : *arr) {
      if (auto i = d.value<int64_t>(); i && d.is_integer()) {
        if (*i < 0) return Error(&d, what + ": a fixed dim must be >= 0");
        shape.push_back(Dim::Fixed(*i));
      } else if (auto s = d.value<std::string>()) {
        if (!std::regex_match(*s, kSymbol))
          return Error(&d, fmt::format("{}: '{}' is not a dim symbol (letters, digits, _)", what, *s));
        shape.push_back(Dim::Symbol(*s));
      } else {
        return Error(&d, what + ": each dim is an integer or a symbol string");
      }
    }
    return shape;
  }

  Result<ValueDomain> Domain(const toml::node_view<const toml::node>& v, const std::string& what) const {
    ValueDomain d;
    if (!v) return d;
    if (auto s = v.value<std::string>(); s && v.is_string()) {
      static const std::map<std::string, ValueDomain::Kind> kKinds = {
          {"any", ValueDomain::Kind::kAny},         {"positive", ValueDomain::Kind::kPositive},
          {"nonnegative", ValueDomain::Kind::kNonNegative}, {"nonzero", ValueDomain::Kind::kNonZero},
          {"unit", ValueDomain::Kind::kUnit}};
      auto it = kKinds.find(*s);
      if (it == kKinds.end())
        return Error(v, fmt::format("{}: unknown domain '{}'; expected any, positive, nonnegative, nonzero, "
                                    "unit or [lo, hi]", what, *s));
      d.kind = it->second;
      return d;
    }
    const toml::array* arr = v.as_array();
    if (!arr || arr->size() != 2 || !(*arr)[0].is_number() || !(*arr)[1].is_number())
      return Error(v, what + ": domain is a name (positive, ...) or a range [lo, hi]");
    d.kind = ValueDomain::Kind::kRange;
    d.lo = (*arr)[0].value<double>().value();
    d.hi = (*arr)[1].value<double>().value();
    if (!(d.lo < d.hi)) return Error(v, what + ": domain range needs lo < hi");
    return d;
  }

  Result<std::vector<Bindings>> ShapeList(const toml::table& section, const std::string& section_name) const {
    auto v = section["shapes"];
    const toml::array* arr = v.as_array();
    if (!arr || arr->empty())
      return Error(v ? v.node() : &section,
                   fmt::format("[{}] needs shapes = [{{N = 7}}, ...]: one table of dim sizes per case", section_name));
    std::vector<Bindings> out;
    for (const toml::node& n : *arr) {
      const toml::table* t = n.as_table();
      if (!t) return Error(&n, "each shape is an inline table of sizes, e.g. {R = 7, C = 1000}");
      Bindings b;
      for (const auto& [k, val] : *t) {
        auto size = val.value<int64_t>();
        if (!size || !val.is_integer() || *size < 0)
          return Error(&val, fmt::format("size of '{}' must be an integer >= 0", k.str()));
        b[std::string(k.str())] = *size;
      }
      out.push_back(std::move(b));
    }
    return out;
  }

  Result<std::vector<std::string>> Words(const toml::table& t, std::string_view key,
                                         const std::vector<std::string>& allowed,
                                         std::vector<std::string> fallback) const {
    auto v = t[key];
    if (!v) return fallback;
    const toml::array* arr = v.as_array();
    if (!arr || arr->empty()) return Error(v, fmt::format("'{}' must be a non-empty array of strings", key));
    std::vector<std::string> out;
    for (const toml::node& n : *arr) {
      auto s = n.value<std::string>();
      if (!s || std::find(allowed.begin(), allowed.end(), *s) == allowed.end())
        return Error(&n, fmt::format("'{}' entries must be one of: {}", key, fmt::join(allowed, ", ")));
      out.push_back(*s);
    }
    return out;
  }

  // A string key with a fixed set of values (`read = "none"`): `fallback`
  // when absent; an unknown value is refused with the list of allowed ones.
  template <typename E>
  Result<E> Keyword(const toml::table& t, std::string_view key, const std::string& what,
                    const std::vector<std::pair<std::string, E>>& allowed, E fallback) const {
    auto v = t[key];
    if (!v) return fallback;
    std::vector<std::string> names;
    for (const auto& [name, value] : allowed) names.push_back("\"" + name + "\"");
    auto s = v.value<std::string>();
    if (!s || !v.is_string())
      return Error(v, fmt::format("{}: '{}' must be a string, one of {}", what, key, fmt::join(names, ", ")));
    for (const auto& [name, value] : allowed)
      if (name == *s) return value;
    return Error(v, fmt::format("{}: unknown {} = \"{}\"; expected one of {}", what, key, *s, fmt::join(names, ", ")));
  }

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

Result<ScalarValue> AttrValue(const Reader& r, const toml::node_view<const toml::node>& v, DType dtype,
                              const std::string& name) {
  if (!v) return r.Error(v, fmt::format("attribute '{}' needs a value", name));
  if (dtype == DType::kBool) {
    auto b = v.value<bool>();
    if (!b || !v.is_boolean()) return r.Error(v, fmt::format("attribute '{}' is bool: value = true|false", name));
    return ScalarValue::Bool(*b);
  }
  if (IsFloating(dtype)) {
    auto f = v.value<double>();
    if (!f || !v.is_number()) return r.Error(v, fmt::format("attribute '{}' needs a number", name));
    return ScalarValue::Float(*f, dtype);
  }
  auto i = v.value<int64_t>();
  if (!i || !v.is_integer()) return r.Error(v, fmt::format("attribute '{}' is {}: needs an integer", name, DTypeName(dtype)));
  return ScalarValue::Int(*i, dtype);
}

// Where the formula's first character sits in the file, so formula errors
// ("formula:2:7: ...") can point into the task file. A multi-line string
// whose opening quotes end the line starts on the next line (TOML drops that
// newline). Columns are exact unless escapes precede the error on its line.
struct TextPosition {
  int64_t line = 0, column = 0;
};

TextPosition FormulaStart(const toml::source_region& src, const std::string& text) {
  TextPosition p{static_cast<int64_t>(src.begin.line), static_cast<int64_t>(src.begin.column) + 1};
  // Find the value's opening quote(s) at that position in the text.
  size_t offset = 0;
  for (int64_t line = 1; line < p.line && offset != std::string::npos; ++line) {
    offset = text.find('\n', offset);
    if (offset != std::string::npos) ++offset;
  }
  if (offset == std::string::npos) return p;
  size_t at = offset + static_cast<size_t>(src.begin.column - 1);
  if (text.compare(at, 3, "\"\"\"") == 0 || text.compare(at, 3, "'''") == 0) {
    size_t after = at + 3;
    if (after < text.size() && (text[after] == '\n' || text.compare(after, 2, "\r\n") == 0)) return {p.line + 1, 1};
    return {p.line, p.column + 2};
  }
  return p;
}

// Rewrites "formula:L:C: what" in a task error into "<origin>:<line>:<col>: what".
Status PointIntoFile(const Status& s, const std::string& origin, TextPosition start) {
  static const std::regex kPos(R"(formula:(\d+):(\d+): )");
  std::smatch m;
  const std::string& msg = s.message();
  if (start.line == 0 || !std::regex_search(msg, m, kPos)) return s.Context(origin);
  int64_t line = std::stoll(m[1].str()), col = std::stoll(m[2].str());
  int64_t file_line = start.line + line - 1;
  int64_t file_col = line == 1 ? start.column + col - 1 : col;
  std::string where = fmt::format("{}:{}:{}: ", origin, file_line, file_col);
  std::string context = m.prefix().str();  // e.g. "dtypes T=f16: "
  if (context.size() >= 2 && context.compare(context.size() - 2, 2, ": ") == 0) context.resize(context.size() - 2);
  return Status::Error(s.code(), fmt::format("{}{} (formula line {}{}{})", where, m.suffix().str(), line,
                                             context.empty() ? "" : ", ", context));
}

// The [reference] table: `module = "model.py"` (relative to the task file's
// folder) and optionally `class = "Model"`. Reads the module's text now, so
// what is verified is what was loaded.
Result<ModuleReference> ParseModuleReference(const toml::table& t, const Reader& r, const std::string& origin) {
  ModuleReference m;
  ANVIL_ASSIGN_OR_RETURN(std::string file, r.String(t, "module", true));
  ANVIL_ASSIGN_OR_RETURN(m.class_name, r.String(t, "class", false, "Model"));
  static const std::regex kIdentifier("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(m.class_name, kIdentifier)) return r.Error(t["class"], "class must be a Python class name");
  std::filesystem::path path(file);
  if (path.is_relative()) path = std::filesystem::path(origin).parent_path() / path;
  m.path = path.lexically_normal().string();
  std::ifstream in(m.path);
  if (!in) return r.Error(t["module"], fmt::format("cannot open the reference module '{}'", m.path));
  std::stringstream ss;
  ss << in.rdbuf();
  m.source = ss.str();
  return m;
}

Result<Task> ParseTable(const toml::table& root, const Reader& r, const std::string& text, const std::string& origin,
                        TextPosition& formula_start) {
  Task task;
  static const std::regex kName("[a-z0-9_.-]+");
  ANVIL_ASSIGN_OR_RETURN(task.name, r.String(root, "name", true));
  if (!std::regex_match(task.name, kName))
    return r.Error(root["name"], "task name may use a-z, 0-9, '_', '.', '-' only");
  ANVIL_ASSIGN_OR_RETURN(task.description, r.String(root, "description", false));
  ANVIL_ASSIGN_OR_RETURN(task.reference_author, r.String(root, "reference_author", false));
  if (auto ref = root["reference"]) {
    const toml::table* t = ref.as_table();
    if (!t) return r.Error(ref, "[reference] is a table: module = \"model.py\" (a PyTorch module file)");
    if (root["formula"]) return r.Error(root["formula"], "a task has one reference: a formula or a [reference] module");
    ANVIL_ASSIGN_OR_RETURN(task.module, ParseModuleReference(*t, r, origin));
  } else {
    if (!root["formula"])
      return r.Error(&root, "missing the reference: formula = \"...\" or a [reference] table with module = \"...\"");
    ANVIL_ASSIGN_OR_RETURN(task.formula, r.String(root, "formula", true));
    formula_start = FormulaStart(root["formula"].node()->source(), text);
  }

  if (auto types = root["types"]; types) {
    const toml::table* t = types.as_table();
    if (!t) return r.Error(types, "[types] maps a type variable to a list of dtypes, e.g. T = [\"f32\", \"f16\"]");
    for (const auto& [k, v] : *t) {
      const toml::array* arr = v.as_array();
      if (!arr || arr->empty()) return r.Error(&v, "a type variable lists one or more dtypes");
      std::vector<DType> dts;
      for (const toml::node& n : *arr) {
        auto s = n.value<std::string>();
        auto dt = s ? ParseDType(*s) : std::nullopt;
        if (!dt) return r.Error(&n, fmt::format("unknown dtype; expected one of {}", DTypeNameList()));
        dts.push_back(*dt);
      }
      task.type_vars[std::string(k.str())] = dts;
    }
  }

  auto dtype_ok = [&](const std::string& s) { return ParseDType(s) || task.type_vars.count(s); };

  // A factory (arange, zeros) has no tensor input: its module reference
  // takes the case's sizes, dtype and device as keyword arguments
  // (worker/python/module_reference.h). A formula computes from its inputs.
  const toml::array* inputs = root["inputs"].as_array();
  if (root["inputs"] && !inputs) return r.Error(root["inputs"], "inputs are [[inputs]] tables");
  if ((!inputs || inputs->empty()) && !task.module)
    return r.Error(&root, "a formula task needs at least one [[inputs]] table (an operator with no tensor input, "
                          "such as arange, takes a [reference] module whose forward receives the sizes as keywords)");
  static const toml::array kNoInputs;
  for (const toml::node& n : inputs ? *inputs : kNoInputs) {  // by reference: a copy loses source positions
    const toml::table* t = n.as_table();
    if (!t) return r.Error(&n, "[[inputs]] entries are tables");
    TaskInput in;
    ANVIL_ASSIGN_OR_RETURN(in.name, r.String(*t, "name", true));
    ANVIL_ASSIGN_OR_RETURN(in.dtype, r.String(*t, "dtype", true));
    if (!dtype_ok(in.dtype))
      return r.Error((*t)["dtype"], fmt::format("input '{}': '{}' is neither a dtype ({}) nor a type variable "
                                                "declared in [types]", in.name, in.dtype, DTypeNameList()));
    ANVIL_ASSIGN_OR_RETURN(in.shape, r.Shape((*t)["shape"], "input '" + in.name + "'"));
    ANVIL_ASSIGN_OR_RETURN(in.domain, r.Domain((*t)["domain"], "input '" + in.name + "'"));
    // What the roofline floor counts for this input (task.h, InputRead).
    ANVIL_ASSIGN_OR_RETURN(in.read, r.Keyword<InputRead>(*t, "read", "input '" + in.name + "'",
                                                         {{"all", InputRead::kAll},
                                                          {"none", InputRead::kNone},
                                                          {"output", InputRead::kOutput}},
                                                         InputRead::kAll));
    task.inputs.push_back(std::move(in));
  }

  if (const toml::array* attrs = root["attrs"].as_array()) {
    for (const toml::node& n : *attrs) {
      const toml::table* t = n.as_table();
      if (!t) return r.Error(&n, "[[attrs]] entries are tables");
      TaskAttr a;
      ANVIL_ASSIGN_OR_RETURN(a.name, r.String(*t, "name", true));
      ANVIL_ASSIGN_OR_RETURN(std::string dts, r.String(*t, "dtype", true));
      auto dt = ParseDType(dts);
      if (!dt) return r.Error((*t)["dtype"], fmt::format("unknown dtype '{}'; expected one of {}", dts, DTypeNameList()));
      ANVIL_ASSIGN_OR_RETURN(a.value, AttrValue(r, (*t)["value"], *dt, a.name));
      task.attrs.push_back(std::move(a));
    }
  }

  const toml::array* outputs = root["outputs"].as_array();
  if (!outputs || outputs->empty()) return r.Error(&root, "a task needs at least one [[outputs]] table");
  for (const toml::node& n : *outputs) {
    const toml::table* t = n.as_table();
    if (!t) return r.Error(&n, "[[outputs]] entries are tables");
    TaskOutput o;
    ANVIL_ASSIGN_OR_RETURN(o.name, r.String(*t, "name", true));
    if (auto d = (*t)["dtype"]) {
      auto s = d.value<std::string>();
      if (!s || !dtype_ok(*s)) return r.Error(d, "output dtype must be a dtype or a declared type variable");
      o.dtype = *s;
    }
    if (auto sh = (*t)["shape"]) {
      ANVIL_ASSIGN_OR_RETURN(o.shape, r.Shape(sh, "output '" + o.name + "'"));
    }
    if (auto ip = (*t)["inplace"]) {
      auto s = ip.value<std::string>();
      if (!s || task.InputIndex(*s) < 0)
        return r.Error(ip, "inplace names the input this output is written into");
      o.inplace = *s;
    }
    if (auto vo = (*t)["view_of"]) {
      auto s = vo.value<std::string>();
      if (!s || !vo.is_string() || task.InputIndex(*s) < 0)
        return r.Error(vo, fmt::format("output '{}': view_of names the input this output is a view of", o.name));
      if (o.inplace)
        return r.Error(vo, fmt::format("output '{}': view_of and inplace exclude each other (a view aliases its "
                                       "input without writing it)",
                                       o.name));
      const TaskInput& in = task.inputs[task.InputIndex(*s)];
      if (!o.dtype || *o.dtype != in.dtype)
        return r.Error(vo, fmt::format("output '{}': a view has its input's dtype: declare dtype = \"{}\" like "
                                       "input '{}'",
                                       o.name, in.dtype, in.name));
      if (!o.shape)
        return r.Error(vo, fmt::format("output '{}': a view output needs its shape declared (shape = [...]): the "
                                       "harness passes it to the candidate",
                                       o.name));
      o.view_of = *s;
    }
    // What the roofline floor counts for this output (task.h, OutputWrite).
    ANVIL_ASSIGN_OR_RETURN(o.write, r.Keyword<OutputWrite>(*t, "write", "output '" + o.name + "'",
                                                           {{"all", OutputWrite::kAll},
                                                            {"partial", OutputWrite::kPartial}},
                                                           OutputWrite::kAll));
    if (o.write == OutputWrite::kPartial && !o.inplace)
      return r.Error((*t)["write"], fmt::format("output '{}': write = \"partial\" is for an in-place output "
                                                "(inplace = \"<input>\") whose unwritten elements keep the "
                                                "input's values; an output of its own is written in full",
                                                o.name));
    if (auto dist = (*t)["distribution"]) {
      auto s = dist.value<std::string>();
      if (!s) return r.Error(dist, "distribution is a string such as \"bernoulli(p)\"");
      auto spec = ParseDistribution(*s);
      if (!spec.ok()) return r.Error(dist, spec.status().message());
      o.distribution = std::move(spec).value();
    }
    task.outputs.push_back(std::move(o));
  }

  const toml::table* corr = root["correctness"].as_table();
  if (!corr) return r.Error(&root, "a task needs a [correctness] table with shapes = [...]");
  ANVIL_ASSIGN_OR_RETURN(task.correctness.shapes, r.ShapeList(*corr, "correctness"));
  if (task.inputs.empty()) {
    // Layouts and distributions describe inputs; with none, every entry
    // would repeat the same case.
    for (const char* key : {"layouts", "distributions"})
      if (auto v = (*corr)[key])
        return r.Error(v, fmt::format("the task has no [[inputs]]: there is nothing to lay out or draw, so remove "
                                      "'{}' from [correctness]",
                                      key));
  }
  const bool no_inputs = task.inputs.empty();
  ANVIL_ASSIGN_OR_RETURN(task.correctness.layouts,
                         r.Words(*corr, "layouts", {"contiguous", "transposed", "strided", "broadcast"},
                                 no_inputs ? std::vector<std::string>{"contiguous"}
                                           : std::vector<std::string>{"contiguous", "transposed", "strided",
                                                                      "broadcast"}));
  ANVIL_ASSIGN_OR_RETURN(task.correctness.distributions,
                         r.Words(*corr, "distributions", {"normal", "uniform", "heavy", "special"},
                                 no_inputs ? std::vector<std::string>{"normal"}
                                           : std::vector<std::string>{"normal", "uniform", "heavy", "special"}));
  if (auto seeds = (*corr)["seeds"]) {
    const toml::array* arr = seeds.as_array();
    if (!arr || arr->empty()) return r.Error(seeds, "seeds must be a non-empty array of integers");
    for (const toml::node& n : *arr) {
      auto s = n.value<int64_t>();
      if (!s || *s < 0) return r.Error(&n, "a seed is an integer >= 0");
      task.correctness.seeds.push_back(static_cast<uint64_t>(*s));
    }
  } else {
    task.correctness.seeds = {1, 2};
  }

  if (const toml::table* perf = root["performance"].as_table()) {
    // A view op moves no data: there is nothing to time, and eager's time is
    // the cost of building the view's metadata. Such a task is verify-only.
    for (const TaskOutput& o : task.outputs)
      if (o.view_of)
        return r.Error(perf, fmt::format("output '{}' is a view (view_of = \"{}\"): a view moves no data, so the "
                                         "task is not timed; remove [performance] (run it with `anvil verify`)",
                                         o.name, *o.view_of));
    ANVIL_ASSIGN_OR_RETURN(task.performance.shapes, r.ShapeList(*perf, "performance"));
    for (auto [key, field] : {std::pair{"warmup", &task.performance.warmup},
                              std::pair{"trials", &task.performance.trials},
                              std::pair{"rotations", &task.performance.rotations}}) {
      if (auto v = (*perf)[key]) {
        auto i = v.value<int64_t>();
        if (!i || *i < 1 || *i > 100000) return r.Error(v, fmt::format("{} must be an integer in 1..100000", key));
        *field = static_cast<int>(*i);
      }
    }
  }

  if (const toml::table* cmp = root["compare"].as_table()) {
    ANVIL_ASSIGN_OR_RETURN(std::string mode, r.String(*cmp, "mode", false, "allclose"));
    if (mode == "allclose") task.compare.mode = CompareMode::kAllClose;
    else if (mode == "exact") task.compare.mode = CompareMode::kExact;
    else if (mode == "unordered") task.compare.mode = CompareMode::kUnordered;
    else if (mode == "statistical") task.compare.mode = CompareMode::kStatistical;
    else return r.Error((*cmp)["mode"], "compare mode is allclose, exact, unordered or statistical");
    if (auto seed = (*cmp)["seed"]) {
      if (task.compare.mode != CompareMode::kStatistical)
        return r.Error(seed, "seed names the random seed attribute of a statistical task (mode = \"statistical\")");
      auto s = seed.value<std::string>();
      if (!s) return r.Error(seed, "seed is the name of an integer attribute, e.g. seed = \"seed\"");
      task.compare.seed_attr = *s;
    }
    if (task.compare.mode == CompareMode::kStatistical)
      for (const TaskOutput& o : task.outputs)
        if (o.view_of)
          return r.Error((*cmp)["mode"], fmt::format("output '{}' is a view (view_of): a view op computes nothing "
                                                     "random, so it is not judged in statistical mode",
                                                     o.name));
    if (auto d = (*cmp)["unordered_dim"]) task.compare.unordered_dim = d.value<int64_t>().value_or(-1);
    if (auto d = (*cmp)["deterministic"]) task.compare.deterministic = d.value<bool>().value_or(true);
    if (auto d = (*cmp)["reduction_length"]) {
      if (!task.module)
        return r.Error(d, "reduction_length is for module references; a formula's reduction length is inferred");
      ANVIL_ASSIGN_OR_RETURN(task.compare.reduction_dims, r.Shape(d, "reduction_length"));
    }
    for (const char* key : {"rtol", "atol"}) {
      const toml::table* per = (*cmp)[key].as_table();
      if (!per) continue;
      for (const auto& [k, v] : *per) {
        auto dt = ParseDType(k.str());
        auto val = v.value<double>();
        if (!dt || !IsFloating(*dt) || !val || *val < 0)
          return r.Error(&v, fmt::format("{}.<dtype> = value for a floating dtype", key));
        auto& ov = task.compare.overrides.per_dtype[*dt];
        (std::string(key) == "rtol" ? ov.rtol : ov.atol) = *val;
      }
    }
  }
  return task;
}

}  // namespace

std::string ValueDomain::ToString() const {
  switch (kind) {
    case Kind::kAny: return "any";
    case Kind::kPositive: return "positive";
    case Kind::kNonNegative: return "nonnegative";
    case Kind::kNonZero: return "nonzero";
    case Kind::kUnit: return "unit";
    case Kind::kRange: return fmt::format("[{}, {}]", lo, hi);
  }
  return "?";
}

Result<Task> ParseTask(const std::string& text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return InvalidInput(fmt::format("{}: {}", Where(origin, e.source()), e.description()));
  }
  Reader reader(origin);
  TextPosition formula_start;
  ANVIL_ASSIGN_OR_RETURN(Task task, ParseTable(root, reader, text, origin, formula_start));
  task.source_text = text;
  if (Status s = CheckTask(task); !s.ok()) return PointIntoFile(s, origin, formula_start);
  return task;
}

Result<Task> LoadTaskFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(fmt::format("cannot open task file '{}'", path));
  std::stringstream ss;
  ss << in.rdbuf();
  ANVIL_ASSIGN_OR_RETURN(Task task, ParseTask(ss.str(), path));
  task.source_path = path;
  return task;
}

std::vector<TaskFileEntry> FindTaskFiles(const std::string& dir) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".toml") {
      std::ifstream in(it->path());
      std::string line;
      bool has_formula = false;  // a formula or a [reference] table: a task, not another TOML file
      while (std::getline(in, line))
        if (line.rfind("formula", 0) == 0 || line.rfind("[reference]", 0) == 0) { has_formula = true; break; }
      if (has_formula) paths.push_back(it->path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  std::vector<TaskFileEntry> out;
  for (auto& p : paths) out.push_back({p, LoadTaskFile(p)});
  return out;
}

}  // namespace anvil
