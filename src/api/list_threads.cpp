#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void ListThreads(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  Result<std::optional<std::string>> user = ScopedUser(call.caller, call.query);
  if (!user.ok()) return respond(ErrorFrom(user.status(), who));
  ThreadsQuery q;
  q.user_id = std::move(*user);
  Result<int64_t> limit = call.query.GetInt("limit", 1, 1000, 100);
  if (!limit.ok()) return respond(ErrorFrom(limit.status(), who));
  Result<int64_t> offset = call.query.GetInt("offset", 0, 1'000'000'000, 0);
  if (!offset.ok()) return respond(ErrorFrom(offset.status(), who));
  q.limit = static_cast<int>(*limit);
  q.offset = *offset;
  Result<ThreadsPage> page = context.analytics->ListThreads(q);
  if (!page.ok()) return respond(StoreError(page.status(), who));
  respond(JsonResponse(200, ThreadsJson(*page), who));
}

}  // namespace omniflow::api
