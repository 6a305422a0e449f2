#include "worker/timing.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "anvil/kernel.h"
#include "worker/case_runner.h"
#include "worker/eager_baseline.h"
#include "worker/expectation.h"
#include "worker/heartbeat.h"

namespace anvil::worker {
namespace {

using Clock = std::chrono::steady_clock;

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

TimingOutcome Outcome(int index, const char* subject, int threads, std::vector<double> samples) {
  TimingOutcome t;
  t.index = index;
  t.subject = subject;
  t.threads = threads;
  Summarize(samples, t.median_ns, t.q1_ns, t.q3_ns);
  t.samples_ns = std::move(samples);
  return t;
}

}  // namespace

void Summarize(const std::vector<double>& samples, double& median, double& q1, double& q3) {
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  median = Quantile(s, 0.5);
  q1 = Quantile(s, 0.25);
  q3 = Quantile(s, 0.75);
}

PerformanceResult TimePerformanceCase(const EvaluationContext& ctx, const CaseSpec& spec, int warmup, int trials,
                                      int rotations, const std::function<void()>& heartbeat) {
  PerformanceResult result;
  CaseOutcome base;
  base.index = spec.index;
  auto fail = [&](Verdict v, std::string reason) {
    CaseOutcome o = base;
    o.verdict = v;
    o.reason = "while timing " + spec.Label() + ": " + std::move(reason);
    result.failure = o;
    return result;
  };

  std::vector<std::vector<at::Tensor>> inputs, outputs;
  for (int r = 0; r < rotations; ++r) {
    CaseSpec rotated = spec;
    rotated.seed = spec.seed + static_cast<uint64_t>(r) * 7919;
    auto in = MakeInputs(ctx, rotated);
    if (!in.ok()) return fail(Verdict::kRuntimeError, in.status().message());
    auto out = MakeOutputs(ctx, rotated, *in);
    if (!out.ok()) return fail(Verdict::kRuntimeError, out.status().message());
    inputs.push_back(std::move(in).value());
    outputs.push_back(std::move(out).value());
  }

  // Candidate.
  std::vector<double> samples;
  auto last_beat = Clock::now();
  for (int i = 0; i < warmup + trials; ++i) {
    int r = i % rotations;
    auto t0 = Clock::now();
    CallResult call = ctx.candidate->Call(inputs[r], outputs[r], ctx.named_attrs, ctx.threads, ctx.device->stream());
    auto t1 = Clock::now();
    if (call.status != ANVIL_OK)
      return fail(Verdict::kRuntimeError, fmt::format("anvil_kernel returned status {}: {}", call.status, call.message));
    if (i >= warmup) samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    if (t1 - last_beat > std::chrono::seconds(1)) {
      heartbeat();
      last_beat = t1;
    }
  }
  result.timings.push_back(Outcome(spec.index, "candidate", ctx.threads, std::move(samples)));

  // The outputs of the timed calls must still be right (the last call of each
  // rotation wrote them; in-place tasks are skipped: their inputs were rewritten
  // by every call).
  bool inplace = false;
  for (const TaskOutput& o : ctx.task.outputs) inplace = inplace || o.inplace.has_value();
  if (!inplace) {
    // The f64 reference at performance sizes takes long on a CPU: harness
    // work, under heartbeats (the candidate's calls are over).
    std::optional<PerformanceResult> failed = WithHeartbeat(heartbeat, [&]() -> std::optional<PerformanceResult> {
      for (int r = 0; r < rotations; ++r) {
        auto expectation = Expect(ctx, spec, inputs[r]);
        if (!expectation.ok())
          return fail(Verdict::kRuntimeError, "reference failed: " + expectation.status().message());
        for (size_t j = 0; j < expectation->expected.size(); ++j) {
          CompareResult cmp = expectation->Check(ctx, j, outputs[r][j]);
          if (!cmp.ok)
            return fail(Verdict::kWrong, fmt::format("output '{}' of a timed call is wrong (the kernel behaves "
                                                     "differently when called repeatedly): {}",
                                                     ctx.task.outputs[j].name, cmp.reason));
        }
      }
      return std::nullopt;
    });
    if (failed) return *failed;
  }

  // PyTorch eager on the same inputs and thread count.
  at::set_num_threads(ctx.threads);
  const ReferenceCase where = ctx.ReferenceCaseFor(spec);
  auto probe = EvaluateEager(*ctx.reference, spec.variant, inputs[0], where);
  if (!probe.ok()) {
    // PyTorch itself cannot run this case (LibTorch 1.13 on the CPU has no
    // f16/bf16 kernel for some ops, e.g. cumsum): that is not the candidate's
    // failure. Its time stands without a baseline (no speedup for the case)
    // and the note says why.
    const std::string& why = probe.status().message();
    result.timings.back().note = "no eager baseline: PyTorch failed on this case: " + why.substr(0, why.find('\n'));
    return result;
  }
  samples.clear();
  for (int i = 0; i < warmup + trials; ++i) {
    int r = i % rotations;
    auto t0 = Clock::now();
    auto out = ctx.reference->Evaluate(spec.variant, inputs[r], where, probe->precision);
    auto t1 = Clock::now();
    if (!out.ok()) return fail(Verdict::kRuntimeError, "eager baseline failed: " + out.status().message());
    if (i >= warmup) samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count());
    if (t1 - last_beat > std::chrono::seconds(1)) {
      heartbeat();
      last_beat = t1;
    }
  }
  result.timings.push_back(Outcome(spec.index, "eager", ctx.threads, std::move(samples)));
  result.timings.back().note = probe->note;
  return result;
}

}  // namespace anvil::worker
