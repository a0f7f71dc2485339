// HS256 JSON Web Tokens (RFC 7519) over OpenSSL's HMAC: verification for bearer tokens and
// signing for tests and the `omniflow token` command. Only HS256 is accepted: `alg: none` and
// every other algorithm are refused, `exp` is required and enforced, and `sub` is required.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace omniflow {

struct TokenClaims {
  std::string sub;
  int64_t exp = 0;  // seconds since the epoch; 0 when the token has none
};

// Verifies `token` (compact JWS) with `secret` at time `now_seconds`. Unauthenticated Status,
// with a message saying what is wrong, when the token is malformed, not HS256, badly signed,
// expired or without `exp`, or has no non-empty string `sub`.
Result<TokenClaims> VerifyHs256(std::string_view token, std::string_view secret, int64_t now_seconds);

// Signs `payload_json` (a JSON object text) with HS256; header {"alg":"HS256","typ":"JWT"}.
std::string SignHs256(std::string_view payload_json, std::string_view secret);

// base64url without padding, as JWS uses.
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view text, std::string* out);

}  // namespace omniflow
