// proxy_router's upstream mode (OMNIFLOW_ROUTER_UPSTREAM): the route table has matched the call
// to a forwardable route, validated its parameters and authenticated the caller; this sends it
// to the upstream at the route's own path, built from the table with the parameters
// re-encoded, never from the caller's raw path. Only an allow-list of headers goes along, with
// the caller's verified user and the function's own FUNCTION_CODE_<NAME> key (or the caller's
// own bearer token); never the admin key and never the caller's `code` or x-functions-key. The
// upstream's answer is served as JSON; anything else becomes a 502.
#include <simdjson.h>

#include "agent/http_fetch.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "api/route_table.h"

namespace omniflow::api {

namespace {

// Headers a client may send that the upstream may see; the router sets identity itself.
constexpr std::string_view kForwardedHeaders[] = {"content-type", "accept", "accept-language",
                                                   "user-agent", "idempotency-key"};

// Percent-encodes all but RFC 3986's unreserved characters.
void AppendEncoded(std::string* out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
        u == '-' || u == '.' || u == '_' || u == '~') {
      out->push_back(c);
    } else {
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    }
  }
}

// The route's own path with its parameters re-encoded, and the query re-encoded without `code`
// (compared after decoding, so %63ode is dropped too).
std::string UpstreamTarget(const Route& route, const Call& call) {
  std::string target;
  size_t i = 0;
  for (const PatternPart& part : PatternParts(route.pattern)) {
    if (part.parameter) {
      AppendEncoded(&target, call.params[i++]);
    } else {
      target.append(part.text);
    }
  }
  char separator = '?';
  for (const auto& [name, value] : call.query.all()) {
    if (name == "code") continue;
    target.push_back(separator);
    separator = '&';
    AppendEncoded(&target, name);
    target.push_back('=');
    AppendEncoded(&target, value);
  }
  return target;
}

bool IsJson(std::string_view body) {
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  return parser.parse(body.data(), body.size()).get(root) == simdjson::SUCCESS;
}

}  // namespace

void ForwardUpstream(const ApiContext& context, const Route& route, const Call& call,
                     http::Respond respond) {
  const std::string& who = call.caller.user_id;
  if (context.assistant.workers == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("proxy_router is not enabled here"), who));
  }
  agent::FetchRequest fetch;
  fetch.method = std::string(call.request.method);
  fetch.url = context.proxy.upstream + UpstreamTarget(route, call);
  fetch.body = std::string(call.request.body);
  fetch.timeout_ms = context.proxy.upstream_timeout_ms;
  for (const auto& [name, value] : call.request.headers) {
    for (std::string_view allowed : kForwardedHeaders) {
      if (http::EqualsIgnoreCase(name, allowed)) {
        fetch.headers.push_back(std::string(name) + ": " + std::string(value));
      }
    }
  }
  if (!who.empty()) fetch.headers.push_back("X-User-Id: " + who);
  if (!call.request.request_id.empty()) {
    fetch.headers.push_back("X-Request-Id: " + std::string(call.request.request_id));
  }
  const AuthOptions& auth = context.auth->options();
  auto key = auth.function_keys.find(std::string(route.function));
  if (key != auth.function_keys.end()) {
    fetch.headers.push_back("x-functions-key: " + key->second);
  } else if (call.caller.token) {
    // The caller's own verified token: it proves no more upstream than it proved here.
    fetch.headers.push_back("Authorization: " +
                            std::string(call.request.Header("authorization").value_or("")));
  }
  Status posted = context.assistant.workers->Post([fetch = std::move(fetch), respond, who] {
    agent::FetchReply reply = agent::Fetch(fetch);
    if (reply.curl == CURLE_OPERATION_TIMEDOUT) {
      return respond(
          ErrorFrom(Status::DeadlineExceeded("the upstream function did not answer in time"), who));
    }
    if (reply.curl != CURLE_OK || reply.status == 0) {
      return respond(ErrorFrom(Status::UpstreamFailed(std::string("cannot reach the upstream: ") +
                                                      curl_easy_strerror(reply.curl)),
                               who));
    }
    if (!IsJson(reply.body)) {
      return respond(ErrorFrom(
          Status::UpstreamFailed("the upstream function answered " + std::to_string(reply.status) +
                                 " with a body that is not JSON"),
          who));
    }
    http::Response r = JsonResponse(static_cast<int>(reply.status), std::move(reply.body), who);
    if (reply.retry_after_s >= 0) {
      r.headers.emplace_back("Retry-After", std::to_string(reply.retry_after_s));
    }
    respond(std::move(r));
  });
  if (!posted.ok()) respond(ErrorFrom(posted, who));
}

}  // namespace omniflow::api
