#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"
#include "core/validate.h"

namespace omniflow::api {

void GetThread(const ApiContext& context, const http::Request& request, http::Respond respond) {
  constexpr std::string_view kPrefix = "/api/threads/";
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Viewer> viewer = AuthenticateViewer(context, "threads", request, *query);
  if (!viewer.ok()) return respond(ErrorFrom(viewer.status()));
  const std::string& who = viewer->user_id;
  std::string thread_id;
  if (!PercentDecode(request.path.substr(kPrefix.size()), false, &thread_id) ||
      !IsValidThreadId(thread_id)) {
    return respond(ErrorFor(Status::InvalidArgument(std::string("thread id must be ") +
                                                    kThreadIdRule), who));
  }
  Result<std::optional<std::string>> user = ScopedUser(*viewer, *query);
  if (!user.ok()) return respond(ErrorFor(user.status(), who));
  if (!*user) {
    return respond(ErrorFor(
        Status::InvalidArgument("user_id is required: thread ids belong to one user"), who));
  }
  ConversationQuery q;
  q.user_id = **user;
  q.thread_id = thread_id;
  Result<int64_t> limit = query->GetInt("limit", 1, 1000, 500);
  if (!limit.ok()) return respond(ErrorFor(limit.status(), who));
  q.limit = static_cast<int>(*limit);
  if (auto cursor = query->Get("cursor")) {
    Result<HistoryCursor> decoded = DecodeAnalyticsCursor(*cursor);
    if (!decoded.ok()) return respond(ErrorFor(decoded.status(), who));
    q.after = std::move(*decoded);
  }
  Result<ConversationPage> page = context.analytics->GetConversation(q);
  if (!page.ok()) return respond(ErrorFor(page.status(), who));
  respond(JsonResponse(200, ConversationJson(q.user_id, q.thread_id, *page), who));
}

}  // namespace omniflow::api
