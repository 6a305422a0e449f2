// A performance case's timing as the store keeps it (store::TimingRecord:
// the medians and samples in columns, the GPU extras and the note in
// detail_json) and back again. One mapping for the evaluator, which records
// timings, and for `anvil gen`, which rebuilds a report from them.
#pragma once

#include <string>

#include "store/store.h"
#include "verify/protocol.h"

namespace anvil {

TimingRecord ToTimingRecord(const TimingOutcome& t, const std::string& case_label);
// `index` is the performance case the record's label names.
TimingOutcome FromTimingRecord(const TimingRecord& r, int index);

}  // namespace anvil
