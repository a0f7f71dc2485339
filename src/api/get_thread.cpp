#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void GetThread(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  const std::string& thread_id = call.params[0];  // checked by the route table
  Result<std::optional<std::string>> user = ScopedUser(call.caller, call.query);
  if (!user.ok()) return respond(ErrorFrom(user.status(), who));
  if (!*user) {
    return respond(ErrorFrom(
        Status::InvalidArgument("user_id is required: thread ids belong to one user"), who));
  }
  ConversationQuery q;
  q.user_id = **user;
  q.thread_id = thread_id;
  Result<int64_t> limit = call.query.GetInt("limit", 1, 1000, 500);
  if (!limit.ok()) return respond(ErrorFrom(limit.status(), who));
  q.limit = static_cast<int>(*limit);
  if (auto cursor = call.query.Get("cursor")) {
    Result<HistoryCursor> decoded = DecodeCursor(*cursor);
    if (!decoded.ok()) return respond(ErrorFrom(decoded.status(), who));
    q.after = std::move(*decoded);
  }
  Result<ConversationPage> page = context.analytics->GetConversation(q);
  if (!page.ok()) return respond(StoreError(page.status(), who));
  respond(JsonResponse(200, ConversationJson(q.user_id, q.thread_id, *page), who));
}

}  // namespace omniflow::api
