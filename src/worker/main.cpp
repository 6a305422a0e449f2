// anvil-worker: the sandboxed process that runs candidates.
//
// Started by the orchestrator (src/orchestrator/worker_client.h) with its
// stdin/stdout as the protocol pipe (src/verify/protocol.h). It applies the
// sandbox, warms LibTorch up, forbids process creation, says hello, then
// serves evaluate requests one at a time until stdin closes. Anything a
// candidate prints to stdout is redirected to stderr, which the orchestrator
// keeps in a log and quotes when the worker dies.
#include <unistd.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/cpu_set.h"
#include "verify/protocol.h"
#include "worker/candidate_library.h"
#include "worker/case_runner.h"
#include "worker/evaluation_context.h"
#include "worker/sandbox.h"
#include "worker/compiled_baseline.h"
#include "worker/device.h"
#include "worker/heartbeat.h"
#include "worker/timing.h"
#if ANVIL_WITH_CUDA
#include "worker/cuda/cuda_timing.h"
#include "worker/cuda/device_ceilings.h"
#endif
#if ANVIL_WITH_PYTHON
#include "worker/python/compile_watch.h"
#include "worker/python/python_runtime.h"
#include "worker/python/triton_candidate.h"
#endif

namespace anvil::worker {
namespace {

// The protocol channel: a private duplicate of the original stdout.
class Channel {
 public:
  Channel() {
    fd_ = dup(1);
    dup2(2, 1);  // candidate printf now lands in stderr
    out_ = fdopen(fd_, "w");
  }
  // Thread-safe: heartbeats may come from a helper thread (heartbeat.h).
  void Send(const nlohmann::json& j) {
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard<std::mutex> lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
  }

 private:
  int fd_;
  FILE* out_;
  std::mutex mutex_;
};

void Done(Channel& ch, std::optional<Verdict> verdict, const std::string& reason, bool retire = false) {
  nlohmann::json j = {{"type", "done"}, {"reason", reason}};
  if (verdict) j["verdict"] = VerdictName(*verdict);
  if (retire) j["retire"] = true;
  ch.Send(j);
}

// The answer to measure_ceilings: the device's copy bandwidth and matmul
// rates, measured now (a few seconds), under the key of DescribeDevice.
nlohmann::json MeasureCeilingsMessage(const Device& device) {
#if ANVIL_WITH_CUDA
  if (device.is_cuda()) {
    auto c = MeasureDeviceCeilings();
    if (!c.ok()) return {{"type", "ceilings"}, {"error", c.status().message()}};
    c->device_key = DescribeDevice(device).value("key", "");
    return {{"type", "ceilings"}, {"ceilings", ToJson(*c)}};
  }
#endif
  return {{"type", "ceilings"}, {"error", "device ceilings are measured on GPUs only"}};
}

// Whether the embedded interpreter started (GPU workers): set once in main.
Status& PythonState() {
  static Status state = Unsupported("Python is started only in GPU workers");
  return state;
}

// Loads the request's candidate: a shared object (cpu, cuda) or a Triton
// file. A failure is the verdict to report.
struct Loaded {
  std::unique_ptr<Candidate> candidate;
  Verdict verdict = Verdict::kCorrect;
  std::string reason;
};

Loaded LoadCandidate(const EvaluateRequest& request, const EvaluationContext& ctx) {
  Loaded l;
  if (request.backend == "triton" && ctx.task.HasViewOutputs()) {
    l.verdict = Verdict::kLoadError;
    l.reason = "view outputs take C++ or CUDA C++ candidates; a Triton kernel cannot return an alias of its input "
               "(the task declares view_of)";
    return l;
  }
  if (request.backend == "triton") {
#if ANVIL_WITH_PYTHON
    if (!PythonState().ok()) {
      l.verdict = Verdict::kLoadError;
      l.reason = "this worker has no usable Python for Triton: " + PythonState().message();
      return l;
    }
    python::TritonLoad t = python::TritonCandidate::Load(request.library_path);
    if (t.candidate) {
      std::vector<std::string> inputs, outputs;
      for (const TaskInput& in : ctx.task.inputs) inputs.push_back(in.name);
      for (const TaskOutput& out : ctx.task.outputs) outputs.push_back(out.name);
      t.candidate->SetNames(std::move(inputs), std::move(outputs));
    }
    l.candidate = std::move(t.candidate);
    l.verdict = t.verdict;
    l.reason = t.reason;
#else
    l.verdict = Verdict::kLoadError;
    l.reason = "this anvil-worker was built without Python; Triton candidates need a build with Python and Triton";
#endif
    return l;
  }
  auto lib = CandidateLibrary::Load(request.library_path);
  if (!lib.ok()) {
    l.verdict = Verdict::kLoadError;
    l.reason = lib.status().message();
    return l;
  }
  l.candidate = std::move(lib).value();
  return l;
}

// The kernels a Triton candidate launched that are not its own (it computed
// with PyTorch): one profiled call on the first case that has work.
std::optional<std::string> ForeignKernelCheck(const EvaluationContext& ctx, const EvaluateRequest& request,
                                              const std::function<void()>& heartbeat) {
#if ANVIL_WITH_PYTHON
  if (request.backend != "triton") return std::nullopt;
  const auto* triton = static_cast<const python::TritonCandidate*>(ctx.candidate.get());
  for (const CaseSpec& spec : request.cases) {
    auto inputs = MakeInputs(ctx, spec);
    if (!inputs.ok()) continue;
    auto outputs = MakeOutputs(ctx, spec, *inputs);
    if (!outputs.ok() || outputs->empty() || (*outputs)[0].numel() == 0) continue;
    // The profiler's first use initialises CUPTI, which can take seconds.
    auto foreign = WithHeartbeat(heartbeat, [&] { return triton->ForeignKernels(*inputs, *outputs, ctx.named_attrs); });
    (void)ctx.device->Finish();
    if (!foreign.ok()) return "could not check which kernels the candidate launched: " + foreign.status().message();
    if (foreign->empty()) return std::nullopt;
    return fmt::format("the candidate launched GPU kernels that are not its @triton.jit kernels: {} (on {}) — it "
                       "computed with PyTorch; candidates may use torch only for allocation and metadata",
                       fmt::join(*foreign, ", "), spec.Label());
  }
#endif
  return std::nullopt;
}

// Starts the embedded Python on first need (a CPU worker evaluating a task
// whose reference is a PyTorch module; GPU workers start it at start-up).
Status StartPython(const std::string& scratch_dir) {
#if ANVIL_WITH_PYTHON
  if (!PythonState().ok()) PythonState() = python::Initialize(scratch_dir, /*with_triton=*/false);
  return PythonState();
#else
  (void)scratch_dir;
  return Unsupported("this anvil-worker was built without Python");
#endif
}

void Serve(Channel& ch, const EvaluateRequest& request, Device& device, const std::string& scratch_dir) {
  auto ctx_or = EvaluationContext::Create(request, [&] { return StartPython(scratch_dir); });
  if (!ctx_or.ok()) {
    ch.Send({{"type", "done"}, {"error", "worker could not load the task: " + ctx_or.status().message()}});
    return;
  }
  EvaluationContext ctx = std::move(ctx_or).value();
  ctx.device = &device;
  if (request.backend != "cpu" && !device.is_cuda()) {
    Done(ch, Verdict::kLoadError, "a " + request.backend + " candidate needs a GPU worker (anvil-worker --device cuda)");
    return;
  }
  Loaded loaded = LoadCandidate(request, ctx);
  if (!loaded.candidate) {
    Done(ch, loaded.verdict, loaded.reason);
    return;
  }
  ctx.candidate = std::move(loaded.candidate);
  at::set_num_threads(ctx.threads);

  bool all_correct = true;
  for (const CaseSpec& spec : request.cases) {
    ch.Send({{"type", "begin"}, {"phase", "correctness"}, {"index", spec.index}});
    CaseOutcome o = RunCorrectnessCase(ctx, spec);
    all_correct = all_correct && o.verdict == Verdict::kCorrect;
    ch.Send(ToJson(o));
    if (device.lost()) {
      Done(ch, std::nullopt, "", /*retire=*/true);
      std::exit(0);
    }
  }
  if (all_correct) {
    ch.Send({{"type", "begin"}, {"phase", "kernel check"}, {"index", -1}});
    if (std::optional<std::string> foreign = ForeignKernelCheck(ctx, request, [&] { ch.Send({{"type", "heartbeat"}}); })) {
      Done(ch, Verdict::kSuspicious, *foreign);
      return;
    }
  }
  // A task with view outputs is never timed (task_file.cpp refuses its
  // [performance]); a request built in code is held to the same rule here.
  if (request.mode == EvalMode::kBench && all_correct && !ctx.task.HasViewOutputs()) {
    if (device.is_cuda() && PythonState().ok()) ctx.compiled_baseline = MakeCompiledBaseline(ctx);
    const PerformanceSpec& perf = ctx.task.performance;
    for (const CaseSpec& spec : request.perf_cases) {
      ch.Send({{"type", "begin"}, {"phase", "performance"}, {"index", spec.index}});
      auto beat = [&] { ch.Send({{"type", "heartbeat"}}); };
      PerformanceResult r =
#if ANVIL_WITH_CUDA
          device.is_cuda() ? TimeCudaPerformanceCase(ctx, spec, perf.warmup, perf.trials, perf.rotations, beat) :
#endif
                           TimePerformanceCase(ctx, spec, perf.warmup, perf.trials, perf.rotations, beat);
      if (r.failure) {
        Done(ch, r.failure->verdict, r.failure->reason, device.lost());
        if (device.lost()) std::exit(0);
        return;
      }
      for (const TimingOutcome& t : r.timings) ch.Send(ToJson(t));
    }
  }
  Done(ch, std::nullopt, "");
}

}  // namespace
}  // namespace anvil::worker

int main(int argc, char** argv) {
  using namespace anvil;
  CLI::App app{"anvil-worker: runs candidate kernels in a sandbox (started by `anvil`, not by hand)"};
  worker::SandboxOptions options;
  app.add_option("--memory-limit-mb", options.memory_limit_mb,
                 "address space a candidate may add to the started worker's, MiB (0: no limit; CPU workers)");
  app.add_option("--scratch-dir", options.scratch_dir, "the only directory the worker may write")->required();
  std::string device_kind = "cpu";
  app.add_option("--device", device_kind, "cpu, or cuda (the first visible GPU)")->capture_default_str();
  bool no_network_isolation = false;
  app.add_flag("--no-network-isolation", no_network_isolation, "keep the host network namespace");
  CLI11_PARSE(app, argc, argv);
  options.isolate_network = !no_network_isolation;
  const bool gpu = device_kind == "cuda";

  worker::Channel channel;
  SandboxReport report;
  // A CUDA process opens the /dev/nvidia* files read-write (at start-up and
  // when it maps memory); nothing else under /dev becomes writable.
  if (gpu)
    for (const auto& entry : std::filesystem::directory_iterator("/dev"))
      if (entry.path().filename().string().rfind("nvidia", 0) == 0) options.writable_devices.push_back(entry.path());
  // The CUDA context is created before the sandbox: under Landlock and the
  // new network namespace the driver fails to initialise
  // (cudaErrorOperatingSystem, seen on an H100 host). Landlock then confines
  // the worker's thread and every thread created later, which includes all
  // the threads that run candidate code.
  // Seconds per start-up stage, in the hello: worker start is part of every
  // candidate's evaluation overhead, and a slow one should say where.
  nlohmann::json startup = nlohmann::json::object();
  auto stage_start = std::chrono::steady_clock::now();
  auto stage_done = [&](const char* stage) {
    auto now = std::chrono::steady_clock::now();
    startup[stage] = std::chrono::duration<double>(now - stage_start).count();
    stage_start = now;
  };
  Result<std::unique_ptr<worker::Device>> device = Unsupported("not opened");
  if (gpu) device = worker::OpenDevice(device_kind);
  stage_done("open_device");
  worker::ApplyProcessLimits(options, report);
  if (chdir(options.scratch_dir.c_str()) != 0) report.notes += "; cannot chdir to scratch dir";
  if (!gpu) device = worker::OpenDevice(device_kind);
  stage_done("sandbox");
  if (!device.ok()) {
    std::fprintf(stderr, "anvil-worker: %s\n", device.status().message().c_str());
    return 3;
  }
  // Create LibTorch's and OpenMP's thread pools (and the CUDA context) before
  // seccomp, and prove the reference path works, so a broken install is
  // reported here and not blamed on the first candidate.
  at::set_num_threads(AllowedCpuCount());
  (void)at::randn({64, 64}).softmax(-1).sum().item<double>();
  if (gpu) (void)at::randn({64, 64}, at::kCUDA).softmax(-1).sum().item<double>();
  stage_done("torch_warmup");

  nlohmann::json python = {{"available", false}};
#if ANVIL_WITH_PYTHON
  if (gpu) {
    worker::PythonState() = worker::python::Initialize(options.scratch_dir, /*with_triton=*/true);
    python["available"] = worker::PythonState().ok();
    if (!worker::PythonState().ok()) python["error"] = worker::PythonState().message();
    stage_done("python");
  }
#endif
  if (gpu) {
    report.notes += (report.notes.empty() ? "" : "; ") +
                    std::string("no address-space limit on a GPU worker (CUDA maps device memory into it; device "
                                "memory is bounded by the GPU)");
  } else {
    worker::LimitAddressSpace(options, report);
  }
  if (worker::PythonState().ok()) {
    report.notes += (report.notes.empty() ? "" : "; ") +
                    std::string("process creation allowed: Triton and torch.compile run ptxas and a C compiler "
                                "(writes stay confined to the scratch dir, no network)");
  } else {
    worker::ForbidProcessCreation(report);
  }

  nlohmann::json hello = {{"type", "hello"},
                          {"pid", getpid()},
                          {"sandbox", ToJson(report)},
                          {"device", worker::DescribeDevice(**device)},
                          {"python", python},
                          {"startup_seconds", startup}};
  channel.Send(hello);
#if ANVIL_WITH_PYTHON
  // Heartbeats while Triton JIT-compiles a candidate's kernel (compile_watch.h).
  std::optional<worker::BeatWhileBusy> compile_beats;
  if (worker::PythonState().ok())
    compile_beats.emplace(worker::python::CompileActivitySeconds, [&] { channel.Send({{"type", "heartbeat"}}); });
#endif

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json msg = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded() || !msg.contains("type")) {
      channel.Send({{"type", "done"}, {"error", "worker received a malformed request"}});
      continue;
    }
    if (msg["type"] == "shutdown") break;
    if (msg["type"] == "measure_ceilings") {
      channel.Send(worker::MeasureCeilingsMessage(**device));
      continue;
    }
    auto request = EvaluateRequestFromJson(msg);
    if (!request.ok()) {
      channel.Send({{"type", "done"}, {"error", request.status().message()}});
      continue;
    }
    worker::Serve(channel, *request, **device, options.scratch_dir);
  }
  return 0;
}
