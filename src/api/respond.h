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

// {"status":"error","error":"..."} with the mapped status, logging `log_user`; 503s and 429s
// carry Retry-After (kUnavailable, kAborted, kResourceExhausted). An Internal status's text goes to
// the log only: the client is told that an internal error occurred and the request id to quote.
http::Response ErrorFrom(const Status& status, std::string log_user = {});

// The answer to a failed store call: NotFound, InvalidArgument and PermissionDenied as they
// are (a FailedPrecondition may carry the engine's constraint text, so a handler that expects
// one, such as erasure's legal hold, answers it itself); a transient failure (IsTransient: unavailable, aborted,
// exhausted, deadline exceeded) is a 503 and anything else a 500, both saying only that the
// store failed (the store's text, which may name the database, goes to the log with the
// request id).
http::Response StoreError(const Status& status, std::string log_user = {});

// The credentials presented by `request` (x-functions-key or ?code=, Authorization, X-User-Id).
// `query_code` is the decoded `code` query parameter, if any.
Credentials CredentialsOf(const http::Request& request, std::optional<std::string_view> query_code);

// A 200/201 JSON response with `body`.
http::Response JsonResponse(int status, std::string body, std::string log_user = {});

}  // namespace omniflow::api
