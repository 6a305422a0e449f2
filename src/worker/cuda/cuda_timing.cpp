#include "worker/cuda/cuda_timing.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "worker/case_runner.h"
#include "worker/cuda/cuda_device.h"
#include "worker/eager_baseline.h"
#include "worker/expectation.h"
#include "worker/heartbeat.h"

namespace anvil::worker {
namespace {

using Clock = std::chrono::steady_clock;

double Ns(Clock::duration d) { return std::chrono::duration<double, std::nano>(d).count(); }

double Median(std::vector<double> v) {
  double m = 0, q1 = 0, q3 = 0;
  Summarize(v, m, q1, q3);
  return m;
}

// The samples of one subject.
struct Series {
  std::vector<double> event_ns, wall_ns, drain_ns;
};

TimingOutcome Outcome(int index, const char* subject, Series s) {
  TimingOutcome t;
  t.index = index;
  t.subject = subject;
  t.threads = 1;
  Summarize(s.event_ns, t.median_ns, t.q1_ns, t.q3_ns);
  t.wall_median_ns = Median(s.wall_ns);
  t.drain_median_ns = Median(s.drain_ns);
  t.samples_ns = std::move(s.event_ns);
  t.l2_flushed = true;
  return t;
}

class Events {
 public:
  Events() {
    cudaEventCreate(&start_);
    cudaEventCreate(&end_);
  }
  ~Events() {
    cudaEventDestroy(start_);
    cudaEventDestroy(end_);
  }
  cudaEvent_t start() const { return start_; }
  cudaEvent_t end() const { return end_; }

 private:
  cudaEvent_t start_, end_;
};

// Viewed as unsigned integers of the element size: NaN payloads compare equal to themselves.
at::Tensor Bits(const at::Tensor& t) {
  switch (t.element_size()) {
    case 1: return t.view(at::kByte);
    case 2: return t.view(at::kShort);
    case 4: return t.view(at::kInt);
    default: return t.view(at::kLong);
  }
}

}  // namespace

PerformanceResult TimeCudaPerformanceCase(const EvaluationContext& ctx, const CaseSpec& spec, int warmup, int trials,
                                          int rotations, const std::function<void()>& heartbeat) {
  auto* dev = static_cast<CudaDevice*>(ctx.device);
  auto stream = static_cast<cudaStream_t>(dev->stream());
  PerformanceResult result;
  auto fail = [&](Verdict v, std::string reason) {
    CaseOutcome o;
    o.index = spec.index;
    o.verdict = v;
    o.reason = "while timing " + spec.Label() + ": " + std::move(reason);
    result.failure = o;
    return result;
  };
  const int R = std::max(1, rotations), V = R + 1;
  const size_t num_outputs = ctx.task.outputs.size();

  // Value sets: pristine device copies, the f64 reference and the tolerance of each.
  // Harness work only (no candidate code runs), and at GPU sizes it is long:
  // generating 16.8M-element inputs on the host and calibrating each value
  // set's tolerance took more than the case timeout on a loaded machine (a
  // suite run with four workers had nearly every task killed here), so it
  // runs under heartbeats.
  std::vector<std::vector<at::Tensor>> host_values(V), values(V);
  std::vector<Expectation> expectation(V);
  Status prepared = WithHeartbeat(heartbeat, [&]() -> Status {
    for (int v = 0; v < V; ++v) {
      CaseSpec s = spec;
      s.seed = spec.seed + static_cast<uint64_t>(v) * 7919;
      auto host = MakeHostInputs(ctx, s);
      if (!host.ok()) return host.status();
      host_values[v] = std::move(host).value();
      for (const at::Tensor& t : host_values[v]) values[v].push_back(dev->Place(t));
      auto e = Expect(ctx, spec, values[v]);
      if (!e.ok()) return e.status().Context("reference failed");
      expectation[v] = std::move(e).value();
    }
    return Status::Ok();
  });
  if (!prepared.ok()) return fail(Verdict::kRuntimeError, prepared.message());

  // Buffer sets, poison templates, the L2 flush buffer.
  std::vector<std::vector<at::Tensor>> inputs(R), outputs(R);
  for (int b = 0; b < R; ++b) {
    for (const at::Tensor& t : host_values[b % V]) inputs[b].push_back(dev->Place(t));
    auto out = MakeOutputs(ctx, spec, inputs[b]);
    if (!out.ok()) return fail(Verdict::kRuntimeError, out.status().message());
    outputs[b] = std::move(out).value();
  }
  std::vector<at::Tensor> poison(num_outputs);
  for (size_t j = 0; j < num_outputs; ++j)
    if (!ctx.task.outputs[j].inplace)
      poison[j] = dev->NewOutput(outputs[0][j].scalar_type(), outputs[0][j].sizes().vec());
  const size_t flush_bytes = std::max<size_t>(2 * static_cast<size_t>(dev->properties().l2CacheSize), 8 << 20);
  at::Tensor flush = at::empty({static_cast<int64_t>(flush_bytes)},
                               at::TensorOptions().dtype(at::kByte).device(at::kCUDA, dev->index()));

  auto prepare = [&](int i, bool poison_outputs) {
    const int b = i % R, v = i % V;
    for (size_t k = 0; k < inputs[b].size(); ++k) dev->CopySpan(inputs[b][k], values[v][k]);
    if (poison_outputs)
      for (size_t j = 0; j < num_outputs; ++j)
        if (poison[j].defined()) dev->CopySpan(outputs[b][j], poison[j]);
    cudaMemsetAsync(flush.data_ptr(), i & 0xff, flush_bytes, stream);
  };

  Events ev;
  auto last_beat = Clock::now();
  // One timed trial of `call` (which returns "" or an error); faults become the result's failure.
  auto timed = [&](auto&& call, Series& series, bool record) -> std::optional<std::pair<Verdict, std::string>> {
    cudaEventRecord(ev.start(), stream);
    auto t0 = Clock::now();
    std::string error = call();
    cudaEventRecord(ev.end(), stream);
    cudaEventSynchronize(ev.end());
    auto ta = Clock::now();
    std::optional<DeviceFault> fault = dev->Finish();
    auto tb = Clock::now();
    if (fault) return std::make_pair(fault->verdict, fault->message);
    if (!error.empty()) return std::make_pair(Verdict::kRuntimeError, error);
    float ms = 0;
    cudaEventElapsedTime(&ms, ev.start(), ev.end());
    if (record) {
      series.event_ns.push_back(static_cast<double>(ms) * 1e6);
      series.wall_ns.push_back(Ns(tb - t0));
      series.drain_ns.push_back(Ns(tb - ta));
    }
    if (tb - last_beat > std::chrono::seconds(1)) {
      heartbeat();
      last_beat = tb;
    }
    return std::nullopt;
  };

  // Candidate.
  Series cand;
  std::vector<std::vector<at::Tensor>> first(V, std::vector<at::Tensor>(num_outputs));
  for (int i = 0; i < warmup + trials; ++i) {
    const int b = i % R, v = i % V;
    prepare(i, true);
    auto failure = timed(
        [&]() -> std::string {
          CallResult c = ctx.candidate->Call(inputs[b], outputs[b], ctx.named_attrs, ctx.threads, stream);
          return c.status == 0 ? "" : fmt::format("anvil_kernel returned status {}: {}", c.status, c.message);
        },
        cand, i >= warmup);
    if (failure) return fail(failure->first, failure->second);
    for (size_t j = 0; j < num_outputs; ++j) {
      const at::Tensor& out = outputs[b][j];
      const std::string& name = ctx.task.outputs[j].name;
      if (!first[v][j].defined() || !ctx.task.compare.deterministic) {
        // Harness work (a host copy and an f64 comparison of up to 16.8M
        // elements, seconds on a loaded host): under heartbeats like the
        // preparation; the candidate's call above is not.
        CompareResult cmp = WithHeartbeat(heartbeat, [&] { return expectation[v].Check(ctx, j, dev->ToHost(out)); });
        if (!cmp.ok)
          return fail(Verdict::kWrong, fmt::format("output '{}' of timed call {} (value set {} in buffer set {}) is "
                                                   "wrong (results kept between calls, or work that did not wait "
                                                   "for the harness's earlier work on call->stream, e.g. on a "
                                                   "side stream): {}",
                                                   name, i, v, b, cmp.reason));
        first[v][j] = out.clone();
      } else if (!at::equal(Bits(out), Bits(first[v][j]))) {
        return fail(Verdict::kWrong, fmt::format("output '{}' of timed call {} differs from the first call on the "
                                                 "same values (value set {}, buffer set {}): results kept between "
                                                 "calls, or nondeterminism",
                                                 name, i, v, b));
      }
    }
  }
  result.timings.push_back(Outcome(spec.index, "candidate", std::move(cand)));

  // PyTorch eager, in the precision the calibration used.
  const ReferenceCase where = ctx.ReferenceCaseFor(spec);
  auto probe =
      WithHeartbeat(heartbeat, [&] { return EvaluateEager(*ctx.reference, spec.variant, values[0], where); });
  if (!probe.ok()) return fail(Verdict::kRuntimeError, "eager baseline failed: " + probe.status().message());
  Series eager;
  for (int i = 0; i < warmup + trials; ++i) {
    const int b = i % R;
    prepare(i, false);
    auto failure = timed(
        [&]() -> std::string {
          auto out = ctx.reference->Evaluate(spec.variant, inputs[b], where, probe->precision);
          return out.ok() ? "" : "eager baseline failed: " + out.status().message();
        },
        eager, i >= warmup);
    if (failure) return fail(Verdict::kRuntimeError, failure->second);
  }
  result.timings.push_back(Outcome(spec.index, "eager", eager));
  result.timings.back().note = probe->note;

  // torch.compile: compiled (untimed, with heartbeats) and checked on value set 0 first.
  if (ctx.compiled_baseline) {
    auto warm = WithHeartbeat(heartbeat, [&] { return ctx.compiled_baseline(spec.variant, values[0], where); });
    std::string skip;
    if (!warm.ok()) {
      skip = "torch.compile baseline failed: " + warm.status().message();
    } else {
      for (size_t j = 0; j < num_outputs && skip.empty(); ++j) {
        CompareResult cmp = WithHeartbeat(heartbeat, [&] { return expectation[0].Check(ctx, j, dev->ToHost((*warm)[j])); });
        if (!cmp.ok) skip = "torch.compile baseline disagrees with the reference, not timed: " + cmp.reason;
      }
    }
    if (skip.empty()) {
      Series compiled;
      for (int i = 0; i < warmup + trials && skip.empty(); ++i) {
        const int b = i % R;
        prepare(i, false);
        auto failure = timed(
            [&]() -> std::string {
              auto out = ctx.compiled_baseline(spec.variant, inputs[b], where);
              return out.ok() ? "" : "torch.compile baseline failed: " + out.status().message();
            },
            compiled, i >= warmup);
        if (failure) skip = failure->second;
      }
      if (skip.empty()) result.timings.push_back(Outcome(spec.index, "compile", std::move(compiled)));
    }
    if (!skip.empty()) result.timings.back().note += (result.timings.back().note.empty() ? "" : "; ") + skip;
  }

  // Work left on other streams: the device drained long after the candidate's stream.
  const TimingOutcome& c = result.timings[0];
  const TimingOutcome& e = result.timings[1];
  const double excess = c.drain_median_ns - e.drain_median_ns;
  if (excess > std::max(2000.0, 0.25 * c.median_ns))
    return fail(Verdict::kSuspicious,
                fmt::format("the device kept working {:.1f} us (median) after the stream given to the candidate was "
                            "done (eager: {:.1f} us): work launched on another stream and not joined back to "
                            "call->stream escapes the stream's timing events, so this timing is not credited",
                            c.drain_median_ns / 1e3, e.drain_median_ns / 1e3));
  return result;
}

}  // namespace anvil::worker
