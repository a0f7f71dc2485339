// The audit trail of requests (issue 14): which requests the audit log records and as what,
// derived from the route table (Route::audit), the entry each one gets, and the answer that
// goes out once its entry is committed. Plus GET /api/audit, the log itself.
//
// Recorded: every request to a route with an audit name (whoever calls); every request made
// with the admin key (under the route's audit name, else its function name); every 401 or 403
// answered on a non-public route (as "auth_failed"). Nothing else: a user's own saves and reads
// are never written to the log. An entry holds the verified actor, the action, the user acted
// on, the route's pattern (never the query), the status, a count and the request id; never a
// key, a token or message text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/call.h"
#include "api/context.h"
#include "api/route_table.h"
#include "http/request.h"
#include "store/audit_store.h"

namespace omniflow::api {

// What dispatch has verified of a request by the time it is answered.
struct AuditSubject {
  std::string actor = "anonymous";         // ActorOf the verified caller; none verified: anonymous
  std::optional<std::string> target_user;  // the user acted on, once named validly
};

// The actor a verified caller is recorded as: "admin" (the admin key), "user:<id>" (a token's
// sub), "key:<function>" (the route's function key), or "anonymous" (an open function or the
// open development mode, where nothing was verified).
std::string ActorOf(Identity::Kind kind, const std::string& user_id, const Route& route);

// The action under which a request to `route` by `actor`, answered `status`, is recorded; empty
// when it is not recorded. 401/403 on a non-public route: "auth_failed"; else the route's audit
// name; else, for the admin, AdminAuditAction(route).
std::string_view AuditAction(const Route& route, std::string_view actor, int status);

// The path an entry records: the route's pattern, or its proxy_router pattern when `proxied`.
std::string AuditPath(const Route& route, bool proxied);

// Answers `response` through `respond`, recording the request first when AuditAction says so:
// the entry goes to context.audit.writer and the answer out once it is committed, so that a
// reader of /api/audit after the answer sees it. A streamed answer is recorded when its last
// piece has been made (or when the client goes away), with the rows it held, before that piece
// goes out. An entry that cannot be written is logged (event=audit_dropped, no secrets) and
// the answer goes out all the same. Without a writer nothing is recorded.
void AnswerAudited(const ApiContext& context, const Route& route, bool proxied,
                   const http::Request& request, const AuditSubject& subject,
                   http::Response response, const http::Respond& respond);

// GET /api/audit?from=&to=&action=&actor=&target_user=&cursor=&limit=: the log, newest first,
// cursor-paged; 400 naming a bad parameter. Admin key only (route table).
void GetAudit(const ApiContext& context, const Call& call, http::Respond respond);

// The opaque cursor of the audit log: base64url of "s1|<seq>" (the seq the next page is below).
std::string EncodeAuditCursor(int64_t before_seq);
Result<int64_t> DecodeAuditCursor(std::string_view text);

}  // namespace omniflow::api
