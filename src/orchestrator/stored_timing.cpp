#include "orchestrator/stored_timing.h"

#include <nlohmann/json.hpp>

namespace anvil {

TimingRecord ToTimingRecord(const TimingOutcome& t, const std::string& case_label) {
  nlohmann::json extra = nlohmann::json::object();
  if (t.l2_flushed)
    extra = {{"wall_median_ns", t.wall_median_ns}, {"drain_median_ns", t.drain_median_ns}, {"l2_flushed", true}};
  if (!t.note.empty()) extra["note"] = t.note;
  return TimingRecord{case_label, t.subject,  t.threads, t.median_ns, t.q1_ns, t.q3_ns, t.samples_ns,
                      extra.empty() ? "" : extra.dump()};
}

TimingOutcome FromTimingRecord(const TimingRecord& r, int index) {
  TimingOutcome t;
  t.index = index;
  t.subject = r.subject;
  t.threads = r.threads;
  t.samples_ns = r.samples_ns;
  t.median_ns = r.median_ns;
  t.q1_ns = r.q1_ns;
  t.q3_ns = r.q3_ns;
  auto extra = nlohmann::json::parse(r.detail_json.empty() ? "{}" : r.detail_json, nullptr, false);
  if (extra.is_object()) {
    t.note = extra.value("note", "");
    t.wall_median_ns = extra.value("wall_median_ns", 0.0);
    t.drain_median_ns = extra.value("drain_median_ns", 0.0);
    t.l2_flushed = extra.value("l2_flushed", false);
  }
  return t;
}

}  // namespace anvil
