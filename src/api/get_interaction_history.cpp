#include <charconv>

#include "api/handlers.h"
#include "api/respond.h"
#include "auth/jwt.h"
#include "core/query.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

constexpr int64_t kMaxOffset = 1'000'000'000'000;

// The cursor is opaque to clients: base64url of "v1|<ts_us>|<interaction_id>".
std::string EncodeCursor(const HistoryCursor& cursor) {
  return Base64UrlEncode("v1|" + std::to_string(cursor.ts_us) + "|" + cursor.interaction_id);
}

Result<HistoryCursor> DecodeCursor(std::string_view text) {
  Status bad = Status::InvalidArgument(
      "cursor is not valid: pass the next_cursor of a previous page unchanged");
  std::string raw;
  if (text.size() > 256 || !Base64UrlDecode(text, &raw)) return bad;
  std::string_view v(raw);
  if (v.substr(0, 3) != "v1|") return bad;
  v.remove_prefix(3);
  size_t bar = v.find('|');
  if (bar == std::string_view::npos) return bad;
  HistoryCursor cursor;
  auto [end, ec] = std::from_chars(v.data(), v.data() + bar, cursor.ts_us);
  if (ec != std::errc() || end != v.data() + bar) return bad;
  cursor.interaction_id = std::string(v.substr(bar + 1));
  if (cursor.interaction_id.empty() || cursor.interaction_id.size() > 64) return bad;
  for (char c : cursor.interaction_id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return bad;
  }
  return cursor;
}

}  // namespace

void GetInteractionHistory(const ApiContext& context, const http::Request& request,
                           http::Respond respond) {
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  Result<Identity> identity = AuthenticateUser(context, "get_interaction_history", request, *query);
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));

  auto fail = [&](const Status& s) {
    http::Response r = ErrorFrom(s);
    r.log_user = identity->user_id;
    respond(std::move(r));
  };
  HistoryQuery q;
  q.user_id = identity->user_id;
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
  if (!page.ok()) return fail(page.status());

  size_t size = 160 + identity->user_id.size();
  for (const auto& item : page->items) size += item.size() + 1;
  std::string body;
  body.reserve(size);
  body.append("{\"status\":\"success\",\"user_id\":\"").append(identity->user_id);
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
  respond(JsonResponse(200, std::move(body), identity->user_id));
}

}  // namespace omniflow::api
