#include "core/ids.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace omniflow {

namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMicros() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

struct Parts {
  int year, month, day, hour, minute, second, micros;
};

Parts Split(int64_t ts_us) {
  int64_t secs = ts_us / 1000000;
  int64_t micros = ts_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
          tm.tm_min,         tm.tm_sec,     static_cast<int>(micros)};
}
}  // namespace

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

Stamp IdGenerator::Next() {
  int64_t now = clock_->NowMicros();
  {
    MutexLock lock(&mu_);
    if (now <= last_us_) now = last_us_ + 1;
    // The next microsecond of this process's slot.
    now += ((slot_ - now % slots_) % slots_ + slots_) % slots_;
    last_us_ = now;
  }
  return Stamp{now, FormatInteractionId(now), FormatTimestamp(now)};
}

namespace {

// Writes `value` as exactly `width` decimal digits at `out`, zero-padded.
char* PutDigits(char* out, int value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// The fixed-width fields of both formats, without printf (it showed in the save path's profile).
// Years outside 0..9999 fall back to snprintf, which widens the field as before.
std::string Format(int64_t ts_us, bool id) {
  Parts p = Split(ts_us);
  char buf[40];
  if (p.year < 0 || p.year > 9999) {
    int n = std::snprintf(buf, sizeof buf,
                          id ? "INT_%04d%02d%02d_%02d%02d%02d_%06d"
                             : "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                          p.year, p.month, p.day, p.hour, p.minute, p.second, p.micros);
    return std::string(buf, static_cast<size_t>(n));
  }
  char* o = buf;
  if (id) {
    std::memcpy(o, "INT_", 4);
    o += 4;
  }
  o = PutDigits(o, p.year, 4);
  if (!id) *o++ = '-';
  o = PutDigits(o, p.month, 2);
  if (!id) *o++ = '-';
  o = PutDigits(o, p.day, 2);
  *o++ = id ? '_' : 'T';
  o = PutDigits(o, p.hour, 2);
  if (!id) *o++ = ':';
  o = PutDigits(o, p.minute, 2);
  if (!id) *o++ = ':';
  o = PutDigits(o, p.second, 2);
  *o++ = id ? '_' : '.';
  o = PutDigits(o, p.micros, 6);
  if (!id) *o++ = 'Z';
  return std::string(buf, static_cast<size_t>(o - buf));
}

}  // namespace

std::string FormatTimestamp(int64_t ts_us) { return Format(ts_us, false); }

std::string FormatInteractionId(int64_t ts_us) { return Format(ts_us, true); }

bool ParseTimestamp(std::string_view s, int64_t* ts_us) {
  // YYYY-MM-DDTHH:MM:SS
  auto digits = [&](size_t pos, size_t len, int* out) {
    if (pos + len > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, se;
  if (s.size() < 20) return false;
  if (!digits(0, 4, &y) || s[4] != '-' || !digits(5, 2, &mo) || s[7] != '-' ||
      !digits(8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !digits(11, 2, &h) ||
      s[13] != ':' || !digits(14, 2, &mi) || s[16] != ':' || !digits(17, 2, &se)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return false;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) micros = micros * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return false;
    for (; n < 6; ++n) micros *= 10;
  }
  std::string_view zone = s.substr(pos);
  if (zone != "Z" && zone != "+00:00") return false;
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t t = timegm(&tm);
  *ts_us = static_cast<int64_t>(t) * 1000000 + micros;
  return true;
}

bool TimestampOfInteractionId(std::string_view id, int64_t* ts_us) {
  if (id.size() < 26 || id.substr(0, 4) != "INT_" || id[12] != '_' || id[19] != '_') return false;
  if (id.size() > 26 && id[26] != '_') return false;
  std::string iso;
  iso.reserve(27);
  iso.append(id.substr(4, 4)).append("-").append(id.substr(8, 2)).append("-");
  iso.append(id.substr(10, 2)).append("T").append(id.substr(13, 2)).append(":");
  iso.append(id.substr(15, 2)).append(":").append(id.substr(17, 2)).append(".");
  iso.append(id.substr(20, 6)).append("Z");
  return ParseTimestamp(iso, ts_us);
}

std::string RandomId(std::string_view prefix, size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string random(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(random.data()), static_cast<int>(bytes));
  std::string id(prefix);
  for (unsigned char b : random) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

}  // namespace omniflow
