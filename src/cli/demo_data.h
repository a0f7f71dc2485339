// `omniflow demo-data`: fills the store with a realistic, multilingual demo set (English,
// Japanese, Arabic, Russian, ...): users with threads, tool calls with some failures, and
// feedback, spread over the last weeks, so that a newcomer sees a living dashboard at once.
#pragma once

#include <cstdint>
#include <functional>

#include "core/status.h"
#include "store/analytics_store.h"
#include "store/interaction_store.h"

namespace omniflow {

struct DemoOptions {
  int64_t interactions = 20000;  // how many to generate
  int users = 40;                // distinct users
  int days = 30;                 // spread over the last `days` days, ending now
  uint64_t seed = 7;             // same seed, same data
  int64_t now_us = 0;            // the end of the range (0: the real clock)
  // Called after each batch with how many were written so far.
  std::function<void(int64_t written, int64_t total)> progress;
};

// Writes the demo set; returns how many interactions were written.
Result<int64_t> GenerateDemoData(const DemoOptions& options, InteractionStore* store,
                                 AnalyticsStore* analytics);

}  // namespace omniflow
