// Engine-neutral steps of an append whose records may carry idempotency keys: which records
// to store given the keys the store already holds, and when to purge old keys. Both engines'
// Append use these; only the lookups and inserts are their own.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/interaction.h"
#include "store/interaction_store.h"

namespace omniflow {

// Idempotency keys already stored, by (user_id, key).
using HeldKeys = std::map<std::pair<std::string, std::string>, PriorSave>;

// True when some record of `batch` carries an idempotency key.
bool AnyKeyed(std::span<const InteractionRecord> batch);

// For each record of `batch`: the interaction that already holds its key (the record is then
// not stored), or nullopt (store it). A key held by an earlier record of the batch that is
// stored counts as held, so that one batch stores each (user, key) once.
std::vector<std::optional<PriorSave>> PlanKeyedAppend(std::span<const InteractionRecord> batch,
                                                      const HeldKeys& held);

// Purges piggy-back on appends that carry keys, at most once per this much record time.
inline constexpr int64_t kIdempotencyPurgeEveryUs = int64_t{3600} * 1000000;

// The purge cutoff (keys of saves older than it go) when an append of `batch` should purge,
// given the newest record time of the last purge (updated); nullopt when it is not due.
std::optional<int64_t> IdempotencyPurgeDue(std::span<const InteractionRecord> batch,
                                           int64_t* last_purge_us);

}  // namespace omniflow
