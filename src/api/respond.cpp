#include "api/respond.h"

#include "http/router.h"

namespace omniflow::api {

int HttpStatus(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return 200;
    case Status::Code::kInvalidArgument: return 400;
    case Status::Code::kUnauthenticated: return 401;
    case Status::Code::kPermissionDenied: return 403;
    case Status::Code::kNotFound: return 404;
    case Status::Code::kMethodNotAllowed: return 405;
    case Status::Code::kPayloadTooLarge: return 413;
    case Status::Code::kUnsupportedMedia: return 415;
    case Status::Code::kTooManyRequests: return 429;
    case Status::Code::kInternal: return 500;
    case Status::Code::kBadGateway: return 502;
    case Status::Code::kUnavailable: return 503;
    case Status::Code::kGatewayTimeout: return 504;
  }
  return 500;
}

http::Response ErrorFrom(const Status& status) {
  http::Response r = http::ErrorResponse(HttpStatus(status.code()), status.message());
  if (status.code() == Status::Code::kUnavailable ||
      status.code() == Status::Code::kTooManyRequests) {
    r.headers.emplace_back("Retry-After", "1");
  }
  if (status.code() == Status::Code::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  return r;
}

Credentials CredentialsOf(const http::Request& request,
                          std::optional<std::string_view> query_code) {
  Credentials c;
  c.function_key = request.Header("x-functions-key");
  if (!c.function_key && query_code) c.function_key = query_code;
  c.authorization = request.Header("authorization");
  c.user_id_header = request.Header("x-user-id");
  return c;
}

http::Response JsonResponse(int status, std::string body, std::string log_user) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.log_user = std::move(log_user);
  return r;
}

Status CheckJsonContentType(const http::Request& request) {
  auto type = request.Header("content-type");
  if (!type) return Status::Ok();
  std::string_view t = *type;
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  if (http::EqualsIgnoreCase(t, "application/json")) return Status::Ok();
  return Status::UnsupportedMedia("Content-Type must be application/json");
}

}  // namespace omniflow::api

#include "api/context.h"
#include "core/query.h"

namespace omniflow::api {

Result<Identity> AuthenticateUser(const ApiContext& context, std::string_view function,
                                  const http::Request& request, const QueryParams& query) {
  Result<Identity> identity =
      context.auth->Authenticate(function, CredentialsOf(request, query.Get("code")));
  if (!identity.ok()) return identity;
  if (identity->user_id.empty()) {
    return Status::InvalidArgument("X-User-Id header is required: the user to act for");
  }
  return identity;
}

}  // namespace omniflow::api
