// Legal holds: PUT/DELETE /api/users/{user_id}/hold and GET /api/holds. Admin key only (route
// table). A held user is never purged nor erased until the hold is released.
#include <simdjson.h>

#include "api/lifecycle_handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

constexpr size_t kMaxReasonChars = 500;

Status NoLifecycle() {
  return Status::Unavailable("retention, legal holds and erasure are not enabled here");
}

// {"reason": "..."}: 1..500 characters; nothing else.
Result<std::string> ParseReason(std::string_view body) {
  static thread_local simdjson::dom::parser parser;
  const Status shape = Status::InvalidArgument(
      "body must be a JSON object such as {\"reason\": \"litigation 2025-17\"}");
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(object) != simdjson::SUCCESS) {
    return shape;
  }
  std::optional<std::string> reason;
  for (auto [key, value] : object) {
    if (key != "reason") {
      return Status::InvalidArgument("unknown field \"" + std::string(key) +
                                     "\": a legal hold takes reason only");
    }
    std::string_view text;
    size_t chars = 0;
    if (value.get(text) == simdjson::SUCCESS) {
      for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
    if (chars < 1 || chars > kMaxReasonChars) {
      return Status::InvalidArgument("reason must be a string of 1 to 500 characters");
    }
    reason = std::string(text);
  }
  if (!reason) return Status::InvalidArgument("reason is required: why the data must be kept");
  return *reason;
}

void WriteHold(JsonWriter& w, const LegalHold& hold) {
  w.BeginObject()
      .Field("user_id", hold.user_id)
      .Field("reason", hold.reason)
      .Field("since", FormatTimestamp(hold.since_us))
      .EndObject();
}

}  // namespace

void SetHold(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  LifecycleStore* store = context.lifecycle.store;
  if (store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  Result<std::string> reason = ParseReason(call.request.body);
  if (!reason.ok()) return respond(ErrorFrom(reason.status(), who));
  LegalHold hold;
  hold.user_id = call.params[0];
  hold.reason = std::move(*reason);
  hold.since_us = (context.lifecycle.clock ? context.lifecycle.clock : Clock::Real())->NowMicros();
  if (Status s = store->SetHold(hold); !s.ok()) return respond(StoreError(s, who));
  Result<std::optional<LegalHold>> stored = store->GetHold(hold.user_id);
  if (!stored.ok()) return respond(StoreError(stored.status(), who));
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("hold");
  WriteHold(w, stored->value_or(hold));
  w.EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

void ReleaseHold(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  const std::string& user = call.params[0];
  if (Status s = context.lifecycle.store->ReleaseHold(user); !s.ok()) {
    if (s.code() == Status::Code::kNotFound) {
      return respond(ErrorFrom(Status::NotFound("user " + user + " is not under a legal hold"),
                               who));
    }
    return respond(StoreError(s, who));
  }
  JsonWriter w;
  w.BeginObject().Field("status", "success").Field("user_id", user).Field("released", true);
  w.EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

void ListHolds(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  Result<std::vector<LegalHold>> holds = context.lifecycle.store->ListHolds();
  if (!holds.ok()) return respond(StoreError(holds.status(), who));
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("holds").BeginArray();
  for (const LegalHold& hold : *holds) WriteHold(w, hold);
  w.EndArray().Field("count", static_cast<int64_t>(holds->size())).EndObject();
  respond(JsonResponse(200, w.Release(), who));
}

}  // namespace omniflow::api
