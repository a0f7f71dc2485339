// What both engines check before touching the audit log.
#include "store/audit_store.h"

namespace omniflow {

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
