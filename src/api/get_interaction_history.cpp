#include "api/handlers.h"
#include "api/respond.h"
#include "api/analytics_access.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

constexpr int64_t kMaxOffset = 1'000'000'000'000;

}  // namespace

void GetInteractionHistory(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  auto fail = [&](const Status& s) { respond(ErrorFrom(s, who)); };
  if (context.store == nullptr) return fail(Status::Unavailable("the store is not enabled here"));
  const QueryParams* query = &call.query;
  HistoryQuery q;
  q.user_id = who;
  Result<int64_t> limit = query->GetInt("limit", 1, 1000, 50);
  if (!limit.ok()) return fail(limit.status());
  q.limit = static_cast<int>(*limit);
  Result<int64_t> offset = query->GetInt("offset", 0, kMaxOffset, 0);
  if (!offset.ok()) return fail(offset.status());
  q.offset = *offset;
  if (auto thread = query->Get("thread_id")) {
    if (!IsValidThreadId(*thread)) {
      return fail(Status::InvalidArgument(std::string("thread_id must be ") + kThreadIdRule));
    }
    q.thread_id = std::string(*thread);
  }
  if (auto cursor = query->Get("cursor")) {
    if (query->Get("offset")) {
      return fail(Status::InvalidArgument("use either offset or cursor, not both"));
    }
    Result<HistoryCursor> decoded = DecodeCursor(*cursor);
    if (!decoded.ok()) return fail(decoded.status());
    q.after = std::move(*decoded);
  }

  Result<HistoryPage> page = context.store->History(q);
  if (!page.ok()) return respond(StoreError(page.status(), who));

  size_t size = 160 + who.size();
  for (const auto& item : page->items) size += item.size() + 1;
  std::string body;
  body.reserve(size);
  body.append("{\"status\":\"success\",\"user_id\":\"").append(who);
  body.append("\",\"interactions\":[");
  for (size_t i = 0; i < page->items.size(); ++i) {
    if (i) body.push_back(',');
    body.append(page->items[i]);
  }
  body.append("],\"total\":").append(std::to_string(page->total));
  body.append(",\"limit\":").append(std::to_string(q.limit));
  body.append(",\"offset\":").append(std::to_string(q.after ? 0 : q.offset));
  body.append(",\"has_more\":").append(page->has_more ? "true" : "false");
  body.append(",\"next_cursor\":");
  if (page->has_more && page->next) {
    body.append("\"").append(EncodeCursor(*page->next)).append("\"");
  } else {
    body.append("null");
  }
  body.push_back('}');
  respond(JsonResponse(200, std::move(body), who));
}

}  // namespace omniflow::api
