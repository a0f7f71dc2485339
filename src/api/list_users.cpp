#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void ListUsers(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  UsersQuery q;
  if (!call.caller.all_users) q.user_id = call.caller.user_id;
  Result<int64_t> limit = call.query.GetInt("limit", 1, 1000, 100);
  if (!limit.ok()) return respond(ErrorFrom(limit.status(), who));
  Result<int64_t> offset = call.query.GetInt("offset", 0, 1'000'000'000, 0);
  if (!offset.ok()) return respond(ErrorFrom(offset.status(), who));
  q.limit = static_cast<int>(*limit);
  q.offset = *offset;
  Result<UsersPage> page = context.analytics->ListUsers(q);
  if (!page.ok()) return respond(StoreError(page.status(), who));
  respond(JsonResponse(200, UsersJson(*page), who));
}

}  // namespace omniflow::api
