// /api/proxy_router/{function}: one entry point for browser clients. It authenticates the caller
// with the target function's own rules (a bearer token, when OMNIFLOW_JWT_SECRET is set, is
// turned into a trusted call carrying the function key the server holds), then forwards method,
// query, headers and body to the function: in-process, or over HTTP to OMNIFLOW_ROUTER_UPSTREAM.
#include <array>
#include <memory>

#include "agent/http_fetch.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/query.h"

namespace omniflow::api {

namespace {

constexpr std::string_view kPrefix = "/api/proxy_router/";

constexpr std::array<std::string_view, 9> kFunctions = {
    "save_interaction", "get_interaction_history", "tool_call_handler",
    "get_data",         "add_new_data",            "update_data",
    "delete_data",      "list_data",               "get_interaction"};

// The headers the router sets itself or that belong to one hop only.
bool IsHopOrCredentialHeader(std::string_view name) {
  for (std::string_view h : {"authorization", "x-functions-key", "x-user-id", "host",
                             "content-length", "connection", "transfer-encoding", "keep-alive",
                             "upgrade", "te", "trailer", "proxy-authorization"}) {
    if (http::EqualsIgnoreCase(name, h)) return true;
  }
  return false;
}

// The query without its `code` parameter (the router adds the key itself).
std::string QueryWithoutCode(std::string_view query) {
  std::string out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty() || part == "code" || part.substr(0, 5) == "code=") continue;
    if (!out.empty()) out.push_back('&');
    out.append(part);
  }
  return out;
}

// A request the router owns: the views of `request` point into the strings here.
struct Forwarded {
  std::string method, path, query, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  http::Request request;

  void Bind() {
    request.method = method;
    request.SetTarget(target);  // path, then '?' and query if any
    request.body = body;
    request.headers.clear();
    for (const auto& [name, value] : headers) request.headers.emplace_back(name, value);
  }
};

std::string RouteList() {
  std::string list;
  for (std::string_view f : kFunctions) {
    if (!list.empty()) list.append(", ");
    list.append("/api/proxy_router/").append(f);
  }
  return list;
}

}  // namespace

void ProxyRouter(const ApiContext& context, const http::Request& request, http::Respond respond) {
  std::string_view function = request.path.substr(std::min(request.path.size(), kPrefix.size()));
  bool known = false;
  for (std::string_view f : kFunctions) known = known || (f == function && !f.empty());
  // get_interaction takes its id as the next segment: /api/proxy_router/get_interaction/INT_...
  std::string_view id_suffix;
  if (!known && function.substr(0, 16) == "get_interaction/") {
    id_suffix = function.substr(16);
    function = "get_interaction";
    known = !id_suffix.empty();
  }
  if (!known) {
    return respond(ErrorFrom(Status::NotFound("no function \"" +
                                              std::string(function.substr(0, 64)) +
                                              "\" behind the router; the routes are " +
                                              RouteList())));
  }
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  std::string auth_function = function == "get_interaction" ? "get_interaction"
                                                            : std::string(function);
  Result<Identity> identity = context.auth->Authenticate(
      auth_function, CredentialsOf(request, query->Get("code")));
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));
  if (identity->user_id.empty()) {
    return respond(ErrorFrom(Status::InvalidArgument(
        "X-User-Id header is required: the user to act for")));
  }

  auto fw = std::make_shared<Forwarded>();
  fw->method = std::string(request.method);
  fw->path = function == "get_interaction" ? "/api/interactions/" + std::string(id_suffix)
                                           : "/api/" + std::string(function);
  fw->query = QueryWithoutCode(request.query);
  fw->target = fw->query.empty() ? fw->path : fw->path + "?" + fw->query;
  fw->body = std::string(request.body);
  for (const auto& [name, value] : request.headers) {
    if (!IsHopOrCredentialHeader(name)) fw->headers.emplace_back(name, value);
  }
  fw->headers.emplace_back("X-User-Id", identity->user_id);
  // The strongest credential the server holds for that function: its key, the admin key, or
  // (for a function guarded only by the token secret) the caller's verified token.
  const AuthOptions& auth = context.auth->options();
  auto key = auth.function_keys.find(auth_function);
  if (key != auth.function_keys.end()) {
    fw->headers.emplace_back("x-functions-key", key->second);
  } else if (auth.admin_key) {
    fw->headers.emplace_back("x-functions-key", *auth.admin_key);
  } else if (auto bearer = request.Header("authorization")) {
    fw->headers.emplace_back("Authorization", std::string(*bearer));
  }
  std::string user = identity->user_id;
  if (context.proxy.upstream.empty() ? context.proxy.router == nullptr
                                     : context.assistant.workers == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("proxy_router is not enabled here")));
  }

  if (context.proxy.upstream.empty()) {
    fw->Bind();
    return context.proxy.router->Dispatch(fw->request, [fw, respond](http::Response r) {
      respond(std::move(r));
    });
  }

  agent::FetchRequest fetch;
  fetch.method = fw->method;
  fetch.url = context.proxy.upstream + fw->target;
  fetch.body = fw->body;
  fetch.timeout_ms = context.proxy.upstream_timeout_ms;
  for (const auto& [name, value] : fw->headers) fetch.headers.push_back(name + ": " + value);
  Status posted = context.assistant.workers->Post([fetch = std::move(fetch), respond, user] {
    agent::FetchReply reply = agent::Fetch(fetch);
    if (reply.curl == CURLE_OPERATION_TIMEDOUT) {
      return respond(ErrorFrom(Status::GatewayTimeout("the upstream function did not answer in time")));
    }
    if (reply.curl != CURLE_OK || reply.status == 0) {
      return respond(ErrorFrom(Status::BadGateway(std::string("cannot reach the upstream: ") +
                                                  curl_easy_strerror(reply.curl))));
    }
    http::Response r;
    r.status = static_cast<int>(reply.status);
    r.body = std::move(reply.body);
    bool printable = !reply.content_type.empty() && reply.content_type.size() < 256;
    for (char ch : reply.content_type) printable = printable && ch >= 0x20 && ch != 0x7f;
    if (printable) r.content_type = reply.content_type;
    if (reply.retry_after_s >= 0) r.headers.emplace_back("Retry-After", std::to_string(reply.retry_after_s));
    r.log_user = user;
    respond(std::move(r));
  });
  if (!posted.ok()) respond(ErrorFrom(posted));
}

}  // namespace omniflow::api
