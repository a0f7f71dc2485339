// GET /api/audit: the audit log, newest first, filtered and cursor-paged. Admin key only (route
// table); reading it is itself recorded (audit_read, with the entries returned as its count).
#include <algorithm>
#include <string>
#include <vector>

#include "api/analytics_access.h"
#include "api/audit.h"
#include "api/respond.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

constexpr std::string_view kParameters[] = {"from",        "to",     "action", "actor",
                                            "target_user", "cursor", "limit",  "code"};

// Every action the log can hold: the route table's audit names and, for admin requests, its
// function names; and auth_failed.
std::vector<std::string_view> KnownActions() {
  std::vector<std::string_view> actions = {"auth_failed"};
  for (const Route& route : Routes()) {
    const std::string_view action = AdminAuditAction(route);
    if (!action.empty() && std::find(actions.begin(), actions.end(), action) == actions.end()) {
      actions.push_back(action);
    }
  }
  return actions;
}

Status CheckAction(std::string_view action) {
  const std::vector<std::string_view> known = KnownActions();
  if (std::find(known.begin(), known.end(), action) != known.end()) return Status::Ok();
  std::string list;
  for (std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
  return Status::InvalidArgument("action must be one of: " + list);
}

Status CheckActor(std::string_view actor) {
  if (actor == "admin" || actor == "anonymous") return Status::Ok();
  if (actor.substr(0, 5) == "user:" && IsValidUserId(actor.substr(5))) return Status::Ok();
  if (actor.substr(0, 4) == "key:") {
    for (std::string_view function : FunctionNames()) {
      if (actor.substr(4) == function) return Status::Ok();
    }
  }
  return Status::InvalidArgument(
      "actor must be admin, anonymous, user:<user id> or key:<function> (a function of the "
      "route table, e.g. key:export)");
}

Result<AuditQuery> ParseQuery(const QueryParams& params) {
  for (const auto& [name, value] : params.all()) {
    if (std::find(std::begin(kParameters), std::end(kParameters), name) == std::end(kParameters)) {
      return Status::InvalidArgument("unknown parameter \"" + name.substr(0, 64) +
                                     "\": /api/audit takes from, to, action, actor, "
                                     "target_user, cursor and limit");
    }
  }
  AuditQuery q;
  Result<AnalyticsScope> range = TimeScope(params);
  if (!range.ok()) return range.status();
  q.from_us = range->from_us;
  q.to_us = range->to_us;
  if (auto action = params.Get("action"); action && !action->empty()) {
    if (Status s = CheckAction(*action); !s.ok()) return s;
    q.action = std::string(*action);
  }
  if (auto actor = params.Get("actor"); actor && !actor->empty()) {
    if (Status s = CheckActor(*actor); !s.ok()) return s;
    q.actor = std::string(*actor);
  }
  if (auto target = params.Get("target_user"); target && !target->empty()) {
    if (!IsValidUserId(*target)) {
      return Status::InvalidArgument(std::string("target_user must be ") + kUserIdRule);
    }
    q.target_user = std::string(*target);
  }
  if (auto cursor = params.Get("cursor"); cursor && !cursor->empty()) {
    Result<int64_t> before = DecodeAuditCursor(*cursor);
    if (!before.ok()) return before.status();
    q.before_seq = *before;
  }
  Result<int64_t> limit = params.GetInt("limit", 1, 1000, 100);
  if (!limit.ok()) return limit.status();
  q.limit = static_cast<int>(*limit);
  return q;
}

}  // namespace

void GetAudit(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.audit.store == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the audit log is not enabled here"), who));
  }
  Result<AuditQuery> query = ParseQuery(call.query);
  if (!query.ok()) return respond(ErrorFrom(query.status(), who));
  Result<AuditPage> page = context.audit.store->List(*query);
  if (!page.ok()) return respond(StoreError(page.status(), who));
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("entries").BeginArray();
  for (const AuditEntry& entry : page->items) w.Raw(AuditEntryJson(entry));
  w.EndArray().Field("has_more", page->has_more).Key("next_cursor");
  if (page->next) {
    w.String(EncodeAuditCursor(*page->next));
  } else {
    w.Null();
  }
  w.EndObject();
  http::Response r = JsonResponse(200, w.Release(), who);
  r.rows = static_cast<int64_t>(page->items.size());
  respond(std::move(r));
}

}  // namespace omniflow::api
