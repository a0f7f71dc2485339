#include "store/idempotency.h"

#include <algorithm>

namespace omniflow {

bool AnyKeyed(std::span<const InteractionRecord> batch) {
  return std::any_of(batch.begin(), batch.end(),
                     [](const InteractionRecord& r) { return r.idempotency.has_value(); });
}

std::vector<std::optional<PriorSave>> PlanKeyedAppend(std::span<const InteractionRecord> batch,
                                                      const HeldKeys& held) {
  std::vector<std::optional<PriorSave>> priors(batch.size());
  HeldKeys stored_here;
  for (size_t i = 0; i < batch.size(); ++i) {
    const InteractionRecord& r = batch[i];
    if (!r.idempotency) continue;
    std::pair<std::string, std::string> key(r.user_id, r.idempotency->key);
    if (auto found = held.find(key); found != held.end()) {
      priors[i] = found->second;
    } else if (auto here = stored_here.find(key); here != stored_here.end()) {
      priors[i] = here->second;
    } else {
      stored_here.emplace(std::move(key),
                          PriorSave{r.interaction_id, r.ts_us, r.idempotency->request_hash});
    }
  }
  return priors;
}

std::optional<int64_t> IdempotencyPurgeDue(std::span<const InteractionRecord> batch,
                                           int64_t* last_purge_us) {
  int64_t newest = 0;
  for (const InteractionRecord& r : batch) {
    if (r.idempotency) newest = std::max(newest, r.ts_us);
  }
  if (newest == 0 || newest < *last_purge_us + kIdempotencyPurgeEveryUs) return std::nullopt;
  *last_purge_us = newest;
  return newest - kIdempotencyKeepUs;
}

}  // namespace omniflow
