// Server-assigned timestamps and interaction ids. The clock is injectable so tests can pin time.
// IdGenerator hands out strictly increasing microsecond timestamps within one process, so ids
// built from them are unique and sort by time. Several processes on one database stay unique
// by id slots: process `slot` of `slots` only hands out microseconds with ts % slots == slot
// (the store leases the slot, see InteractionStore::id_space), so no two live processes can
// ever produce the same id, and ids keep their plain form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/mutex.h"

namespace omniflow {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch, UTC.
  virtual int64_t NowMicros() = 0;
  // The process-wide real-time clock.
  static Clock* Real();
};

struct Stamp {
  int64_t ts_us = 0;
  std::string interaction_id;  // INT_YYYYMMDD_HHMMSS_ffffff
  std::string timestamp;       // 2025-12-11T13:05:30.123456Z
};

// Thread-safe.
class IdGenerator {
 public:
  // REQUIRES: 0 <= slot < slots.
  explicit IdGenerator(Clock* clock, int slot = 0, int slots = 1)
      : clock_(clock), slot_(slot), slots_(slots) {}
  Stamp Next();

 private:
  Clock* clock_;
  const int64_t slot_;
  const int64_t slots_;
  Mutex mu_;
  int64_t last_us_ GUARDED_BY(mu_) = 0;
};

// `prefix` followed by `bytes` random bytes (OpenSSL's CSPRNG) in lower-case hex: ids that must
// not be guessable, e.g. RandomId("thread_", 12). Thread-safe.
std::string RandomId(std::string_view prefix, size_t bytes);

// Formatting and parsing helpers. FormatTimestamp gives ISO 8601 UTC with microseconds.
std::string FormatTimestamp(int64_t ts_us);
std::string FormatInteractionId(int64_t ts_us);
// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (also "+00:00"); false when malformed.
bool ParseTimestamp(std::string_view text, int64_t* ts_us);
// The timestamp encoded in an interaction id (INT_YYYYMMDD_HHMMSS_ffffff[_N]); false if malformed.
bool TimestampOfInteractionId(std::string_view id, int64_t* ts_us);

}  // namespace omniflow
