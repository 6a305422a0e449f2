// Token pricing and the usage ledger (see cost.h).
#include "agent/llm/cost.h"

namespace anvil::llm {

double CostUsd(const Usage& usage, const Price& price) {
  return (static_cast<double>(usage.input_tokens) * price.input_usd_per_mtok +
          static_cast<double>(usage.output_tokens) * price.output_usd_per_mtok) /
         1e6;
}

void UsageLedger::Add(const ChatResponse& response) {
  std::lock_guard<std::mutex> lock(mu_);
  totals_.calls += 1;
  totals_.attempts += response.attempts;
  totals_.usage += response.usage;
  totals_.latency_s += response.latency_s;
  if (response.cost_usd)
    totals_.cost_usd += *response.cost_usd;
  else
    totals_.calls_without_price += 1;
}

UsageTotals UsageLedger::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

}  // namespace anvil::llm
