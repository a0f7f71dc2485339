// Retention: a user's override (PUT/GET/DELETE /api/users/{user_id}/retention) and the purge on
// demand (POST /api/retention/run). Admin key only (route table).
#include <simdjson.h>

#include "api/lifecycle_handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

// A century: far beyond any legal retention period, and far from overflowing a cutoff.
constexpr int64_t kMaxRetentionDays = 36500;

Status NoLifecycle() {
  return Status::Unavailable("retention, legal holds and erasure are not enabled here");
}

int DefaultDays(const ApiContext& context) {
  return context.lifecycle.retention ? context.lifecycle.retention->options().default_days : 0;
}

// {"days": N}, N an integer in 0..kMaxRetentionDays; nothing else.
Result<int> ParseDays(std::string_view body) {
  static thread_local simdjson::dom::parser parser;
  const Status shape = Status::InvalidArgument(
      "body must be a JSON object such as {\"days\": 90} (days kept; 0 keeps forever)");
  simdjson::dom::element doc;
  simdjson::dom::object object;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(object) != simdjson::SUCCESS) {
    return shape;
  }
  std::optional<int> days;
  for (auto [key, value] : object) {
    if (key != "days") {
      return Status::InvalidArgument("unknown field \"" + std::string(key) +
                                     "\": a retention override takes days only");
    }
    int64_t n = -1;
    if (!value.is_int64() || value.get(n) != simdjson::SUCCESS || n < 0 ||
        n > kMaxRetentionDays) {
      return Status::InvalidArgument("days must be a whole number from 0 (keep forever) to " +
                                     std::to_string(kMaxRetentionDays));
    }
    days = static_cast<int>(n);
  }
  if (!days) return shape;
  return *days;
}

// {"status":"success","user_id":..,"days":..,"source":"user"|"default"}
Result<std::string> PolicyJson(const ApiContext& context, const std::string& user) {
  Result<std::optional<int>> override_days = context.lifecycle.store->GetRetention(user);
  if (!override_days.ok()) return override_days.status();
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("user_id", user)
      .Field("days", override_days->value_or(DefaultDays(context)))
      .Field("source", override_days->has_value() ? "user" : "default")
      .EndObject();
  return w.Release();
}

void AnswerPolicy(const ApiContext& context, const std::string& user, const std::string& who,
                  http::Respond& respond) {
  Result<std::string> policy = PolicyJson(context, user);
  if (!policy.ok()) return respond(StoreError(policy.status(), who));
  respond(JsonResponse(200, std::move(*policy), who));
}

}  // namespace

void SetRetention(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  Result<int> days = ParseDays(call.request.body);
  if (!days.ok()) return respond(ErrorFrom(days.status(), who));
  const std::string& user = call.params[0];
  if (Status s = context.lifecycle.store->SetRetention(user, *days); !s.ok()) {
    return respond(StoreError(s, who));
  }
  AnswerPolicy(context, user, who, respond);
}

void GetRetention(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  AnswerPolicy(context, call.params[0], who, respond);
}

void DeleteRetention(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.store == nullptr) return respond(ErrorFrom(NoLifecycle(), who));
  const std::string& user = call.params[0];
  if (Status s = context.lifecycle.store->DeleteRetention(user); !s.ok()) {
    if (s.code() == Status::Code::kNotFound) {
      return respond(ErrorFrom(Status::NotFound("user " + user + " has no retention override"),
                               who));
    }
    return respond(StoreError(s, who));
  }
  AnswerPolicy(context, user, who, respond);
}

void RunRetention(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.lifecycle.retention == nullptr || context.assistant.workers == nullptr) {
    return respond(ErrorFrom(NoLifecycle(), who));
  }
  bool dry_run = false;
  if (!call.request.body.empty()) {
    static thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object object;
    if (parser.parse(call.request.body.data(), call.request.body.size()).get(doc) !=
            simdjson::SUCCESS ||
        doc.get(object) != simdjson::SUCCESS) {
      return respond(ErrorFrom(
          Status::InvalidArgument("body must be empty, {} or {\"dry_run\": true}"), who));
    }
    for (auto [key, value] : object) {
      if (key != "dry_run" || value.get(dry_run) != simdjson::SUCCESS) {
        return respond(ErrorFrom(
            Status::InvalidArgument("a retention run takes only \"dry_run\": true or false"),
            who));
      }
    }
  }
  lifecycle::RetentionRunner* runner = context.lifecycle.retention;
  Status posted = context.assistant.workers->Post([runner, dry_run, respond, who] {
    Result<PurgeReport> report = runner->RunOnce(dry_run);
    if (!report.ok()) return respond(StoreError(report.status(), who));
    JsonWriter w;
    w.BeginObject().Field("status", "success");
    if (dry_run) w.Field("dry_run", true);
    w.Key("purged")
        .BeginObject()
        .Field("interactions", report->interactions)
        .Field("users", report->users)
        .EndObject()
        .Field("held_users_skipped", report->held_users_skipped)
        .Field("audit_entries_purged", report->audit_entries)
        .EndObject();
    http::Response r = JsonResponse(200, w.Release(), who);
    r.rows = report->interactions;
    respond(std::move(r));
  });
  if (!posted.ok()) respond(ErrorFrom(posted, who));
}

}  // namespace omniflow::api
