// Who may see what in the analytics views, and the parameters they share. A Viewer is either
// everyone's (the admin key, or the open development mode with no admin key configured) or one
// user's own (a function key with X-User-Id, a bearer token, or X-User-Id in the open mode).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/context.h"
#include "core/interaction.h"
#include "core/query.h"
#include "core/status.h"
#include "http/request.h"
#include "store/analytics_store.h"

namespace omniflow::api {

struct Viewer {
  bool all = false;     // may see every user's data
  std::string user_id;  // the caller's own user when !all (may be set when all)
};

// Authenticates `request` for analytics function `function` (stats, users, threads, search,
// feedback).
Result<Viewer> AuthenticateViewer(const ApiContext& context, std::string_view function,
                                  const http::Request& request, const QueryParams& query);

// The user a request may look at: the `user_id` parameter (validated) for a viewer of all
// users, or none for "everyone"; for a user's own view, their id, and 403 when `user_id` names
// someone else.
Result<std::optional<std::string>> ScopedUser(const Viewer& viewer, const QueryParams& query);

// `from`/`to` as ISO 8601 UTC timestamps ("2025-12-01T00:00:00Z", fraction optional) or dates
// ("2025-12-01", meaning its midnight UTC). InvalidArgument names the parameter.
Result<AnalyticsScope> TimeScope(const QueryParams& query);

// The opaque cursor of listings: base64url of "a1|<ts_us>|<interaction_id>".
std::string EncodeAnalyticsCursor(const HistoryCursor& cursor);
Result<HistoryCursor> DecodeAnalyticsCursor(std::string_view text);

// Ok for ids of the form INT_ followed by upper-case letters, digits and '_'.
bool LooksLikeInteractionId(std::string_view id);

// Responds with `status` as an error, logging `user`.
http::Response ErrorFor(const Status& status, const std::string& user);

}  // namespace omniflow::api
