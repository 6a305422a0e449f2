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

#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "verify/protocol.h"
#include "worker/case_runner.h"
#include "worker/evaluation_context.h"
#include "worker/sandbox.h"
#include "worker/timing.h"

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
  void Send(const nlohmann::json& j) {
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
  }

 private:
  int fd_;
  FILE* out_;
};

void Done(Channel& ch, std::optional<Verdict> verdict, const std::string& reason) {
  nlohmann::json j = {{"type", "done"}, {"reason", reason}};
  if (verdict) j["verdict"] = VerdictName(*verdict);
  ch.Send(j);
}

void Serve(Channel& ch, const EvaluateRequest& request) {
  auto ctx_or = EvaluationContext::Create(request);
  if (!ctx_or.ok()) {
    ch.Send({{"type", "done"}, {"error", "worker could not load the task: " + ctx_or.status().message()}});
    return;
  }
  EvaluationContext ctx = std::move(ctx_or).value();
  auto lib = CandidateLibrary::Load(request.library_path);
  if (!lib.ok()) {
    Done(ch, Verdict::kLoadError, lib.status().message());
    return;
  }
  ctx.library = std::move(lib).value();
  at::set_num_threads(ctx.threads);

  bool all_correct = true;
  for (const CaseSpec& spec : request.cases) {
    ch.Send({{"type", "begin"}, {"phase", "correctness"}, {"index", spec.index}});
    CaseOutcome o = RunCorrectnessCase(ctx, spec);
    all_correct = all_correct && o.verdict == Verdict::kCorrect;
    ch.Send(ToJson(o));
  }
  if (request.mode == EvalMode::kBench && all_correct) {
    const PerformanceSpec& perf = ctx.task.performance;
    for (const CaseSpec& spec : request.perf_cases) {
      ch.Send({{"type", "begin"}, {"phase", "performance"}, {"index", spec.index}});
      PerformanceResult r = TimePerformanceCase(ctx, spec, perf.warmup, perf.trials, perf.rotations,
                                                [&] { ch.Send({{"type", "heartbeat"}}); });
      if (r.failure) {
        Done(ch, r.failure->verdict, r.failure->reason);
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
                 "address space a candidate may add to the started worker's, MiB (0: no limit)");
  app.add_option("--scratch-dir", options.scratch_dir, "the only directory the worker may write")->required();
  bool no_network_isolation = false;
  app.add_flag("--no-network-isolation", no_network_isolation, "keep the host network namespace");
  CLI11_PARSE(app, argc, argv);
  options.isolate_network = !no_network_isolation;

  worker::Channel channel;
  SandboxReport report;
  worker::ApplyProcessLimits(options, report);
  if (chdir(options.scratch_dir.c_str()) != 0) report.notes += "; cannot chdir to scratch dir";

  // Create LibTorch's and OpenMP's thread pools before seccomp, and prove the
  // reference path works, so a broken install is reported here and not blamed
  // on the first candidate.
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  (void)at::randn({64, 64}).softmax(-1).sum().item<double>();
  worker::LimitAddressSpace(options, report);
  worker::ForbidProcessCreation(report);

  nlohmann::json hello = {{"type", "hello"}, {"pid", getpid()}, {"sandbox", ToJson(report)}};
  channel.Send(hello);

  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json msg = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (msg.is_discarded() || !msg.contains("type")) {
      channel.Send({{"type", "done"}, {"error", "worker received a malformed request"}});
      continue;
    }
    if (msg["type"] == "shutdown") break;
    auto request = EvaluateRequestFromJson(msg);
    if (!request.ok()) {
      channel.Send({{"type", "done"}, {"error", request.status().message()}});
      continue;
    }
    worker::Serve(channel, *request);
  }
  return 0;
}
