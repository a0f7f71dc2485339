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
    case Status::Code::kFailedPrecondition: return 409;
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

http::Response ErrorFrom(const Status& status, std::string log_user) {
  const bool internal = status.code() == Status::Code::kInternal;
  http::Response r = http::ErrorResponse(
      HttpStatus(status.code()),
      internal ? "internal error; quote this response's request_id when reporting it"
               : status.message());
  if (internal) r.log_error = status.message();
  if (status.code() == Status::Code::kUnavailable ||
      status.code() == Status::Code::kTooManyRequests) {
    r.headers.emplace_back("Retry-After", "1");
  }
  if (status.code() == Status::Code::kUnauthenticated) {
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  r.log_user = std::move(log_user);
  return r;
}

http::Response StoreError(const Status& status, std::string log_user) {
  switch (status.code()) {
    case Status::Code::kNotFound:
    case Status::Code::kFailedPrecondition:
    case Status::Code::kInvalidArgument:
    case Status::Code::kPermissionDenied:
      return ErrorFrom(status, std::move(log_user));
    default:
      break;
  }
  const bool unavailable = status.code() == Status::Code::kUnavailable;
  http::Response r = ErrorFrom(
      unavailable ? Status::Unavailable("the store is unavailable; retry shortly")
                  : Status::Internal(""),
      std::move(log_user));
  r.log_error = status.message();
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

}  // namespace omniflow::api
