// A PendingSpanStore holds the OTLP spans (otlp/decode.h) of traces whose interaction has not
// been written yet, so that spans of one trace sent in several exports, in any order, are
// joined durably: the trace assembler (otlp/trace_assembler.h) takes a trace once it has been
// quiet for a while (and the ancestry of its chat / invoke_agent spans has arrived, or the wait
// for it has run out), writes its interactions and removes it. A facet of Database
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
  // False: a span without gen_ai.* attributes, kept for its ids only (otlp::LinkJson) so that
  // the ancestry of a chat span can be walked through it.
  bool genai = true;
  int64_t received_us = 0;
  std::string json;      // DecodedSpan::json, or otlp::LinkJson when !genai
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
  // exporter's retry) is kept as it was, but its trace counts as having received it now. Every
  // span added un-parks its trace (Park).
  virtual Status Add(std::span<const PendingSpan> spans) = 0;

  // When a trace is due, by the received times of its spans:
  struct DueTimes {
    // It has a root span, is not parked, and its newest span arrived before this.
    int64_t quiet_before_us = 0;
    // It has a root span (parked or not), or holds only ids (no GenAI span at all), and its
    // newest span arrived before this.
    int64_t parent_wait_before_us = 0;
    // Its oldest span arrived before this (never completed), whatever it holds.
    int64_t expire_before_us = 0;
  };
  // At most `limit` traces due by `times`, oldest first.
  virtual Result<std::vector<PendingTrace>> Due(const DueTimes& times, int limit) = 0;

  // Parks the trace's spans that arrived at or before `up_to_us`: the trace is not due by
  // `quiet_before_us` again until a span of it arrives. For a trace whose ancestry is
  // incomplete, so that it waits without being read every round.
  virtual Status Park(const PendingTrace& trace, int64_t up_to_us) = 0;

  // The spans held for one trace (PendingSpan::json each), and whether the trace was last fed
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
