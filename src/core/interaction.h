// The interaction record as it travels from a validated request to the store and back.
// `json` is the canonical, compact JSON object of the whole interaction; reads splice it into
// responses verbatim, so it is never re-serialised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace omniflow {

struct InteractionRecord {
  std::string user_id;                   // validated user id (see core/validate.h)
  std::string interaction_id;            // INT_YYYYMMDD_HHMMSS_ffffff[_N]
  int64_t ts_us = 0;                     // server timestamp, microseconds since the Unix epoch (UTC)
  std::optional<std::string> thread_id;  // validated thread id, or none
  std::string json;                      // canonical JSON object, includes all fields above
  // Summary of the tool calls, for analytics: number of calls and of failed ones.
  int tool_call_count = 0;
  int tool_failure_count = 0;
};

// Keyset position in the newest-first order (ts_us DESC, interaction_id DESC).
struct HistoryCursor {
  int64_t ts_us = 0;
  std::string interaction_id;
};

}  // namespace omniflow
