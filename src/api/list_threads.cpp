#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void ListThreads(const ApiContext& context, const http::Request& request,
                 http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Viewer> viewer = AuthenticateViewer(context, "threads", request, *query);
  if (!viewer.ok()) return respond(ErrorFrom(viewer.status()));
  const std::string& who = viewer->user_id;
  Result<std::optional<std::string>> user = ScopedUser(*viewer, *query);
  if (!user.ok()) return respond(ErrorFor(user.status(), who));
  ThreadsQuery q;
  q.user_id = std::move(*user);
  Result<int64_t> limit = query->GetInt("limit", 1, 1000, 100);
  if (!limit.ok()) return respond(ErrorFor(limit.status(), who));
  Result<int64_t> offset = query->GetInt("offset", 0, 1'000'000'000, 0);
  if (!offset.ok()) return respond(ErrorFor(offset.status(), who));
  q.limit = static_cast<int>(*limit);
  q.offset = *offset;
  Result<ThreadsPage> page = context.analytics->ListThreads(q);
  if (!page.ok()) return respond(ErrorFor(page.status(), who));
  respond(JsonResponse(200, ThreadsJson(*page), who));
}

}  // namespace omniflow::api
