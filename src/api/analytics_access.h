// The parameters the listings share: which user a caller may look at, time ranges, and the one
// opaque cursor codec of every paged listing (history, threads, search).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/call.h"
#include "core/interaction.h"
#include "core/query.h"
#include "core/status.h"
#include "store/analytics_store.h"

namespace omniflow::api {

// The user a request may look at: the `user_id` parameter (validated) for a caller of all
// users, or none for "everyone"; for a user's own view, their id, and 403 when `user_id` names
// someone else.
Result<std::optional<std::string>> ScopedUser(const Caller& caller, const QueryParams& query);

// `from`/`to` as ISO 8601 UTC timestamps ("2025-12-01T00:00:00Z", fraction optional) or dates
// ("2025-12-01", meaning its midnight UTC). InvalidArgument names the parameter.
Result<AnalyticsScope> TimeScope(const QueryParams& query);
// The same reading of two texts (none or empty: unbounded), e.g. from the command line.
Result<AnalyticsScope> TimeRange(std::optional<std::string_view> from,
                                 std::optional<std::string_view> to);

// The filter language of GET /api/search (user_id, thread_id, from, to, tool, status,
// feedback, q; and limit, cursor), scoped to what `viewer` may see. Replays select with it too.
Result<SearchQuery> ParseSearchQuery(const Caller& viewer, const QueryParams& query);

// The opaque cursor of listings: base64url of "v1|<ts_us>|<interaction_id>".
std::string EncodeCursor(const HistoryCursor& cursor);
Result<HistoryCursor> DecodeCursor(std::string_view text);

// The answer of an analytics route on a server wired without analytics.
inline Status NoAnalytics() {
  return Status::Unavailable("analytics are not available with this store");
}

}  // namespace omniflow::api
