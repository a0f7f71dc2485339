#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void GetStats(const ApiContext& context, const http::Request& request, http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Viewer> viewer = AuthenticateViewer(context, "stats", request, *query);
  if (!viewer.ok()) return respond(ErrorFrom(viewer.status()));
  const std::string& who = viewer->user_id;
  Result<std::optional<std::string>> user = ScopedUser(*viewer, *query);
  if (!user.ok()) return respond(ErrorFor(user.status(), who));
  Result<AnalyticsScope> scope = TimeScope(*query);
  if (!scope.ok()) return respond(ErrorFor(scope.status(), who));
  Result<int64_t> top = query->GetInt("top", 1, 100, 10);
  if (!top.ok()) return respond(ErrorFor(top.status(), who));
  StatsQuery q;
  q.scope = std::move(*scope);
  q.scope.user_id = std::move(*user);
  q.top_n = static_cast<int>(*top);
  Result<Stats> stats = context.analytics->GetStats(q);
  if (!stats.ok()) return respond(ErrorFor(stats.status(), who));
  respond(JsonResponse(200, StatsJson(*stats, q.scope), who));
}

}  // namespace omniflow::api
