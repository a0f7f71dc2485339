// Server-assigned timestamps and interaction ids. The clock is injectable so tests can pin time.
// IdGenerator hands out strictly increasing microsecond timestamps within one process, so ids
// built from them are unique and sort by time; a store that sees a collision across processes
// appends a suffix ("_2", "_3", ...).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

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
  explicit IdGenerator(Clock* clock) : clock_(clock) {}
  Stamp Next();

 private:
  Clock* clock_;
  std::mutex mu_;
  int64_t last_us_ = 0;  // GUARDED_BY(mu_)
};

// `prefix` followed by `bytes` random bytes (OpenSSL's CSPRNG) in lower-case hex: ids that must
// not be guessable, e.g. RandomId("thread_", 12). Thread-safe.
std::string RandomId(std::string_view prefix, size_t bytes);

// Formatting and parsing helpers. FormatTimestamp gives ISO 8601 UTC with microseconds.
std::string FormatTimestamp(int64_t ts_us);
std::string FormatInteractionId(int64_t ts_us);
// Parses "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (also "+00:00"); false when malformed.
bool ParseTimestamp(std::string_view text, int64_t* ts_us);

}  // namespace omniflow
