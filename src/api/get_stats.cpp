#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void GetStats(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  Result<std::optional<std::string>> user = ScopedUser(call.caller, call.query);
  if (!user.ok()) return respond(ErrorFrom(user.status(), who));
  Result<AnalyticsScope> scope = TimeScope(call.query);
  if (!scope.ok()) return respond(ErrorFrom(scope.status(), who));
  Result<int64_t> top = call.query.GetInt("top", 1, 100, 10);
  if (!top.ok()) return respond(ErrorFrom(top.status(), who));
  StatsQuery q;
  q.scope = std::move(*scope);
  q.scope.user_id = std::move(*user);
  q.top_n = static_cast<int>(*top);
  Result<Stats> stats = context.analytics->GetStats(q);
  if (!stats.ok()) return respond(StoreError(stats.status(), who));
  respond(JsonResponse(200, StatsJson(*stats, q.scope), who));
}

}  // namespace omniflow::api
