#include "api/handlers.h"
#include "api/respond.h"
#include "api/analytics_access.h"
#include "core/json.h"
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
  JsonWriter w;
  w.Reserve(size);
  w.BeginObject().Field("status", "success").Field("user_id", who).Key("interactions");
  w.BeginArray();
  for (const std::string& item : page->items) w.Raw(item);
  w.EndArray()
      .Field("total", page->total)
      .Field("limit", q.limit)
      .Field("offset", q.after ? 0 : q.offset)
      .Field("has_more", page->has_more)
      .Key("next_cursor");
  page->has_more && page->next ? w.String(EncodeCursor(*page->next)) : w.Null();
  w.EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

}  // namespace omniflow::api
