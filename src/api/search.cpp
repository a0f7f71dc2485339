#include "api/analytics_access.h"
#include "api/analytics_json.h"
#include "api/analytics_handlers.h"
#include "api/respond.h"
#include "core/validate.h"

namespace omniflow::api {

Result<SearchQuery> ParseSearchQuery(const Caller& viewer, const QueryParams& query) {
  SearchQuery q;
  Result<std::optional<std::string>> user = ScopedUser(viewer, query);
  if (!user.ok()) return user.status();
  Result<AnalyticsScope> scope = TimeScope(query);
  if (!scope.ok()) return scope.status();
  q.scope = std::move(*scope);
  q.scope.user_id = std::move(*user);
  if (auto text = query.Get("q")) {
    if (text->size() > 512) return Status::InvalidArgument("q must be at most 512 bytes");
    q.q = std::string(*text);
  }
  if (auto thread = query.Get("thread_id")) {
    if (!IsValidThreadId(*thread)) {
      return Status::InvalidArgument(std::string("thread_id must be ") + kThreadIdRule);
    }
    q.thread_id = std::string(*thread);
  }
  if (auto tool = query.Get("tool")) {
    if (tool->empty() || tool->size() > 256) {
      return Status::InvalidArgument("tool must be a tool name of 1-256 bytes");
    }
    q.tool = std::string(*tool);
  }
  if (auto status = query.Get("status")) {
    if (*status == "failed" || *status == "failure" || *status == "error") {
      q.status = ToolStatusFilter::kFailed;
    } else if (*status == "success") {
      q.status = ToolStatusFilter::kSuccess;
    } else if (*status != "any" && !status->empty()) {
      return Status::InvalidArgument("status must be success, failed or any");
    }
  }
  if (auto feedback = query.Get("feedback")) {
    static constexpr std::pair<std::string_view, FeedbackFilter> kNames[] = {
        {"any", FeedbackFilter::kAny},           {"", FeedbackFilter::kAny},
        {"with", FeedbackFilter::kWith},         {"without", FeedbackFilter::kWithout},
        {"positive", FeedbackFilter::kPositive}, {"negative", FeedbackFilter::kNegative}};
    bool known = false;
    for (const auto& [name, value] : kNames) {
      if (*feedback == name) q.feedback = value, known = true;
    }
    if (!known) {
      return Status::InvalidArgument("feedback must be any, with, without, positive or negative");
    }
  }
  Result<int64_t> limit = query.GetInt("limit", 1, 200, 50);
  if (!limit.ok()) return limit.status();
  q.limit = static_cast<int>(*limit);
  if (auto cursor = query.Get("cursor")) {
    Result<HistoryCursor> decoded = DecodeCursor(*cursor);
    if (!decoded.ok()) return decoded.status();
    q.after = std::move(*decoded);
  }
  return q;
}

void Search(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.analytics == nullptr) return respond(ErrorFrom(NoAnalytics(), who));
  Result<SearchQuery> q = ParseSearchQuery(call.caller, call.query);
  if (!q.ok()) return respond(ErrorFrom(q.status(), who));
  Result<SearchPage> page = context.analytics->Search(*q);
  if (!page.ok()) return respond(StoreError(page.status(), who));
  respond(JsonResponse(200, SearchJson(*page), who));
}

}  // namespace omniflow::api
