// Serving a request through the route table, in one order for every route and for proxy_router
// alike: web safety in open mode, the query, authentication, the typed path parameters, the
// body's media type, the per-user limit, then the handler; every answer goes out through the
// audit trail (api/audit.h), which records what the route table says. RegisterRoutes derives
// the router's routes (and proxy_router's) from the table.
#include <simdjson.h>

#include "api/analytics_access.h"
#include "api/audit.h"
#include "api/context.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "api/route_table.h"
#include "core/query.h"
#include "core/validate.h"
#include "http/request_id.h"
#include "store/replay_store.h"

namespace omniflow::api {

namespace {

// "localhost", 127.0.0.0/8 and [::1], each with an optional port.
bool IsLoopbackHost(std::string_view host) {
  if (host.substr(0, 5) == "[::1]") {
    host.remove_prefix(5);
  } else {
    const size_t colon = host.find(':');
    const std::string_view name = host.substr(0, colon);
    host = colon == std::string_view::npos ? std::string_view() : host.substr(colon);
    bool loopback = http::EqualsIgnoreCase(name, "localhost");
    if (!loopback && name.substr(0, 4) == "127.") {
      int dots = 0, digits = 0;
      loopback = true;
      for (char c : name) {
        if (c == '.') {
          loopback = loopback && digits > 0 && digits <= 3;
          ++dots, digits = 0;
        } else {
          loopback = loopback && c >= '0' && c <= '9';
          ++digits;
        }
      }
      loopback = loopback && dots == 3 && digits > 0 && digits <= 3;
    }
    if (!loopback) return false;
  }
  if (host.empty()) return true;
  if (host.front() != ':' || host.size() < 2 || host.size() > 6) return false;
  for (char c : host.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A request carrying an Origin must come from a page of this server (same scheme, host, port).
Status CheckOrigin(const http::Request& request) {
  std::optional<std::string_view> origin = request.Header("origin");
  if (!origin) return Status::Ok();
  std::optional<std::string_view> host = request.Header("host");
  if (host && http::EqualsIgnoreCase(*origin, "http://" + std::string(*host))) return Status::Ok();
  return Status::PermissionDenied(
      "cross-origin requests are refused by functions open without credentials; use the "
      "dashboard this server serves, or configure credentials (docs/security.md)");
}

// In the open development mode the server answers only loopback Host names (a DNS rebinding
// page has its own name) and only same-origin pages.
Status CheckOpenMode(const ApiContext& context, const http::Request& request) {
  if (!context.auth->options().DevelopmentMode()) return Status::Ok();
  if (!context.any_host) {
    std::optional<std::string_view> host = request.Header("host");
    if (!host || !IsLoopbackHost(*host)) {
      return Status::PermissionDenied(
          "in the open development mode only requests to localhost, 127.0.0.0/8 or [::1] are "
          "served; configure credentials to serve other names (docs/security.md)");
    }
  }
  return CheckOrigin(request);
}

// POST, PUT and PATCH bodies must declare the route's media type.
Status CheckBodyType(const Route& route, const http::Request& request) {
  const bool has_body_method =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!has_body_method) return Status::Ok();
  std::optional<std::string_view> type = request.Header("content-type");
  if (!type && request.body.empty()) return Status::Ok();
  std::vector<std::string_view> want = BodyTypes(route);
  if (want.empty()) want.push_back("application/json");
  std::string_view media = type.value_or("");
  media = media.substr(0, media.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  std::string names;
  for (std::string_view one : want) {
    if (type && http::EqualsIgnoreCase(media, one)) return Status::Ok();
    names += (names.empty() ? "" : " or ") + std::string(one);
  }
  return Status::UnsupportedFormat("Content-Type must be " + names);
}

// The `field` ("user_id", say) of a JSON object body, if it is a string; nullopt otherwise (the
// handler reports a malformed body).
std::optional<std::string> UserIdInBody(std::string_view body, std::string_view field) {
  static thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  std::string_view user;
  if (root[field].get(user) != simdjson::SUCCESS) return std::nullopt;
  return std::string(user);
}

// A stream that holds a per-user pass (UserGate) until it is destroyed: when the server has
// sent its last piece or dropped it.
class HeldStream final : public http::BodyStream {
 public:
  HeldStream(std::shared_ptr<http::BodyStream> inner, std::shared_ptr<void> pass)
      : inner_(std::move(inner)), pass_(std::move(pass)) {}
  void Next(std::function<void(Piece)> done) override { inner_->Next(std::move(done)); }
  int64_t rows() const override { return inner_->rows(); }

 private:
  std::shared_ptr<http::BodyStream> inner_;
  std::shared_ptr<void> pass_;
};

// The caller of `route`, or why not. Sets `subject` (for the audit log) to what was verified,
// even when access is then refused.
Result<Caller> Authorize(const ApiContext& context, const Route& route,
                         const http::Request& request, const QueryParams& query,
                         AuditSubject* subject) {
  Credentials credentials = CredentialsOf(request, query.Get("code"));
  // Azure OpenAI clients send their key as "api-key": the bearer value of such routes.
  std::string azure_key;
  if (route.keys_as_bearer && !credentials.authorization) {
    if (std::optional<std::string_view> key = request.Header("api-key")) {
      azure_key = "Bearer " + std::string(*key);
      credentials.authorization = azure_key;
    }
  }
  std::optional<std::string> body_user;
  if (route.user_in_body) body_user = UserIdInBody(request.body, route.body_user_field);
  if (body_user) {
    if (credentials.user_id_header && *credentials.user_id_header != *body_user) {
      return Status::InvalidArgument(std::string(route.body_user_field) +
                                     " in the body and the X-User-Id header differ");
    }
    credentials.user_id_header = *body_user;
  }
  if (credentials.user_id_header && IsValidUserId(*credentials.user_id_header)) {
    subject->target_user = std::string(*credentials.user_id_header);
  }
  Result<Identity> identity =
      context.auth->Authenticate(route.function, credentials,
                                 route.access != Access::kSpanUsers, route.keys_as_bearer);
  if (!identity.ok()) return identity.status();
  subject->actor = ActorOf(identity->kind, identity->user_id, route);
  if (!identity->user_id.empty()) subject->target_user = identity->user_id;
  Caller caller;
  caller.kind = identity->kind;
  caller.user_id = std::move(identity->user_id);
  caller.token = identity->kind == Identity::Kind::kToken;
  const bool everyone = identity->admin() || (identity->kind == Identity::Kind::kOpen &&
                                              context.auth->options().DevelopmentMode());
  if (route.access == Access::kAdmin) {
    if (!everyone) {
      return Status::PermissionDenied("this function needs the admin key (OMNIFLOW_ADMIN_KEY)");
    }
    caller.all_users = true;
    return caller;
  }
  if ((route.access == Access::kViewer || route.access == Access::kSubject) && everyone) {
    caller.all_users = true;
    return caller;
  }
  // Acting for the users the body names: a caller bound to no user (a key without X-User-Id)
  // names them record by record; the handler holds each record to the caller's user, if any.
  if (route.access == Access::kSpanUsers) return caller;
  if (caller.user_id.empty()) {
    return Status::InvalidArgument(std::string("X-User-Id header is required: the user to act "
                                               "for, ") + kUserIdRule);
  }
  return caller;
}

// An Azure OpenAI deployment name: 1-64 letters, digits, '.', '_', '-' (the request ids'
// grammar).
bool IsValidDeploymentName(std::string_view name) { return http::IsValidRequestId(name); }

// Decodes and checks each path parameter against the grammar its name declares.
Status DecodeParams(const Route& route, const http::PathParams& raw, Call* call) {
  if (route.pattern.find('{') == std::string_view::npos) return Status::Ok();  // the save path
  size_t i = 0;
  for (const PatternPart& part : PatternParts(route.pattern)) {
    if (!part.parameter) continue;
    const std::string_view name = part.text;
    std::string& value = call->params[i];
    if (i >= raw.size || !PercentDecode(raw.values[i], false, &value)) {
      return Status::InvalidArgument(std::string(name) + " is not validly percent-encoded");
    }
    ++i;
    if (name == "interaction_id") {
      if (!IsValidInteractionId(value)) {
        return Status::NotFound("no interaction with that id for this user");
      }
    } else if (name == "thread_id") {
      if (!IsValidThreadId(value)) {
        return Status::InvalidArgument(std::string("thread id must be ") + kThreadIdRule);
      }
    } else if (name == "user_id") {
      if (!IsValidUserId(value)) {
        return Status::InvalidArgument(std::string("user id must be ") + kUserIdRule);
      }
    } else if (name == "deployment") {
      if (!IsValidDeploymentName(value)) {
        return Status::InvalidArgument(
            "deployment must be 1-64 letters, digits, '.', '_' or '-'");
      }
    } else if (name == "replay_id") {
      if (!IsValidReplayId(value)) return Status::NotFound("no replay with that id");
    } else {
      return Status::Internal("route parameter without a grammar: " + std::string(name));
    }
  }
  return Status::Ok();
}

// A kSubject route acts only on its caller's own user, unless the caller may act for everyone.
Status CheckSubject(const Route& route, const Call& call) {
  if (route.access != Access::kSubject || call.caller.all_users) return Status::Ok();
  size_t i = 0;
  for (const PatternPart& part : PatternParts(route.pattern)) {
    if (!part.parameter) continue;
    if (part.text == "user_id" && call.params[i] == call.caller.user_id) return Status::Ok();
    ++i;
  }
  return Status::PermissionDenied(
      "you may act only on your own user here: the path's user must be the token's sub or the "
      "X-User-Id that goes with the function key");
}

// The user an admin's or viewer's request names with ?user_id= (validated), for the audit log.
std::optional<std::string> QueryUser(const QueryParams& query) {
  std::optional<std::string_view> user = query.Get("user_id");
  if (!user || !IsValidUserId(*user)) return std::nullopt;
  return std::string(*user);
}

// The path's {user_id}, percent-decoded, when it is a valid user id: the user a request to
// such a route acts on, whoever asks (for the audit log; DecodeParams checks it for serving).
std::optional<std::string> PathUser(const Route& route, const http::PathParams& raw) {
  if (route.pattern.find("{user_id}") == std::string_view::npos) return std::nullopt;
  size_t i = 0;
  for (const PatternPart& part : PatternParts(route.pattern)) {
    if (!part.parameter) continue;
    std::string value;
    if (part.text == "user_id" && i < raw.size && PercentDecode(raw.values[i], false, &value) &&
        IsValidUserId(value)) {
      return value;
    }
    ++i;
  }
  return std::nullopt;
}

// The path as the request log shows it: the route's pattern (its proxy_router form when
// `proxied`) with each parameter's raw value, except a user id or a thread id, which may name a
// person (an erased one included) and stay as their {name}.
std::string LogPath(const Route& route, bool proxied, const http::PathParams& raw) {
  const std::string pattern = proxied ? ProxyPattern(route) : std::string(route.pattern);
  std::string path;
  size_t param = 0;
  for (const PatternPart& part : PatternParts(pattern)) {
    if (!part.parameter) {
      path += part.text;
    } else if (part.text == "user_id" || part.text == "thread_id" || param >= raw.size) {
      path += '{';
      path += part.text;
      path += '}';
      ++param;
    } else {
      path += raw.values[param++];
    }
  }
  return path;
}

// Serves `request` for `route`; `proxied` when it came through /api/proxy_router/. Every answer
// goes out through AnswerAudited with what has been verified so far.
void Serve(const ApiContext& context, const Route& route, bool proxied,
           const http::Request& request, const http::PathParams& raw, http::Respond respond) {
  if (raw.size > 0) {
    respond = [log_path = LogPath(route, proxied, raw),
               respond = std::move(respond)](http::Response r) mutable {
      r.log_path = log_path;
      respond(std::move(r));
    };
  }
  AuditSubject subject;
  auto answer = [&](http::Response response) {
    AnswerAudited(context, route, proxied, request, subject, std::move(response), respond);
  };
  if (Status s = CheckOpenMode(context, request); !s.ok()) return answer(ErrorFrom(s));
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return answer(ErrorFrom(query.status()));
  Call call{request, *query, {}, {}};
  if (route.access == Access::kMetrics) {
    if (context.auth == nullptr) {
      return respond(ErrorFrom(Status::Unavailable("authentication is not configured here")));
    }
    Status s = context.auth->AuthenticateMetrics(CredentialsOf(request, query->Get("code")));
    if (!s.ok()) return respond(ErrorFrom(s));
  } else if (route.access != Access::kPublic) {
    if (context.auth == nullptr) {
      return answer(ErrorFrom(Status::Unavailable("authentication is not configured here")));
    }
    Result<Caller> caller = Authorize(context, route, request, *query, &subject);
    // The user acted on: the path's, else the caller's, else (refused) the one X-User-Id named.
    if (std::optional<std::string> user = PathUser(route, raw)) subject.target_user = std::move(user);
    if (!caller.ok()) return answer(ErrorFrom(caller.status()));
    call.caller = std::move(*caller);
    if (call.caller.kind == Identity::Kind::kOpen) {
      if (Status s = CheckOrigin(request); !s.ok()) return answer(ErrorFrom(s, call.caller.user_id));
    }
    if (!subject.target_user && call.caller.all_users) subject.target_user = QueryUser(*query);
  }
  const std::string& who = call.caller.user_id;
  if (Status s = DecodeParams(route, raw, &call); !s.ok()) return answer(ErrorFrom(s, who));
  if (Status s = CheckSubject(route, call); !s.ok()) return answer(ErrorFrom(s, who));
  if (Status s = CheckBodyType(route, request); !s.ok()) return answer(ErrorFrom(s, who));
  // From here the handler answers, through the audit trail (public routes are never audited:
  // they skip it).
  http::Respond out;
  if (route.access != Access::kPublic && context.audit.writer != nullptr) {
    out = [&context, &route, proxied, &request, subject = std::move(subject),
           respond = std::move(respond)](http::Response r) {
      AnswerAudited(context, route, proxied, request, subject, std::move(r), respond);
    };
  } else {
    out = std::move(respond);
  }
  const bool upstream = proxied && !context.proxy.upstream.empty();
  if ((route.worker || upstream) && context.gate != nullptr) {
    std::shared_ptr<void> pass = context.gate->TryEnter(who);
    if (!pass) {
      return out(
          ErrorFrom(Status::ResourceExhausted("this user already has " +
                                              std::to_string(context.gate->limit()) +
                                              " requests in flight; retry when one has finished"),
                    who));
    }
    out = [pass = std::move(pass), out = std::move(out)](http::Response r) mutable {
      // A streamed answer holds its worker time until its last piece.
      if (r.stream) r.stream = std::make_shared<HeldStream>(std::move(r.stream), std::move(pass));
      pass.reset();
      out(std::move(r));
    };
  }
  if (upstream) return ForwardUpstream(context, route, call, std::move(out));
  route.handler(context, call, std::move(out));
}

std::string ProxyRouteList() {
  std::string list;
  for (const Route& route : Routes()) {
    if (route.proxy.empty()) continue;
    if (!list.empty()) list.append(", ");
    list.append(route.method).append(" ").append(ProxyPattern(route));
  }
  return list;
}

}  // namespace

void RegisterRoutes(const ApiContext* context, http::Router* router) {
  for (const Route& route : Routes()) {
    router->Add(route.method, route.pattern,
                [context, &route](const http::Request& request, const http::PathParams& params,
                                  http::Respond respond) {
                  Serve(*context, route, false, request, params, std::move(respond));
                });
  }
  for (const Route& route : Routes()) {
    if (route.proxy.empty()) continue;
    router->Add(route.method, ProxyPattern(route),
                [context, &route](const http::Request& request, const http::PathParams& params,
                                  http::Respond respond) {
                  Serve(*context, route, true, request, params, std::move(respond));
                });
  }
  router->SetFallback("/api/proxy_router", [context](const http::Request& request,
                                                     http::Respond respond) {
    if (Status s = CheckOpenMode(*context, request); !s.ok()) return respond(ErrorFrom(s));
    respond(ErrorFrom(Status::NotFound("no such function behind the router; the routes are " +
                                       ProxyRouteList())));
  });
}

}  // namespace omniflow::api
