// HS256 JSON Web Tokens (RFC 7519) over OpenSSL's HMAC: verification for bearer tokens and
// signing for tests and the `omniflow token` command. Only HS256 is accepted: `alg: none` and
// every other algorithm are refused, `exp` is required, bounded by a TokenPolicy and enforced,
// and `sub` is required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace omniflow {

// What VerifyHs256 demands of a validly signed token's claims, beyond `exp` and `sub`.
struct TokenPolicy {
  // Longest a token may still be valid for: `exp - now` above this is refused, however well
  // signed (OMNIFLOW_JWT_MAX_TTL). REQUIRES: positive.
  int64_t max_ttl_seconds = 86400;
  // When set, the token's `aud` (a string, or an array of strings) must contain exactly this
  // (OMNIFLOW_JWT_AUDIENCE). When unset, `aud` is not looked at.
  std::optional<std::string> audience;
  // When set, the token's `iss` must be exactly this string (OMNIFLOW_JWT_ISSUER). When unset,
  // `iss` is not looked at.
  std::optional<std::string> issuer;
};

// How far in the future an `iat` (issued at) may lie, for clocks that disagree slightly.
inline constexpr int64_t kMaxIatSkewSeconds = 60;

struct TokenClaims {
  std::string sub;
  int64_t exp = 0;  // seconds since the epoch; always set on a verified token
};

// Verifies `token` (compact JWS) with `secret` at time `now_seconds` under `policy`.
// Unauthenticated Status, with a message saying what is wrong, when the token is malformed, not
// HS256 or badly signed; when `exp` is missing, not a non-negative integer, at or before now, or
// more than policy.max_ttl_seconds after now; when `nbf` or `iat`, if present, is not a
// non-negative integer, `nbf` is after now, or `iat` is more than kMaxIatSkewSeconds after now;
// when the policy's audience or issuer is set and `aud` or `iss` does not match it; or when
// there is no non-empty string `sub`. Messages never contain the token, a claim or the secret.
Result<TokenClaims> VerifyHs256(std::string_view token, std::string_view secret,
                                int64_t now_seconds, const TokenPolicy& policy);

// Signs `payload_json` (a JSON object text) with HS256; header {"alg":"HS256","typ":"JWT"}.
std::string SignHs256(std::string_view payload_json, std::string_view secret);

// base64url without padding, as JWS uses.
std::string Base64UrlEncode(std::string_view data);
bool Base64UrlDecode(std::string_view text, std::string* out);

}  // namespace omniflow
