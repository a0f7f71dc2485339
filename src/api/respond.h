// The one place where Status codes become HTTP statuses, and the helpers every handler uses to
// authenticate a request and answer it.
#pragma once

#include <string>
#include <string_view>

#include "auth/auth.h"
#include "core/status.h"
#include "http/request.h"

namespace omniflow::api {

// The HTTP status for a Status code.
int HttpStatus(Status::Code code);

// {"status":"error","error":"..."} with the mapped status; 503s carry Retry-After.
http::Response ErrorFrom(const Status& status);

// The credentials presented by `request` (x-functions-key or ?code=, Authorization, X-User-Id).
// `query_code` is the decoded `code` query parameter, if any.
Credentials CredentialsOf(const http::Request& request, std::optional<std::string_view> query_code);

// A 200/201 JSON response with `body`.
http::Response JsonResponse(int status, std::string body, std::string log_user = {});

// Ok when the request's Content-Type is JSON (or absent); UnsupportedMedia otherwise.
Status CheckJsonContentType(const http::Request& request);

}  // namespace omniflow::api

namespace omniflow {
class QueryParams;
}

namespace omniflow::api {

struct ApiContext;

// Authenticates `request` for `function`; a key holder acting for nobody (admin key without
// X-User-Id) is refused here, since every function below acts for one user.
Result<Identity> AuthenticateUser(const ApiContext& context, std::string_view function,
                                  const http::Request& request, const QueryParams& query);

}  // namespace omniflow::api
