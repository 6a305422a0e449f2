#include "verify/protocol.h"

#include <cmath>

#include <fmt/format.h>

namespace anvil {

using nlohmann::json;

// JSON decoding errors are protocol errors: the peer is our own worker or
// orchestrator, so a malformed message means a version mismatch or a bug.
template <typename F>
static auto Decode(const char* what, F&& f) -> Result<decltype(f())> {
  try {
    return f();
  } catch (const json::exception& e) {
    return ProtocolError(fmt::format("malformed {} message: {}", what, e.what()));
  }
}

json ToJson(const CaseSpec& c) {
  return {{"index", c.index}, {"variant", c.variant}, {"variant_label", c.variant_label}, {"bindings", c.bindings},
          {"layout", c.layout}, {"distribution", c.distribution}, {"seed", c.seed}};
}

Result<CaseSpec> CaseSpecFromJson(const json& j) {
  return Decode("case", [&] {
    CaseSpec c;
    c.index = j.at("index");
    c.variant = j.at("variant");
    c.variant_label = j.at("variant_label");
    c.bindings = j.at("bindings").get<Bindings>();
    c.layout = j.at("layout");
    c.distribution = j.at("distribution");
    c.seed = j.at("seed");
    return c;
  });
}

json ToJson(const EvaluateRequest& r) {
  json cases = json::array(), perf = json::array();
  for (auto& c : r.cases) cases.push_back(ToJson(c));
  for (auto& c : r.perf_cases) perf.push_back(ToJson(c));
  return {{"type", "evaluate"},
          {"mode", r.mode == EvalMode::kBench ? "bench" : "verify"},
          {"task_text", r.task_text},
          {"task_origin", r.task_origin},
          {"library_path", r.library_path},
          {"backend", r.backend},
          {"threads", r.threads},
          {"cases", cases},
          {"perf_cases", perf}};
}

Result<EvaluateRequest> EvaluateRequestFromJson(const json& j) {
  auto base = Decode("evaluate", [&] {
    EvaluateRequest r;
    r.mode = j.at("mode") == "bench" ? EvalMode::kBench : EvalMode::kVerify;
    r.task_text = j.at("task_text");
    r.task_origin = j.at("task_origin");
    r.library_path = j.at("library_path");
    r.backend = j.at("backend");
    r.threads = j.at("threads");
    return r;
  });
  if (!base.ok()) return base.status();
  EvaluateRequest r = std::move(base).value();
  for (const json& c : j.value("cases", json::array())) {
    ANVIL_ASSIGN_OR_RETURN(CaseSpec spec, CaseSpecFromJson(c));
    r.cases.push_back(std::move(spec));
  }
  for (const json& c : j.value("perf_cases", json::array())) {
    ANVIL_ASSIGN_OR_RETURN(CaseSpec spec, CaseSpecFromJson(c));
    r.perf_cases.push_back(std::move(spec));
  }
  return r;
}

json ToJson(const CaseOutcome& o) {
  json mism = json::array();
  for (auto& m : o.first_mismatches)
    mism.push_back({{"index", m.index}, {"expected", m.expected}, {"actual", m.actual}});
  return {{"type", "case"}, {"index", o.index}, {"verdict", VerdictName(o.verdict)}, {"reason", o.reason},
          {"output", o.output}, {"max_abs_err", o.max_abs_err}, {"max_rel_err", o.max_rel_err},
          {"worst_ratio", o.worst_ratio}, {"mismatches", o.mismatches}, {"numel", o.numel},
          {"first_mismatches", mism}, {"tolerance", o.tolerance}, {"statistical", o.statistical},
          {"seconds", o.seconds}};
}

// NaN and Inf do not survive JSON; errors are reported as null then.
static double NumberOr(const json& j, const char* key, double fallback) {
  auto it = j.find(key);
  return it == j.end() || !it->is_number() ? fallback : it->get<double>();
}

Result<CaseOutcome> CaseOutcomeFromJson(const json& j) {
  return Decode("case", [&] {
    CaseOutcome o;
    o.index = j.at("index");
    auto v = ParseVerdict(j.at("verdict").get<std::string>());
    if (!v) throw json::other_error::create(501, "unknown verdict", &j);
    o.verdict = *v;
    o.reason = j.value("reason", "");
    o.output = j.value("output", "");
    o.max_abs_err = NumberOr(j, "max_abs_err", INFINITY);
    o.max_rel_err = NumberOr(j, "max_rel_err", INFINITY);
    o.worst_ratio = NumberOr(j, "worst_ratio", INFINITY);
    o.mismatches = j.value("mismatches", 0);
    o.numel = j.value("numel", 0);
    for (const json& m : j.value("first_mismatches", json::array()))
      o.first_mismatches.push_back(
          {m.at("index").get<std::vector<int64_t>>(), NumberOr(m, "expected", NAN), NumberOr(m, "actual", NAN)});
    o.tolerance = j.value("tolerance", "");
    o.statistical = j.value("statistical", false);
    o.seconds = j.value("seconds", 0.0);
    return o;
  });
}

json ToJson(const TimingOutcome& t) {
  return {{"type", "timing"}, {"index", t.index}, {"subject", t.subject}, {"threads", t.threads},
          {"samples_ns", t.samples_ns}, {"median_ns", t.median_ns}, {"q1_ns", t.q1_ns}, {"q3_ns", t.q3_ns}, {"note", t.note},
          {"wall_median_ns", t.wall_median_ns}, {"drain_median_ns", t.drain_median_ns}, {"l2_flushed", t.l2_flushed}};
}

Result<TimingOutcome> TimingOutcomeFromJson(const json& j) {
  return Decode("timing", [&] {
    TimingOutcome t;
    t.index = j.at("index");
    t.subject = j.at("subject");
    t.threads = j.at("threads");
    t.samples_ns = j.at("samples_ns").get<std::vector<double>>();
    t.median_ns = j.at("median_ns");
    t.q1_ns = j.at("q1_ns");
    t.q3_ns = j.at("q3_ns");
    t.note = j.value("note", "");
    t.wall_median_ns = j.value("wall_median_ns", 0.0);
    t.drain_median_ns = j.value("drain_median_ns", 0.0);
    t.l2_flushed = j.value("l2_flushed", false);
    return t;
  });
}

json ToJson(const SandboxReport& s) {
  return {{"network_isolated", s.network_isolated}, {"seccomp", s.seccomp}, {"landlock", s.landlock},
          {"memory_limit_mb", s.memory_limit_mb}, {"base_address_space_mb", s.base_address_space_mb},
          {"notes", s.notes}};
}

SandboxReport SandboxReportFromJson(const json& j) {
  SandboxReport s;
  s.network_isolated = j.value("network_isolated", false);
  s.seccomp = j.value("seccomp", false);
  s.landlock = j.value("landlock", false);
  s.memory_limit_mb = j.value("memory_limit_mb", 0);
  s.base_address_space_mb = j.value("base_address_space_mb", 0);
  s.notes = j.value("notes", "");
  return s;
}

}  // namespace anvil
