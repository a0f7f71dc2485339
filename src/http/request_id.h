// X-Request-Id: the caller's own when it is well-formed, else one the server makes. Every
// response carries it, and the request's log line and audit entry hold the same id.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace omniflow::http {

// True when `id` is 1-64 characters, each of A-Z a-z 0-9 . _ -
bool IsValidRequestId(std::string_view id);

// The caller's X-Request-Id (`given`) when IsValidRequestId, else a new random one
// ("req-" and 16 hex digits) written to `storage`. The view points into `given` or `storage`.
std::string_view RequestIdFor(std::optional<std::string_view> given, std::string* storage);

}  // namespace omniflow::http
