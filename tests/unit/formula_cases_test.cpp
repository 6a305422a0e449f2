// Runs the data-driven formula cases in tests/formula/*.test.
//
// File format (one case after another, separated by a line "---"):
//   # a comment
//   name: swish                           unique within the file
//   inputs: x: f32[B, N]; y: f16[N]       "name: dtype[shape]"; "[]" is rank 0
//   attrs: t: f32                         optional
//   outputs: out                          optional, default "out"; several: "a, b"
//   formula: out = x * sigmoid(t * x)     one line, or "formula:" followed by
//                                         lines indented by two spaces
//   expect-error: formula:1:5: ...        the exact error message, or any of:
//   expect-outputs: out: f32[B, N]        "; "-separated, in output order
//   expect-reduction-length: B=2, N=8 -> 8, 1   bindings -> one length per output
//   expect-dump:                          followed by the Dump, indented by two spaces
// A case must have at least one expectation; a wrong one fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formula/formula.h"

namespace anvil::formula {
namespace {

struct FormulaCase {
  std::string file;
  int line = 0;
  std::string name;
  std::string inputs, attrs, outputs = "out", formula;
  std::optional<std::string> expect_error, expect_outputs, expect_reduction, expect_dump;
};

// Keeps gtest from printing the struct as bytes.
void PrintTo(const FormulaCase& c, std::ostream* os) { *os << c.file << ":" << c.line << " " << c.name; }

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep))
    if (!Trim(item).empty()) out.push_back(Trim(item));
  return out;
}

// "x: f32[B, 4]" -> name, dtype, shape.
Result<InputDecl> ParseDecl(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) return InvalidInput("expected 'name: dtype[shape]', got '" + text + "'");
  InputDecl d;
  d.name = Trim(text.substr(0, colon));
  std::string rest = Trim(text.substr(colon + 1));
  size_t bracket = rest.find('[');
  auto dtype = ParseDType(Trim(rest.substr(0, bracket)));
  if (!dtype) return InvalidInput("unknown dtype in '" + text + "'");
  d.dtype = *dtype;
  if (bracket != std::string::npos) {
    size_t close = rest.find(']', bracket);
    if (close == std::string::npos) return InvalidInput("missing ']' in '" + text + "'");
    for (const std::string& dim : Split(rest.substr(bracket + 1, close - bracket - 1), ','))
      d.shape.push_back(std::isdigit(static_cast<unsigned char>(dim[0])) ? Dim::Fixed(std::stoll(dim))
                                                                          : Dim::Symbol(dim));
  }
  return d;
}

Result<std::vector<FormulaCase>> LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot read " + path.string());
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::vector<FormulaCase> cases;
  FormulaCase cur;
  bool open = false;
  auto where = [&](size_t i) { return path.filename().string() + ":" + std::to_string(i + 1); };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (Trim(l).empty() || l[0] == '#') continue;
    if (Trim(l) == "---") {
      if (open) cases.push_back(cur);
      cur = FormulaCase();
      open = false;
      continue;
    }
    size_t colon = l.find(':');
    if (colon == std::string::npos || l[0] == ' ') return InvalidInput(where(i) + ": expected 'key: value'");
    std::string key = l.substr(0, colon), value = Trim(l.substr(colon + 1));
    if (!open) {
      cur.file = path.filename().string();
      cur.line = static_cast<int>(i + 1);
      open = true;
    }
    if ((key == "formula" || key == "expect-dump") && value.empty()) {
      while (i + 1 < lines.size() && lines[i + 1].rfind("  ", 0) == 0) value += lines[++i].substr(2) + "\n";
    }
    if (key == "name") cur.name = value;
    else if (key == "inputs") cur.inputs = value;
    else if (key == "attrs") cur.attrs = value;
    else if (key == "outputs") cur.outputs = value;
    else if (key == "formula") cur.formula = value;
    else if (key == "expect-error") cur.expect_error = value;
    else if (key == "expect-outputs") cur.expect_outputs = value;
    else if (key == "expect-reduction-length") cur.expect_reduction = value;
    else if (key == "expect-dump") cur.expect_dump = value;
    else return InvalidInput(where(i) + ": unknown key '" + key + "'");
  }
  if (open) cases.push_back(cur);
  for (const FormulaCase& c : cases) {
    if (c.name.empty() || c.formula.empty())
      return InvalidInput(c.file + ":" + std::to_string(c.line) + ": a case needs name: and formula:");
    if (!c.expect_error && !c.expect_outputs && !c.expect_reduction && !c.expect_dump)
      return InvalidInput(c.file + ":" + std::to_string(c.line) + ": case '" + c.name + "' expects nothing");
  }
  return cases;
}

// Returns every mismatch between the case's expectations and reality.
std::vector<std::string> CheckCase(const FormulaCase& c) {
  std::vector<std::string> failures;
  std::vector<InputDecl> inputs;
  std::vector<AttrDecl> attrs;
  for (const std::string& s : Split(c.inputs, ';')) {
    auto d = ParseDecl(s);
    if (!d.ok()) return {"bad inputs: " + d.status().message()};
    inputs.push_back(*d);
  }
  for (const std::string& s : Split(c.attrs, ';')) {
    auto d = ParseDecl(s);
    if (!d.ok() || !d->shape.empty()) return {"bad attrs: '" + s + "'"};
    attrs.push_back({d->name, d->dtype});
  }
  auto g = Compile(c.formula, inputs, attrs, Split(c.outputs, ','));
  if (c.expect_error) {
    if (g.ok()) return {"expected error '" + *c.expect_error + "' but it compiled:\n" + g->Dump()};
    if (g.status().code() != ErrorCode::kInvalidInput) failures.push_back("error code is not InvalidInput");
    if (g.status().message() != *c.expect_error)
      failures.push_back("error differs\n  want: " + *c.expect_error + "\n  got:  " + g.status().message());
    return failures;
  }
  if (!g.ok()) return {"unexpected error: " + g.status().message()};
  Status v = Verify(*g);
  if (!v.ok()) failures.push_back("Verify failed: " + v.message());
  if (c.expect_dump && g->Dump() != *c.expect_dump)
    failures.push_back("dump differs\n--- want\n" + *c.expect_dump + "--- got\n" + g->Dump());
  if (c.expect_outputs) {
    std::string got;
    for (const OutputInfo& o : g->outputs())
      got += (got.empty() ? "" : "; ") + o.name + ": " + std::string(DTypeName(o.dtype)) + ShapeToString(o.shape);
    if (got != *c.expect_outputs) failures.push_back("outputs differ\n  want: " + *c.expect_outputs + "\n  got:  " + got);
  }
  if (c.expect_reduction) {
    size_t arrow = c.expect_reduction->find("->");
    if (arrow == std::string::npos) return {"expect-reduction-length needs 'bindings -> lengths'"};
    Bindings b;
    for (const std::string& kv : Split(c.expect_reduction->substr(0, arrow), ',')) {
      size_t eq = kv.find('=');
      b[Trim(kv.substr(0, eq))] = std::stoll(kv.substr(eq + 1));
    }
    std::string got;
    for (size_t i = 0; i < g->outputs().size(); ++i)
      got += (i ? ", " : "") + std::to_string(g->ReductionLength(i, b));
    std::string want = Trim(c.expect_reduction->substr(arrow + 2));
    if (got != want) failures.push_back("reduction length differs: want " + want + ", got " + got);
  }
  return failures;
}

std::vector<FormulaCase> LoadAll() {
  std::vector<FormulaCase> all;
  std::filesystem::path dir = std::filesystem::path(ANVIL_TEST_DATA_DIR) / "formula";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".test") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto cases = LoadFile(f);
    if (!cases.ok()) {
      // A malformed file is a failing case, not a silently skipped one.
      FormulaCase bad;
      bad.file = f.filename().string();
      bad.name = "malformed_file";
      bad.expect_error = cases.status().message();
      bad.formula = "";
      all.push_back(bad);
      continue;
    }
    all.insert(all.end(), cases->begin(), cases->end());
  }
  return all;
}

class FormulaCases : public ::testing::TestWithParam<FormulaCase> {};

TEST_P(FormulaCases, MatchesExpectation) {
  const FormulaCase& c = GetParam();
  ASSERT_FALSE(c.formula.empty()) << c.file << ": " << *c.expect_error;
  for (const std::string& f : CheckCase(c)) ADD_FAILURE() << c.file << ":" << c.line << " (" << c.name << "): " << f;
}

INSTANTIATE_TEST_SUITE_P(Data, FormulaCases, ::testing::ValuesIn(LoadAll()),
                         [](const ::testing::TestParamInfo<FormulaCase>& info) {
                           std::string n = info.param.file.substr(0, info.param.file.find('.')) + "_" + info.param.name;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n + "_" + std::to_string(info.index);
                         });

TEST(FormulaCasesHarness, FindsTheCaseFiles) { EXPECT_GE(LoadAll().size(), 40u); }

TEST(FormulaCasesHarness, WrongExpectationsFail) {
  FormulaCase c;
  c.name = "probe";
  c.inputs = "x: f32[N]";
  c.formula = "out = exp(x)";
  c.expect_dump = "%0: f32[N] = input x\n%1: f32[N] = exp(%0)\nout = %1\n";
  EXPECT_TRUE(CheckCase(c).empty());
  c.expect_dump = "%0: f32[N] = input x\n%1: f32[N] = log(%0)\nout = %1\n";
  EXPECT_EQ(CheckCase(c).size(), 1u);
  c.expect_dump.reset();
  c.expect_outputs = "out: f16[N]";
  EXPECT_EQ(CheckCase(c).size(), 1u);
  c.expect_outputs.reset();
  c.expect_reduction = "N=4 -> 4";
  EXPECT_EQ(CheckCase(c).size(), 1u);
  c.expect_reduction.reset();
  c.expect_error = "formula:1:1: nope";
  EXPECT_EQ(CheckCase(c).size(), 1u);
}

}  // namespace
}  // namespace anvil::formula
