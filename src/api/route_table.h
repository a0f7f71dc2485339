// The one table of omniflow's HTTP surface. Each route declares its method, its path pattern
// with typed parameters, the function whose key guards it, who may call it, the media type of
// its body, the name it is forwarded under by proxy_router and the action it is audited under.
// Everything else is derived from it: the router's routes, authentication, the proxy_router's
// routes and upstream paths, the functions FUNCTION_CODE_<NAME> and OMNIFLOW_OPEN_FUNCTIONS
// accept, which requests the audit log records (api/audit.h), the isolation test matrix and the
// route table in docs/security.md (`omniflow routes`).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/call.h"

namespace omniflow::api {

// Who may call a route.
enum class Access {
  kPublic,  // anyone, no credentials (health, the dashboard's files)
  kUser,    // acts for exactly one user: that user's token; the function's key, the admin key or
            // an open function with X-User-Id
  kViewer,  // one user's own data with user credentials; every user's with the admin key (and
            // in the open development mode)
  kAdmin,   // operators only: the admin key (and the open development mode); no function key,
            // token or OMNIFLOW_OPEN_FUNCTIONS opens it. Such routes have no function name.
  kSubject, // acts on the user the path's {user_id} names: that user's token, the function's
            // key (or an open function) with X-User-Id naming that user, or the admin key (and
            // the open development mode) for any user; anyone else 401/403
  kSpanUsers, // acts for the users its body names record by record (OTLP spans' user.id):
              // a user's token for that user only; the function's key, the admin key or an
              // open function for the X-User-Id user only when one is given, else for any user
              // a record names. Records naming another user are refused one by one (the
              // handler's partial answer), never stored.
  kMetrics, // operators' monitoring: the admin key (also as a bearer token) or
            // OMNIFLOW_METRICS_TOKEN as a bearer token (and the open development mode). Acts
            // for no user; no function name.
};

struct Route {
  std::string_view method;
  // Literal segments and typed parameters: {interaction_id} (INT_ and upper-case letters,
  // digits, '_'), {thread_id} (the thread id grammar, percent-decoded), {user_id} (the user id
  // grammar, percent-decoded), {replay_id} ("rp_" and 24 hex digits), {deployment} (an Azure
  // OpenAI deployment name: 1-64 letters, digits, '.', '_', '-'); a final "*" matches the rest
  // (static files only).
  std::string_view pattern;
  std::string_view function;   // guarded by FUNCTION_CODE_<FUNCTION>; empty for kPublic, kAdmin
  Access access;
  // The media type POST/PUT/PATCH bodies must declare, or several separated by ", "; empty:
  // none (application/json when a body is sent).
  std::string_view body_type;
  // Forwarded by proxy_router as /api/proxy_router/<proxy>[/{param}...]; empty: not forwarded.
  std::string_view proxy;
  bool worker;                 // holds a worker thread: counted against the per-user limit
  bool user_in_body;           // the body's body_user_field ("user_id" unless the row says
                               // otherwise) names the user when X-User-Id is absent
  // The audit log's action for this route: every request to it is recorded, whoever calls.
  // Empty: recorded only when made with the admin key (as the function's name) or refused
  // with 401/403 (as "auth_failed"). kAdmin routes always have one. See api/audit.h.
  std::string_view audit;
  HandlerFn handler;
  std::string_view summary;
  // OpenAI-compatible clients send their API key as "Authorization: Bearer <key>" (Azure
  // OpenAI's as an "api-key" header, taken as the bearer value when there is no Authorization):
  // on such a route a bearer value that is the function's key or the admin key counts as that
  // key (compared in constant time); any other bearer value must be a valid token.
  bool keys_as_bearer = false;
  // The body field that names the user when user_in_body is set ("user" for OpenAI's).
  std::string_view body_user_field = "user_id";
};

// Every route, in matching order.
std::span<const Route> Routes();

// The distinct function names of the table (each may have FUNCTION_CODE_<NAME>).
std::vector<std::string_view> FunctionNames();

// A pattern cut into its literal runs and its {parameters}, in order: "/api/interactions/{id}/x"
// is "/api/interactions/", {id}, "/x". A parameter's text is its name, without the braces.
struct PatternPart {
  std::string_view text;
  bool parameter;
};
std::vector<PatternPart> PatternParts(std::string_view pattern);

// The proxy_router path of `route` ("/api/proxy_router/get_interaction/{interaction_id}"), or
// empty when it is not forwarded.
std::string ProxyPattern(const Route& route);

// The action requests to `route` made with the admin key are recorded under: the route's audit
// name, else its function name; empty for kPublic routes (never recorded).
std::string_view AdminAuditAction(const Route& route);

// The route table as a Markdown table, for docs/security.md.
std::string RouteTableMarkdown();

// The media types of a route's body_type, in order.
std::vector<std::string_view> BodyTypes(const Route& route);

// Who may call a route, in words ("admin key", "one user", ...).
std::string_view AccessName(Access access);

}  // namespace omniflow::api
