// What both engines check before touching the audit log.
#include "store/audit_store.h"

#include "core/ids.h"
#include "core/json.h"

namespace omniflow {

std::string AuditEntryJson(const AuditEntry& e) {
  JsonWriter w;
  w.BeginObject()
      .Field("seq", e.seq)
      .Field("ts", FormatTimestamp(e.ts_us))
      .Field("actor", e.actor)
      .Field("action", e.action)
      .Key("target_user");
  if (e.target_user) {
    w.String(*e.target_user);
  } else {
    w.Null();
  }
  w.Field("path", e.path).Field("status", e.status).Key("count");
  if (e.count) {
    w.Int(*e.count);
  } else {
    w.Null();
  }
  w.Field("request_id", e.request_id).EndObject();
  return w.Release();
}

Status ValidateAuditEntry(const AuditEntry& entry) {
  if (entry.actor.empty() || entry.action.empty() || entry.path.empty() ||
      entry.request_id.empty()) {
    return Status::InvalidArgument(
        "an audit entry needs an actor, an action, a path and a request id");
  }
  return Status::Ok();
}

Status ValidateAuditQuery(const AuditQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Status::InvalidArgument("an audit page holds 1 to 1000 entries");
  }
  return Status::Ok();
}

}  // namespace omniflow
