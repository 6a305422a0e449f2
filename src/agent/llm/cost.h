// Token and cost accounting: what a model's tokens cost, and running totals
// over many calls (a session, a round, the parallel candidates of a round).
//
// Prices are the user's (LlmConfig's [prices] table, USD per million tokens);
// Anvil ships none, because they change and differ per endpoint. Without a
// price a call's cost is unknown, never silently zero.
#pragma once

#include <mutex>
#include <optional>

#include "agent/llm/chat.h"

namespace anvil::llm {

struct Price {
  double input_usd_per_mtok = 0;   // USD per million input (prompt) tokens
  double output_usd_per_mtok = 0;  // USD per million output (completion) tokens
};

double CostUsd(const Usage& usage, const Price& price);

struct UsageTotals {
  int calls = 0;                 // calls that returned a reply
  int attempts = 0;              // HTTP requests those calls sent
  Usage usage;                   // tokens over all calls
  double cost_usd = 0;           // over the calls with a known cost
  int calls_without_price = 0;   // calls whose cost is unknown (not in cost_usd)
  double latency_s = 0;          // summed wall time of the calls
};

// Thread-safe accumulator: parallel candidates add to one ledger.
class UsageLedger {
 public:
  void Add(const ChatResponse& response);
  UsageTotals Totals() const;

 private:
  mutable std::mutex mu_;
  UsageTotals totals_;
};

}  // namespace anvil::llm
