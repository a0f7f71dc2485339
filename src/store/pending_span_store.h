// A PendingSpanStore holds the OTLP spans (otlp/decode.h) of traces whose interaction has not
// been written yet, so that spans of one trace sent in several exports, in any order, are
// joined durably: the trace assembler (otlp/trace_assembler.h) takes a trace once it has been
// quiet for a while, writes its interactions and removes it. A facet of Database
// (store/database.h); both engines implement it. Times are microseconds since the Unix epoch.
// All methods are thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace omniflow {

struct PendingSpan {
  std::string user_id;   // validated
  std::string trace_id;  // 32 lower-case hex digits
  std::string span_id;   // 16 lower-case hex digits
  bool root = false;     // a chat / invoke_agent span: the trace may make an interaction
  int64_t received_us = 0;
  std::string json;      // DecodedSpan::json
};

// A trace with spans held, by user.
struct PendingTrace {
  std::string user_id;
  std::string trace_id;
};

class PendingSpanStore {
 public:
  virtual ~PendingSpanStore() = default;

  // Holds `spans` in one transaction. A span already held (same user, trace and span id: an
  // exporter's retry) is kept as it was, but its trace counts as having received it now.
  virtual Status Add(std::span<const PendingSpan> spans) = 0;

  // At most `limit` traces whose newest span arrived before `quiet_before_us` and that have a
  // root span, or whose oldest span arrived before `expire_before_us` (never completed), oldest
  // first.
  virtual Result<std::vector<PendingTrace>> Due(int64_t quiet_before_us, int64_t expire_before_us,
                                                int limit) = 0;

  // The spans held for one trace (DecodedSpan::json each), and whether the trace was last fed
  // before `quiet_before_us` (false: spans arrived since Due, leave it for later).
  struct TraceSpans {
    std::vector<std::string> jsons;
    int64_t newest_received_us = 0;
    int64_t oldest_received_us = 0;
  };
  virtual Result<TraceSpans> Spans(const PendingTrace& trace) = 0;

  // Removes the trace's spans that arrived at or before `up_to_us` (those later are a new
  // part of the trace, kept for the next round). Returns how many.
  virtual Result<int64_t> Remove(const PendingTrace& trace, int64_t up_to_us) = 0;
};

}  // namespace omniflow
