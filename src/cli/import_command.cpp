// anvil import kernelbench DIR --as NAME [--out DIR]: KernelBench-style
// problem files (class Model, get_inputs(), get_init_inputs()) as Anvil tasks.
//
// Each DIR/<problem>.py becomes <out>/<problem>.toml beside a copy of the
// .py (the task names it relative to itself, so the folder can move), named
// NAME.<problem, lower case>. The conversion is agent/reference_input.h's:
// the file's own sizes are the performance case, smaller sizes on which the
// module ran are the correctness cases. Problems that cannot be references
// (a model holding weights, outputs whose shapes are products of input
// dims, ...) are refused with the reason and the import goes on.
//
// Exit code: 0 when every file was imported or refused for what it is,
// 2 when DIR holds no problem files or an argument is wrong, 3 when the
// environment failed (Python with torch could not run) for some file.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "util/subprocess.h"

#if ANVIL_WITH_LLM
#include "agent/reference_input.h"
#endif

namespace anvil::cli {
namespace {

namespace fs = std::filesystem;

struct ImportArgs {
  std::string source = "kernelbench";
  std::string dir;
  std::string as;
  std::string out;
};

// KernelBench numbers its problems ("2_Standard_matrix_multiplication_.py",
// "19_ReLU.py"): order by that number, then by name.
bool ProblemOrder(const fs::path& a, const fs::path& b) {
  auto number = [](const fs::path& p) {
    const std::string s = p.filename().string();
    size_t digits = 0;
    while (digits < s.size() && digits < 9 && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
    return digits ? std::stol(s.substr(0, digits)) : -1L;
  };
  long na = number(a), nb = number(b);
  return na != nb ? na < nb : a.filename() < b.filename();
}

#if ANVIL_WITH_LLM
int RunImport(const CliConfig& config, const ImportArgs& args) {
  static const std::regex kName("[a-z0-9_.-]+");
  if (!std::regex_match(args.as, kName))
    return ReportError(InvalidInput(fmt::format("--as '{}': a suite name uses a-z, 0-9, '_', '.', '-'", args.as)));
  std::error_code ec;
  if (!fs::is_directory(args.dir, ec)) return ReportError(NotFound(fmt::format("no directory '{}'", args.dir)));
  std::vector<fs::path> problems;
  for (const auto& entry : fs::directory_iterator(args.dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".py" && entry.path().filename().string()[0] != '_')
      problems.push_back(entry.path());
  std::sort(problems.begin(), problems.end(), ProblemOrder);
  if (problems.empty())
    return ReportError(InvalidInput(fmt::format("'{}' holds no *.py problem files (KernelBench's are in "
                                                "KernelBench/level1, level2, ...)", args.dir)));
  const fs::path out = args.out.empty() ? fs::path("tasks") / args.as : fs::path(args.out);
  fs::create_directories(out, ec);
  if (ec) return ReportError(IoError(fmt::format("cannot create '{}': {}", out.string(), ec.message())));

  nlohmann::json rows = nlohmann::json::array();
  int imported = 0, refused = 0, failed = 0;
  for (const fs::path& problem : problems) {
    const std::string stem = problem.stem().string();
    const fs::path task_path = out / (stem + ".toml");
    const fs::path module_copy = out / problem.filename();
    agent::ReferenceModuleImport request;
    request.module_path = problem.string();
    request.python = config.python;
    request.task_name = args.as + "." + agent::TaskNameForModule(problem.string());
    request.module_in_task = problem.filename().string();
    Result<std::string> text = agent::TaskTextFromReferenceModule(request);
    Status written = text.status();
    if (text.ok()) {
      if (!fs::exists(module_copy) || !fs::equivalent(problem, module_copy, ec))
        fs::copy_file(problem, module_copy, fs::copy_options::overwrite_existing, ec);
      written = ec ? IoError(fmt::format("cannot copy {} to {}: {}", problem.string(), module_copy.string(),
                                         ec.message()))
                   : WriteFileAtomic(task_path.string(), *text);
    }
    nlohmann::json row = {{"file", problem.string()}, {"task", request.task_name}};
    if (written.ok()) {
      ++imported;
      row["status"] = "imported";
      row["path"] = task_path.string();
      if (!config.json) std::cout << fmt::format("imported  {} -> {}\n", problem.filename().string(), task_path.string());
    } else {
      // A file that cannot be a reference is refused; anything else is the environment's failure.
      const bool is_refusal = written.code() == ErrorCode::kInvalidInput;
      ++(is_refusal ? refused : failed);
      row["status"] = is_refusal ? "refused" : "failed";
      row["reason"] = written.message();
      if (!config.json) {
        std::string why = written.message();  // it names the file; the line already does
        if (why.rfind(problem.string() + ": ", 0) == 0) why.erase(0, problem.string().size() + 2);
        std::cout << fmt::format("{}   {}: {}\n", is_refusal ? "refused" : "failed ", problem.filename().string(),
                                 why);
      }
    }
    rows.push_back(row);
    std::cout.flush();
  }
  if (config.json) {
    std::cout << nlohmann::json{{"source", args.source}, {"dir", args.dir},     {"out", out.string()},
                                {"imported", imported},  {"refused", refused},  {"failed", failed},
                                {"problems", rows}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << fmt::format("\n{} of {} problems imported into {} ({} refused{}).{}\n", imported, problems.size(),
                             out.string(), refused, failed ? fmt::format(", {} failed", failed) : "",
                             imported ? fmt::format(" Next: anvil task list {}", out.string()) : "");
  }
  return failed ? kExitEnvironment : kExitOk;
}
#else
int RunImport(const CliConfig&, const ImportArgs&) {
  return ReportError(Unsupported(
      "this anvil was built without the agent library (it is built with libcurl), which holds the KernelBench "
      "conversion; install libcurl's development files (scripts/setup.sh) and rebuild"));
}
#endif

}  // namespace

void AddImportCommand(CLI::App& app, CliConfig& config, int* exit_code) {
  auto args = std::make_shared<ImportArgs>();
  CLI::App* cmd = app.add_subcommand("import", "Import problems from other benchmarks as task files");
  cmd->require_subcommand(1);
  CLI::App* kb = cmd->add_subcommand(
      "kernelbench", "KernelBench-style problem files (class Model, get_inputs, get_init_inputs) as tasks with "
                     "their module as the reference");
  kb->add_option("dir", args->dir, "the folder of *.py problems (e.g. KernelBench/level1)")->required();
  kb->add_option("--as", args->as, "the suite's name: task names become NAME.<problem>")->required();
  kb->add_option("--out,-o", args->out, "where the task files go (default: tasks/NAME)");
  kb->footer(
      "Each problem's own sizes become its performance case; correctness cases are smaller sizes on which the\n"
      "module ran (Python with torch: --python / ANVIL_PYTHON). A model holding weights (nn.Linear, nn.Conv*)\n"
      "is refused: a candidate kernel receives only the task's inputs.\n"
      "Exit code 0: every file imported or refused; 2: bad arguments or no problems; 3: Python could not run.");
  kb->callback([&config, args, exit_code] {
    ResolveDefaults(config);
    *exit_code = RunImport(config, *args);
  });
}

}  // namespace anvil::cli
