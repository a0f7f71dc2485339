// Authenticator: function keys, the admin key, HS256 bearer tokens and the open development
// mode, in the order auth.h gives. Secrets are compared in constant time and never appear in a
// Status message.
//
// Configured-but-empty values fail closed: an empty function key, admin key or JWT secret in
// AuthOptions still counts as configured (it closes the functions it guards, as Open() says) but
// matches nothing. FromEnvironment() never produces them: an empty variable counts as unset.
#include "auth/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>

#include "auth/jwt.h"
#include "core/validate.h"

namespace omniflow {
namespace {

// The seed system's variable for get_interaction_history's key.
constexpr char kSeedHistoryKeyVariable[] = "FUNCTION_CODE_GET_HISTORY";

// The value of environment variable `name`, or nullopt when it is unset or empty.
std::optional<std::string> NonEmptyEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// `text` as a positive decimal integer: digits only (no sign, space or fraction), no overflow.
std::optional<int64_t> PositiveInteger(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value <= 0) return std::nullopt;
  return value;
}

std::string FunctionKeyVariable(std::string_view function) {
  std::string name = "FUNCTION_CODE_";
  for (char c : function)
    name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

long RealNowSeconds() {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The token of an "Authorization: Bearer <token>" value (scheme case-insensitive, RFC 6750), or
// nullopt when the value is not of that form.
std::optional<std::string_view> BearerToken(std::string_view authorization) {
  authorization = TrimSpace(authorization);
  const size_t space = authorization.find_first_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;
  if (!EqualsIgnoreAsciiCase(authorization.substr(0, space), "bearer")) return std::nullopt;
  std::string_view token = TrimSpace(authorization.substr(space));
  if (token.empty() || token.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
  return token;
}

// The user named by X-User-Id, validated. With `required` false a missing header yields "".
Result<std::string> UserFromHeader(const std::optional<std::string_view>& header, bool required) {
  if (!header) {
    if (!required) return std::string();
    return Status::InvalidArgument(
        std::string("X-User-Id header is required: the user to act for, ") + kUserIdRule);
  }
  if (!IsValidUserId(*header)) {
    return Status::InvalidArgument(std::string("X-User-Id must be ") + kUserIdRule);
  }
  return std::string(*header);
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Hashing first makes the comparison's running time independent of where the inputs differ
  // and of which is longer; the byte comparison below rules out (astronomically unlikely)
  // digest collisions. Only the lengths leak, through the hashing time.
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest_a{};
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest_b{};
  unsigned int length_a = 0;
  unsigned int length_b = 0;
  static const char kEmpty = 0;
  const char* data_a = a.empty() ? &kEmpty : a.data();
  const char* data_b = b.empty() ? &kEmpty : b.data();
  const bool hashed =
      EVP_Digest(data_a, a.size(), digest_a.data(), &length_a, EVP_sha256(), nullptr) == 1 &&
      EVP_Digest(data_b, b.size(), digest_b.data(), &length_b, EVP_sha256(), nullptr) == 1 &&
      length_a == length_b;
  const bool same_length = a.size() == b.size();
  if (!hashed || !same_length) return false;
  const bool same_digest = CRYPTO_memcmp(digest_a.data(), digest_b.data(), length_a) == 0;
  const bool same_bytes = CRYPTO_memcmp(data_a, data_b, a.size()) == 0;
  return same_digest & same_bytes;
}

// Where two variables name get_interaction_history's key, FUNCTION_CODE_GET_INTERACTION_HISTORY
// wins over the seed's FUNCTION_CODE_GET_HISTORY.
AuthOptions AuthOptions::FromEnvironment(std::span<const std::string_view> functions) {
  AuthOptions options;
  for (std::string_view function : functions) {
    if (std::optional<std::string> key = NonEmptyEnv(FunctionKeyVariable(function))) {
      options.function_keys.emplace(std::string(function), std::move(*key));
    }
  }
  if (!options.function_keys.count("get_interaction_history")) {
    if (std::optional<std::string> key = NonEmptyEnv(kSeedHistoryKeyVariable)) {
      options.function_keys.emplace("get_interaction_history", std::move(*key));
    }
  }
  options.admin_key = NonEmptyEnv("OMNIFLOW_ADMIN_KEY");
  options.metrics_token = NonEmptyEnv("OMNIFLOW_METRICS_TOKEN");
  options.jwt_secret = NonEmptyEnv("OMNIFLOW_JWT_SECRET");
  if (std::optional<std::string> ttl = NonEmptyEnv("OMNIFLOW_JWT_MAX_TTL")) {
    if (std::optional<int64_t> seconds = PositiveInteger(*ttl)) {
      options.token_policy.max_ttl_seconds = *seconds;
    } else {
      options.environment_error =
          "OMNIFLOW_JWT_MAX_TTL must be a positive whole number of seconds (default " +
          std::to_string(TokenPolicy{}.max_ttl_seconds) + ")";
    }
  }
  options.token_policy.audience = NonEmptyEnv("OMNIFLOW_JWT_AUDIENCE");
  options.token_policy.issuer = NonEmptyEnv("OMNIFLOW_JWT_ISSUER");
  if (std::optional<std::string> open = NonEmptyEnv("OMNIFLOW_OPEN_FUNCTIONS")) {
    std::string_view list = *open;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view name = TrimSpace(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      if (name.empty()) continue;
      bool known = false;
      for (std::string_view function : functions) known = known || function == name;
      if (!known) {
        options.environment_error = "OMNIFLOW_OPEN_FUNCTIONS names \"" + std::string(name.substr(0, 64)) +
                        "\", which is not a function; the functions are:";
        for (std::string_view function : functions) options.environment_error += " " + std::string(function);
        return options;
      }
      options.open_functions.emplace(name);
    }
  }
  return options;
}

Authenticator::Authenticator(AuthOptions options, long (*now_seconds)())
    : options_(std::move(options)), now_seconds_(now_seconds ? now_seconds : &RealNowSeconds) {}

// Decision order (see auth.h): a presented key, else a presented Authorization header, else
// the open mode where the function is open, else 401. A presented credential never falls
// through.
Result<Identity> Authenticator::Authenticate(std::string_view function,
                                             const Credentials& credentials,
                                             bool key_needs_user, bool keys_as_bearer) const {
  const auto own_key = options_.function_keys.find(std::string(function));
  const bool function_has_key = own_key != options_.function_keys.end();

  if (keys_as_bearer && !credentials.function_key && credentials.authorization) {
    if (std::optional<std::string_view> bearer = BearerToken(*credentials.authorization)) {
      // Both comparisons always run, as below; a match is served exactly as that key would be.
      const bool is_function_key = function_has_key && !own_key->second.empty() &&
                                   ConstantTimeEquals(*bearer, own_key->second);
      const bool is_admin_key = options_.admin_key && !options_.admin_key->empty() &&
                                ConstantTimeEquals(*bearer, *options_.admin_key);
      if (is_function_key || is_admin_key) {
        Credentials as_key = credentials;
        as_key.function_key = *bearer;
        as_key.authorization.reset();
        return Authenticate(function, as_key, key_needs_user);
      }
    }
  }

  if (credentials.function_key) {
    const std::string_view presented = *credentials.function_key;
    // Both comparisons always run, so timing does not tell which key exists. Empty configured
    // keys match nothing.
    const bool is_function_key = function_has_key && !own_key->second.empty() &&
                                 ConstantTimeEquals(presented, own_key->second);
    const bool is_admin_key = options_.admin_key && !options_.admin_key->empty() &&
                              ConstantTimeEquals(presented, *options_.admin_key);
    if (!is_function_key && !is_admin_key) return Status::Unauthenticated("invalid function key");
    Identity identity;
    identity.kind = is_admin_key ? Identity::Kind::kAdminKey : Identity::Kind::kFunctionKey;
    // The admin key may act for nobody in particular (cross-user views); a function key may not.
    Result<std::string> user =
        UserFromHeader(credentials.user_id_header, !is_admin_key && key_needs_user);
    if (!user.ok()) return user.status();
    identity.user_id = std::move(*user);
    return identity;
  }

  if (credentials.authorization) {
    std::optional<std::string_view> token = BearerToken(*credentials.authorization);
    if (!token) {
      return Status::Unauthenticated("Authorization header must be \"Bearer <token>\"");
    }
    if (!options_.jwt_secret || options_.jwt_secret->empty()) {
      return Status::Unauthenticated("bearer tokens are not enabled: set OMNIFLOW_JWT_SECRET");
    }
    Result<TokenClaims> claims =
        VerifyHs256(*token, *options_.jwt_secret, now_seconds_(), options_.token_policy);
    if (!claims.ok()) return claims.status();
    if (!IsValidUserId(claims->sub)) {
      return Status::Unauthenticated(std::string("token subject (sub) must be ") + kUserIdRule);
    }
    if (credentials.user_id_header && *credentials.user_id_header != claims->sub) {
      return Status::PermissionDenied("X-User-Id does not match the token's subject");
    }
    Identity identity;
    identity.kind = Identity::Kind::kToken;
    identity.user_id = std::move(claims->sub);
    return identity;
  }

  if (!options_.FunctionOpen(function)) {
    return Status::Unauthenticated(
        "missing credentials: send x-functions-key (or ?code=) or Authorization: Bearer <token>");
  }

  Result<std::string> user = UserFromHeader(credentials.user_id_header, /*required=*/false);
  if (!user.ok()) return user.status();
  Identity identity;
  identity.kind = Identity::Kind::kOpen;
  identity.user_id = std::move(*user);
  return identity;
}

Status Authenticator::AuthenticateMetrics(const Credentials& credentials) const {
  if (options_.DevelopmentMode()) return Status::Ok();
  const auto matches = [](std::string_view presented, const std::optional<std::string>& secret) {
    return secret && !secret->empty() && ConstantTimeEquals(presented, *secret);
  };
  std::optional<std::string_view> presented = credentials.function_key;
  if (!presented && credentials.authorization) {
    presented = BearerToken(*credentials.authorization);
    if (!presented) {
      return Status::Unauthenticated("Authorization header must be \"Bearer <token>\"");
    }
    if (matches(*presented, options_.metrics_token)) return Status::Ok();
  }
  if (!presented) {
    return Status::Unauthenticated(
        "metrics need the admin key (x-functions-key or Authorization: Bearer) or "
        "OMNIFLOW_METRICS_TOKEN as a bearer token");
  }
  if (matches(*presented, options_.admin_key)) return Status::Ok();
  // Another valid credential is refused as such; anything else is not a credential at all.
  bool other = false;
  for (const auto& [function, key] : options_.function_keys) other |= matches(*presented, key);
  if (!other && credentials.authorization && options_.jwt_secret && !options_.jwt_secret->empty()) {
    other = VerifyHs256(*presented, *options_.jwt_secret, now_seconds_(), options_.token_policy)
                .ok();
  }
  if (other) {
    return Status::PermissionDenied(
        "metrics need the admin key or OMNIFLOW_METRICS_TOKEN, not a function key or user token");
  }
  return Status::Unauthenticated("invalid credentials for metrics");
}

}  // namespace omniflow
