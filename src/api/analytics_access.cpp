#include "api/analytics_access.h"

#include <charconv>

#include "auth/jwt.h"
#include "core/ids.h"
#include "core/validate.h"

namespace omniflow::api {

Result<std::optional<std::string>> ScopedUser(const Caller& viewer, const QueryParams& query) {
  std::optional<std::string_view> asked = query.Get("user_id");
  if (asked && !IsValidUserId(*asked)) {
    return Status::InvalidArgument(std::string("user_id must be ") + kUserIdRule);
  }
  if (viewer.all_users) {
    if (!asked) return std::optional<std::string>();
    return std::optional<std::string>(std::string(*asked));
  }
  if (asked && *asked != viewer.user_id) {
    return Status::PermissionDenied(
        "these credentials see only their own user's data; other users need the admin key");
  }
  return std::optional<std::string>(viewer.user_id);
}

namespace {
Result<std::optional<int64_t>> TimeParam(std::optional<std::string_view> text,
                                         std::string_view name) {
  if (!text || text->empty()) return std::optional<int64_t>();
  std::string iso(*text);
  if (iso.size() == 10) iso += "T00:00:00Z";
  int64_t ts = 0;
  if (!ParseTimestamp(iso, &ts)) {
    return Status::InvalidArgument(std::string(name) +
                                   " must be an ISO 8601 UTC time such as 2025-12-01T00:00:00Z "
                                   "or a date such as 2025-12-01");
  }
  return std::optional<int64_t>(ts);
}
}  // namespace

Result<AnalyticsScope> TimeScope(const QueryParams& query) {
  return TimeRange(query.Get("from"), query.Get("to"));
}

Result<AnalyticsScope> TimeRange(std::optional<std::string_view> from_text,
                                 std::optional<std::string_view> to_text) {
  AnalyticsScope scope;
  Result<std::optional<int64_t>> from = TimeParam(from_text, "from");
  if (!from.ok()) return from.status();
  Result<std::optional<int64_t>> to = TimeParam(to_text, "to");
  if (!to.ok()) return to.status();
  scope.from_us = *from;
  scope.to_us = *to;
  if (scope.from_us && scope.to_us && *scope.from_us >= *scope.to_us) {
    return Status::InvalidArgument("from must be earlier than to");
  }
  return scope;
}


std::string EncodeCursor(const HistoryCursor& cursor) {
  return Base64UrlEncode("v1|" + std::to_string(cursor.ts_us) + "|" + cursor.interaction_id);
}

Result<HistoryCursor> DecodeCursor(std::string_view text) {
  Status bad = Status::InvalidArgument(
      "cursor is not valid: pass the next_cursor of a previous page unchanged");
  std::string raw;
  if (text.size() > 256 || !Base64UrlDecode(text, &raw)) return bad;
  std::string_view v(raw);
  if (v.substr(0, 3) != "v1|") return bad;
  v.remove_prefix(3);
  const size_t bar = v.find('|');
  if (bar == std::string_view::npos) return bad;
  HistoryCursor cursor;
  auto [end, ec] = std::from_chars(v.data(), v.data() + bar, cursor.ts_us);
  if (ec != std::errc() || end != v.data() + bar) return bad;
  cursor.interaction_id = std::string(v.substr(bar + 1));
  if (!IsValidInteractionId(cursor.interaction_id)) return bad;
  return cursor;
}

}  // namespace omniflow::api
