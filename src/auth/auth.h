// Who is calling: function keys (Azure Functions style), HS256 bearer tokens, or the open
// development mode. Authenticate() turns the credentials of one request into the user it acts
// for, or a 401/403 Status. Keys and signatures are compared in constant time.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "auth/jwt.h"
#include "core/status.h"

namespace omniflow {

struct AuthOptions {
  // Function keys by function name ("save_interaction" -> key). A function with a key needs it
  // in header x-functions-key or query parameter `code`.
  std::map<std::string, std::string> function_keys;
  // Admin key (OMNIFLOW_ADMIN_KEY): accepted as the key of every function, and for cross-user views.
  std::optional<std::string> admin_key;
  // A bearer token that reads GET /metrics and nothing else (OMNIFLOW_METRICS_TOKEN), for a
  // scraper that should not hold the admin key. Not a credential of any function: it does not
  // end the open development mode.
  std::optional<std::string> metrics_token;
  // HS256 secret for bearer tokens (OMNIFLOW_JWT_SECRET); none disables tokens.
  std::optional<std::string> jwt_secret;
  // What a bearer token must satisfy beyond its signature: the longest remaining lifetime
  // (OMNIFLOW_JWT_MAX_TTL, default 86400 s), the audience (OMNIFLOW_JWT_AUDIENCE) and the
  // issuer (OMNIFLOW_JWT_ISSUER); see TokenPolicy.
  TokenPolicy token_policy;

  // Set by FromEnvironment when a variable holds an invalid value, saying which and why (never
  // a secret); empty otherwise. The fields are then not to be used: the server prints this and
  // exits with status 2 instead of running with a setting the operator did not ask for.
  std::string environment_error;

  // Functions opened explicitly (OMNIFLOW_OPEN_FUNCTIONS) while credentials are configured: they
  // serve callers without credentials, for the user named by X-User-Id.
  std::set<std::string, std::less<>> open_functions;

  // True when no credential of any kind is configured (no function key, no admin key, no JWT
  // secret): the open development mode, where every function serves callers without
  // credentials. Once any credential is configured, every function fails closed.
  bool DevelopmentMode() const { return function_keys.empty() && !admin_key && !jwt_secret; }

  // True when `function` serves callers who present no credentials: in development mode, or
  // when it is opened explicitly.
  bool FunctionOpen(std::string_view function) const {
    return DevelopmentMode() || open_functions.count(function) > 0;
  }

  // True when any function serves callers without credentials.
  bool AnyFunctionOpen() const { return DevelopmentMode() || !open_functions.empty(); }

  // Reads FUNCTION_CODE_<NAME> for each of `functions` (the route table's), OMNIFLOW_ADMIN_KEY,
  // OMNIFLOW_JWT_SECRET, OMNIFLOW_JWT_MAX_TTL, OMNIFLOW_JWT_AUDIENCE, OMNIFLOW_JWT_ISSUER and
  // OMNIFLOW_OPEN_FUNCTIONS (comma-separated names of `functions`) from the environment; an
  // empty variable counts as unset. FUNCTION_CODE_GET_HISTORY is the seed's name for
  // get_interaction_history's key. An unusable value (OMNIFLOW_JWT_MAX_TTL not a positive
  // integer, an unknown function to open) sets environment_error.
  static AuthOptions FromEnvironment(std::span<const std::string_view> functions);
};

// What one request presents; the HTTP layer fills it in.
struct Credentials {
  std::optional<std::string_view> function_key;   // x-functions-key header, or ?code=
  std::optional<std::string_view> authorization;  // the raw Authorization header
  std::optional<std::string_view> user_id_header; // X-User-Id
};

struct Identity {
  std::string user_id;
  enum class Kind { kOpen, kFunctionKey, kAdminKey, kToken } kind = Kind::kOpen;
  bool admin() const { return kind == Kind::kAdminKey; }
};

class Authenticator {
 public:
  // `now_seconds` is injectable for token expiry tests; null means the real clock.
  explicit Authenticator(AuthOptions options, long (*now_seconds)() = nullptr);

  // The caller of function `function`, as verified.
  // - The function's own key: the user named by X-User-Id (400 if missing or invalid).
  // - The admin key: every user; acting for X-User-Id when given (validated).
  // - Else a bearer token, when a secret is set and the token satisfies options().token_policy:
  //   the token's `sub`; a differing X-User-Id is 403.
  // - Else, when the function is open (options().FunctionOpen): kOpen, for the user named by
  //   X-User-Id (validated; empty when the header is absent, for the caller to require).
  // - Else 401.
  // A presented but invalid key or token is 401, never a fallback to the open mode.
  // With `key_needs_user` false, the function's own key may come without X-User-Id too (the
  // identity's user_id is then empty): for routes whose body names its users record by record.
  // With `keys_as_bearer` (routes for OpenAI-compatible clients, which send their API key as a
  // bearer token), a bearer value equal to the function's key or the admin key counts as that
  // key, as if sent in x-functions-key; any other bearer value is verified as a token.
  Result<Identity> Authenticate(std::string_view function, const Credentials& credentials,
                                bool key_needs_user = true, bool keys_as_bearer = false) const;

  // May these credentials read the operators' metrics? The admin key (x-functions-key, ?code=
  // or as a bearer token) or options().metrics_token as a bearer token; in the open development
  // mode anyone. Else 401, or 403 for a valid credential of another kind (a function key, a
  // user's token).
  Status AuthenticateMetrics(const Credentials& credentials) const;

  const AuthOptions& options() const { return options_; }

 private:
  AuthOptions options_;
  long (*now_seconds_)();
};

// Constant-time equality of two secrets (length leaks, content does not).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace omniflow
