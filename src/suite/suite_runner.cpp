#include "suite/suite_runner.h"

#include <chrono>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "suite/task_result_from_report.h"
#include "task/performance_shapes.h"
#include "task/task_file.h"
#include "util/cpu_set.h"

namespace anvil::suite {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The statuses a resumed run does not redo: the task reached a verdict or the
// generator had nothing to offer. 'error' (the environment failed) is retried.
bool IsFinal(TaskStatus s) { return s != TaskStatus::kError && s != TaskStatus::kPending; }

// One task from start to its result. Never throws; environment errors and
// exceptions become an 'error' result naming what failed. A task stopped
// because the run was cancelled (the generator or evaluator returned
// kCancelled with `cancel` raised) is 'pending': nothing was decided about it.
TaskResult RunTask(const std::string& task_file, TaskGenerator& generator, Store& store,
                   std::map<EvalMode, std::unique_ptr<Evaluator>>& evaluators, const EvaluatorOptions& base,
                   bool verify_only, int64_t perf_divisor, int64_t run_id, const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  TaskResult result;
  result.task = std::filesystem::path(task_file).stem().string();
  result.op = OpName(result.task);
  result.status = TaskStatus::kError;
  try {
    Result<Task> task = InvalidInput("not loaded");
    if (perf_divisor > 1) {
      Result<std::string> text = WithScaledPerformanceShapes(task_file, perf_divisor);
      task = text.ok() ? ParseTask(*text, task_file) : Result<Task>(text.status());
      if (task.ok()) task->source_path = task_file;  // as LoadTaskFile does: kernels are found by the file's name
    } else {
      task = LoadTaskFile(task_file);
    }
    if (!task.ok()) {
      result.reason = task.status().message();
      result.seconds = SecondsSince(start);
      return result;
    }
    result.task = task->name;
    result.op = OpName(task->name);
    result.dtypes = TaskDtypes(*task);
    const EvalMode mode = verify_only || task->performance.shapes.empty() ? EvalMode::kVerify : EvalMode::kBench;
    std::unique_ptr<Evaluator>& evaluator = evaluators[mode];
    if (!evaluator) {
      EvaluatorOptions options = base;
      options.mode = mode;
      evaluator = std::make_unique<Evaluator>(store, options);
    }
    Result<GeneratedKernel> kernel = generator.Generate(*task, store, *evaluator, run_id);
    if (!kernel.ok()) {
      if (kernel.status().code() == ErrorCode::kCancelled && cancel != nullptr && cancel->load())
        result.status = TaskStatus::kPending;
      result.reason = kernel.status().message();
    } else if (!kernel->report) {
      result.status = TaskStatus::kNoKernel;
      result.reason = kernel->no_kernel_reason;
      result.tokens = kernel->tokens;
    } else {
      result = TaskResultFromReport(*task, *kernel->report);
      result.tokens = kernel->tokens;
    }
  } catch (const std::exception& e) {
    result.status = TaskStatus::kError;
    result.reason = fmt::format("internal error while running the task: {}", e.what());
  }
  result.seconds = SecondsSince(start);
  return result;
}

std::string DeviceLabel(const nlohmann::json& device) {
  return device.value("key", device.value("name", std::string("unknown device")));
}

std::string SoftwareLabel(const nlohmann::json& device) {
  std::string s = fmt::format("anvil {}", ANVIL_VERSION);
  if (device.contains("torch")) s += fmt::format(", torch {}", device["torch"].get<std::string>());
  return s;
}

}  // namespace

Result<SuiteRun> LoadSuiteRun(Store& store, int64_t id) {
  ANVIL_ASSIGN_OR_RETURN(SuiteRunRow row, store.GetSuiteRun(id));
  ANVIL_ASSIGN_OR_RETURN(std::vector<SuiteTaskRow> rows, store.QuerySuiteTasks(id));
  SuiteRun run;
  run.id = row.id;
  run.suite = row.suite;
  run.target = row.target;
  run.generator = row.generator;
  run.device = row.device;
  run.software = row.software;
  run.started_at = row.started_at;
  run.finished_at = row.finished_at;
  std::map<std::string, TaskResult> by_path;
  for (const SuiteTaskRow& r : rows) {
    Result<nlohmann::json> j = [&]() -> Result<nlohmann::json> {
      try {
        return nlohmann::json::parse(r.result_json);
      } catch (const nlohmann::json::exception& e) {
        return ProtocolError(fmt::format("suite run {} task {}: stored result is not JSON ({})", id, r.task_name, e.what()));
      }
    }();
    if (!j.ok()) return j.status();
    ANVIL_ASSIGN_OR_RETURN(TaskResult task, TaskResultFromJson(*j));
    by_path[r.task_path] = std::move(task);
  }
  // Suite order from the recorded task list; tasks not reached are pending.
  std::vector<std::string> files;
  try {
    files = nlohmann::json::parse(row.options_json).value("task_files", std::vector<std::string>{});
  } catch (const nlohmann::json::exception&) {
  }
  std::set<std::string> placed;
  for (const std::string& f : files) {
    auto it = by_path.find(f);
    if (it != by_path.end()) {
      run.tasks.push_back(it->second);
    } else {
      TaskResult pending;
      pending.task = std::filesystem::path(f).stem().string();
      pending.op = OpName(pending.task);
      pending.status = TaskStatus::kPending;
      run.tasks.push_back(std::move(pending));
    }
    placed.insert(f);
  }
  for (auto& [path, t] : by_path)
    if (!placed.count(path)) run.tasks.push_back(t);
  return run;
}

Result<SuiteRun> RunSuite(const SuiteRunOptions& options, const GeneratorFactory& generators,
                          const std::function<void(const SuiteProgress&)>& progress, const std::atomic<bool>* cancel) {
  if (options.jobs < 1) return InvalidInput("--jobs must be at least 1");
  ANVIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open(options.store_path));
  (void)store->MarkAbandonedRuns();
  ANVIL_ASSIGN_OR_RETURN(int64_t run_id, store->BeginRun("suite", options.command_args_json));

  int64_t suite_id = options.resume_id;
  std::set<std::string> finished;  // task files with a final row
  std::vector<std::string> files = options.task_files;
  if (suite_id > 0) {
    ANVIL_ASSIGN_OR_RETURN(SuiteRunRow row, store->GetSuiteRun(suite_id));
    if (row.suite != options.suite || row.target != options.target || row.generator != options.generator)
      return InvalidInput(fmt::format(
          "--resume {}: that run is suite '{}' --target {} --generator {}; this command asks for '{}' --target {} --generator {}",
          suite_id, row.suite, row.target, row.generator, options.suite, options.target, options.generator));
    ANVIL_ASSIGN_OR_RETURN(std::vector<SuiteTaskRow> rows, store->QuerySuiteTasks(suite_id));
    for (const SuiteTaskRow& r : rows) {
      Result<TaskStatus> s = ParseTaskStatus(r.status);
      if (s.ok() && IsFinal(*s)) finished.insert(r.task_path);
    }
    ANVIL_RETURN_IF_ERROR(store->ReopenSuiteRun(suite_id, run_id));
  } else {
    SuiteRunRow row;
    row.run_id = run_id;
    row.suite = options.suite;
    row.target = options.target;
    row.generator = options.generator;
    row.options_json =
        nlohmann::json{{"task_files", files}, {"jobs", options.jobs}, {"verify_only", options.verify_only},
                       {"perf_divisor", options.perf_divisor}}
            .dump();
    ANVIL_ASSIGN_OR_RETURN(suite_id, store->BeginSuiteRun(row));
  }

  std::vector<std::string> todo;
  for (const std::string& f : files)
    if (!finished.count(f)) todo.push_back(f);

  std::mutex mu;  // guards next, counts, first_error and the progress callback
  size_t next = 0;
  SuiteProgress counts;
  counts.total = static_cast<int>(files.size());
  counts.done = static_cast<int>(finished.size());
  Status first_error;
  bool device_recorded = false;

  const std::vector<std::vector<int>> cores = AllowedCores();
  auto job = [&](int index) {
    Result<std::unique_ptr<Store>> job_store = Store::Open(options.store_path);
    if (!job_store.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error.ok()) first_error = job_store.status();
      return;
    }
    EvaluatorOptions base = options.evaluator;
    if (options.jobs > 1) {
      // Each job's worker gets its own GPU and its own cores: a GPU worker's
      // host-side work (inputs, references, tolerances) is heavy at GPU sizes,
      // and pinned threads of jobs sharing cores slow each other tenfold.
      base.worker.scratch_dir += fmt::format("/job{}", index);
      if (base.worker.device == "cuda")
        base.worker.environment.emplace_back("CUDA_VISIBLE_DEVICES", std::to_string(index));
      base.worker.cpus = CpusForJob(cores, options.jobs, index);
      base.threads = std::max(1, std::min(base.threads / options.jobs, static_cast<int>(base.worker.cpus.size())));
    }
    base.cancel = cancel;  // the task in flight stops too, not only the queue
    std::unique_ptr<TaskGenerator> generator = generators(index);
    std::map<EvalMode, std::unique_ptr<Evaluator>> evaluators;
    while (true) {
      std::string file;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= todo.size() || (cancel && cancel->load()) || !first_error.ok()) return;
        file = todo[next++];
        SuiteProgress started = counts;
        started.task = std::filesystem::path(file).stem().string();
        started.finished = false;
        if (progress) progress(started);
      }
      TaskResult result = RunTask(file, *generator, **job_store, evaluators, base, options.verify_only,
                                  options.perf_divisor, run_id, cancel);
      // Stopped half-way: no row, so the task stays pending and --resume runs it.
      if (result.status == TaskStatus::kPending) return;
      if (!device_recorded && !evaluators.empty()) {
        Result<nlohmann::json> device = evaluators.begin()->second->Device();
        std::lock_guard<std::mutex> lock(mu);
        if (device.ok() && !device_recorded) {
          device_recorded = true;
          (void)(*job_store)->SetSuiteRunDevice(suite_id, DeviceLabel(*device), SoftwareLabel(*device));
        }
      }
      SuiteTaskRow row;
      row.suite_run_id = suite_id;
      row.task_name = result.task;
      row.task_path = file;
      row.status = TaskStatusName(result.status);
      row.result_json = ToJson(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      Status recorded = (*job_store)->PutSuiteTask(row);
      std::lock_guard<std::mutex> lock(mu);
      if (!recorded.ok()) {
        if (first_error.ok()) first_error = recorded;
        return;
      }
      counts.done++;
      if (result.status == TaskStatus::kCorrect) counts.correct++;
      else counts.failed++;
      SuiteProgress done = counts;
      done.task = result.task;
      done.finished = true;
      done.result = result;
      if (progress) progress(done);
    }
  };

  std::vector<std::thread> threads;
  const int jobs = std::min<int>(options.jobs, std::max<int>(1, static_cast<int>(todo.size())));
  for (int i = 0; i < jobs; ++i) threads.emplace_back(job, i);
  for (std::thread& t : threads) t.join();

  // Cancelled after the last task finished: nothing was cut short.
  const bool interrupted = cancel && cancel->load() && counts.done < counts.total;
  const std::string status = !first_error.ok() ? "failed" : interrupted ? "interrupted" : "ok";
  (void)store->FinishSuiteRun(suite_id, status);
  (void)store->FinishRun(run_id, status);
  if (!first_error.ok()) return first_error;
  return LoadSuiteRun(*store, suite_id);
}

}  // namespace anvil::suite
