#include "auth/auth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "auth/jwt.h"

namespace omniflow {
namespace {

constexpr char kSaveKey[] = "save-key-0123456789";
constexpr char kAdminKey[] = "admin-key-abcdefghij";
constexpr char kSecret[] = "jwt-secret-for-tests-0123456789abcdef";
constexpr long kNow = 1'700'000'000;

long FixedNow() { return kNow; }

std::string Token(const std::string& sub, long exp = kNow + 3600, const char* secret = kSecret) {
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}", secret);
}

Credentials Creds(std::optional<std::string_view> key,
                  std::optional<std::string_view> authorization,
                  std::optional<std::string_view> user) {
  Credentials c;
  c.function_key = key;
  c.authorization = authorization;
  c.user_id_header = user;
  return c;
}

Credentials User(std::string_view user) { return Creds(std::nullopt, std::nullopt, user); }
Credentials Key(std::string_view key, std::optional<std::string_view> user) {
  return Creds(key, std::nullopt, user);
}
Credentials Auth(std::string_view authorization, std::optional<std::string_view> user) {
  return Creds(std::nullopt, authorization, user);
}

// save_interaction keyed, an admin key and a JWT secret: the production shape.
Authenticator Secured() {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  o.admin_key = kAdminKey;
  o.jwt_secret = kSecret;
  return Authenticator(std::move(o), &FixedNow);
}

void ExpectCode(const Result<Identity>& r, Status::Code code, const std::string& what) {
  ASSERT_FALSE(r.ok()) << what << ": accepted as " << r->user_id;
  EXPECT_EQ(r.status().code(), code) << what << ": " << r.status().message();
}

TEST(Auth, KeysAsBearerOnlyWhereTheRouteSaysSo) {
  Authenticator auth = Secured();
  const std::string save_bearer = std::string("Bearer ") + kSaveKey;
  const std::string admin_bearer = std::string("Bearer ") + kAdminKey;
  // Where keys are accepted as bearer: the function's key acts for the named user, the admin
  // key as the admin; a user's token is still a token.
  Result<Identity> key = auth.Authenticate("save_interaction", Auth(save_bearer, "ada"), true, true);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->kind, Identity::Kind::kFunctionKey);
  EXPECT_EQ(key->user_id, "ada");
  ExpectCode(auth.Authenticate("save_interaction", Auth(save_bearer, std::nullopt), true, true),
             Status::Code::kInvalidArgument, "a key as bearer still needs the user");
  Result<Identity> admin = auth.Authenticate("save_interaction", Auth(admin_bearer, "ada"), true, true);
  ASSERT_TRUE(admin.ok()) << admin.status().message();
  EXPECT_TRUE(admin->admin());
  Result<Identity> token =
      auth.Authenticate("save_interaction", Auth("Bearer " + Token("bo"), std::nullopt), true, true);
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(token->kind, Identity::Kind::kToken);
  ExpectCode(auth.Authenticate("save_interaction", Auth("Bearer guess", "ada"), true, true),
             Status::Code::kUnauthenticated, "a wrong key as bearer");
  // Another function's key is not this one's, as bearer or not.
  ExpectCode(auth.Authenticate("get_data", Auth(save_bearer, "ada"), true, true),
             Status::Code::kUnauthenticated, "another function's key as bearer");
  // Elsewhere a key as bearer is not a token.
  ExpectCode(auth.Authenticate("save_interaction", Auth(save_bearer, "ada")),
             Status::Code::kUnauthenticated, "a key as bearer where the route does not say so");
}

TEST(Auth, OpenModeTrustsValidUserIdHeader) {
  Authenticator auth(AuthOptions{}, &FixedNow);
  ASSERT_TRUE(auth.options().DevelopmentMode());
  Result<Identity> r = auth.Authenticate("save_interaction", User("test_user_123"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_id, "test_user_123");
  EXPECT_EQ(r->kind, Identity::Kind::kOpen);
  EXPECT_FALSE(r->admin());
}

TEST(Auth, OpenModeRequiresAValidUserIdWhenOneIsGiven) {
  Authenticator auth(AuthOptions{}, &FixedNow);
  // No X-User-Id: an open caller of nobody in particular (the route decides whether it needs one).
  Result<Identity> missing = auth.Authenticate("save_interaction", Credentials{});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->user_id, "");
  EXPECT_EQ(missing->kind, Identity::Kind::kOpen);
  for (std::string bad :
       {std::string("../etc"), std::string(".hidden"), std::string(129, 'a'), std::string("a b"),
        std::string(""), std::string("a/b"), std::string("caf\xc3\xa9")}) {
    Result<Identity> r = auth.Authenticate("save_interaction", User(bad));
    ExpectCode(r, Status::Code::kInvalidArgument, bad);
    EXPECT_NE(r.status().message().find("not starting with '.'"), std::string::npos)
        << r.status().message();
  }
  EXPECT_TRUE(auth.Authenticate("save_interaction", User(std::string(128, 'a'))).ok());
  EXPECT_TRUE(auth.Authenticate("save_interaction", User("a.b-c@d+e_F9")).ok());
}

TEST(Auth, FunctionKeyActsForXUserId) {
  Authenticator auth = Secured();
  Result<Identity> r = auth.Authenticate("save_interaction", Key(kSaveKey, "u1"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_id, "u1");
  EXPECT_EQ(r->kind, Identity::Kind::kFunctionKey);
  EXPECT_FALSE(r->admin());
}

TEST(Auth, FunctionKeyHolderMustNameAValidUser) {
  Authenticator auth = Secured();
  Result<Identity> r = auth.Authenticate("save_interaction", Key(kSaveKey, std::nullopt));
  ExpectCode(r, Status::Code::kInvalidArgument, "no X-User-Id");
  EXPECT_NE(r.status().message().find("X-User-Id header is required"), std::string::npos);
  ExpectCode(auth.Authenticate("save_interaction", Key(kSaveKey, "../etc")),
             Status::Code::kInvalidArgument, "../etc");
}

TEST(Auth, AKeyWithoutXUserIdActsForNoUserOnlyWhereTheRouteAllowsIt) {
  Authenticator auth = Secured();
  Result<Identity> r = auth.Authenticate("save_interaction", Key(kSaveKey, std::nullopt),
                                         /*key_needs_user=*/false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_id, "");
  EXPECT_EQ(r->kind, Identity::Kind::kFunctionKey);
  // A given X-User-Id is still checked, and a wrong key still refused.
  ExpectCode(auth.Authenticate("save_interaction", Key(kSaveKey, "../etc"), false),
             Status::Code::kInvalidArgument, "../etc");
  ExpectCode(auth.Authenticate("save_interaction", Key("guess", std::nullopt), false),
             Status::Code::kUnauthenticated, "a wrong key");
}

TEST(Auth, WrongFunctionKeyIs401AndNeverFallsBack) {
  Authenticator auth = Secured();
  for (std::string_view wrong :
       {std::string_view("wrong"), std::string_view(""), std::string_view("save-key-012345678"),
        std::string_view("save-key-01234567890")}) {
    Result<Identity> r = auth.Authenticate("save_interaction", Key(wrong, "u1"));
    ExpectCode(r, Status::Code::kUnauthenticated, std::string(wrong));
    EXPECT_EQ(r.status().message(), "invalid function key");
  }
  // A wrong key next to a valid token is still refused: a presented key is decisive.
  std::string bearer = "Bearer " + Token("alice");
  ExpectCode(auth.Authenticate("save_interaction", Creds("wrong", bearer, std::nullopt)),
             Status::Code::kUnauthenticated, "wrong key with token");
}

TEST(Auth, EachFunctionHasItsOwnKey) {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  o.function_keys["get_interaction_history"] = "history-key";
  Authenticator auth(std::move(o), &FixedNow);
  ExpectCode(auth.Authenticate("get_interaction_history", Key(kSaveKey, "u1")),
             Status::Code::kUnauthenticated, "save key on history");
  EXPECT_TRUE(auth.Authenticate("get_interaction_history", Key("history-key", "u1")).ok());
  // A function without a key of its own is closed once any credential is configured.
  ExpectCode(auth.Authenticate("get_interaction", User("u1")), Status::Code::kUnauthenticated,
             "a function without a key, no credentials");
  ExpectCode(auth.Authenticate("get_interaction", Key(kSaveKey, "u1")),
             Status::Code::kUnauthenticated, "other function's key on a function without one");
}

TEST(Auth, KeyInOpenModeIsRefused) {
  Authenticator auth(AuthOptions{}, &FixedNow);
  ExpectCode(auth.Authenticate("save_interaction", Key("anything", "u1")),
             Status::Code::kUnauthenticated, "key with nothing configured");
}

TEST(Auth, AdminKeyIsEveryFunctionsKey) {
  Authenticator auth = Secured();
  for (std::string_view function : {"save_interaction", "get_interaction_history", "stats"}) {
    Result<Identity> r = auth.Authenticate(function, Key(kAdminKey, "u1"));
    ASSERT_TRUE(r.ok()) << function << ": " << r.status().message();
    EXPECT_EQ(r->user_id, "u1");
    EXPECT_EQ(r->kind, Identity::Kind::kAdminKey);
    EXPECT_TRUE(r->admin());
  }
  // Admin views are cross-user: no X-User-Id is allowed, and gives no user.
  Result<Identity> r = auth.Authenticate("users", Key(kAdminKey, std::nullopt));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_id, "");
  EXPECT_TRUE(r->admin());
  // But a given X-User-Id must be valid.
  ExpectCode(auth.Authenticate("users", Key(kAdminKey, ".hidden")), Status::Code::kInvalidArgument,
             "admin with .hidden");
}

TEST(Auth, AdminKeyAloneClosesEveryFunction) {
  AuthOptions o;
  o.admin_key = kAdminKey;
  Authenticator auth(std::move(o), &FixedNow);
  EXPECT_FALSE(auth.options().DevelopmentMode());
  ExpectCode(auth.Authenticate("save_interaction", User("u1")), Status::Code::kUnauthenticated,
             "admin key configured, no credentials");
  EXPECT_TRUE(auth.Authenticate("save_interaction", Key(kAdminKey, "u1"))->admin());
  ExpectCode(auth.Authenticate("save_interaction", Key("wrong", "u1")),
             Status::Code::kUnauthenticated, "wrong key");
}

TEST(Auth, OneFunctionKeyClosesEveryOtherFunction) {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  o.function_keys["get_interaction_history"] = "history-key";
  Authenticator auth(std::move(o), &FixedNow);
  // Finding 3: functions without a key of their own were open to any X-User-Id.
  for (std::string_view function : {"search", "get_interaction", "get_data", "stats", "users"}) {
    ExpectCode(auth.Authenticate(function, User("u1")), Status::Code::kUnauthenticated,
               std::string(function));
    // Another function's key is not theirs either.
    ExpectCode(auth.Authenticate(function, Key(kSaveKey, "u1")), Status::Code::kUnauthenticated,
               std::string(function) + " with save's key");
  }
}

TEST(Auth, OpenFunctionsServeCallersWithoutCredentials) {
  AuthOptions o;
  o.admin_key = kAdminKey;
  o.open_functions.emplace("save_interaction");
  Authenticator auth(std::move(o), &FixedNow);
  EXPECT_TRUE(auth.options().AnyFunctionOpen());
  Result<Identity> r = auth.Authenticate("save_interaction", User("u1"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->kind, Identity::Kind::kOpen);
  EXPECT_EQ(r->user_id, "u1");
  ExpectCode(auth.Authenticate("get_interaction_history", User("u1")),
             Status::Code::kUnauthenticated, "a function not opened");
}

TEST(Auth, KeyedFunctionWithoutCredentialsIs401) {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  Authenticator keyed(std::move(o), &FixedNow);
  Result<Identity> r = keyed.Authenticate("save_interaction", User("u1"));
  ExpectCode(r, Status::Code::kUnauthenticated, "keyed, no credentials");
  EXPECT_NE(r.status().message().find("missing credentials"), std::string::npos);
  ExpectCode(keyed.Authenticate("save_interaction", Credentials{}), Status::Code::kUnauthenticated,
             "keyed, nothing at all");

  // A secret closes every function, keyed or not.
  AuthOptions s;
  s.jwt_secret = kSecret;
  Authenticator secret_only(std::move(s), &FixedNow);
  ExpectCode(secret_only.Authenticate("get_interaction", User("u1")),
             Status::Code::kUnauthenticated, "secret, no credentials");
}

TEST(Auth, BearerTokenActsAsItsSubject) {
  Authenticator auth = Secured();
  for (std::string scheme : {"Bearer ", "bearer ", "BEARER ", "Bearer   "}) {
    Result<Identity> r =
        auth.Authenticate("save_interaction", Auth(scheme + Token("alice"), std::nullopt));
    ASSERT_TRUE(r.ok()) << scheme << ": " << r.status().message();
    EXPECT_EQ(r->user_id, "alice");
    EXPECT_EQ(r->kind, Identity::Kind::kToken);
    EXPECT_FALSE(r->admin());
  }
  std::string bearer = "Bearer " + Token("alice");
  Result<Identity> same = auth.Authenticate("save_interaction", Auth(bearer, "alice"));
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->user_id, "alice");
}

TEST(Auth, TokenWithOtherXUserIdIs403) {
  Authenticator auth = Secured();
  std::string bearer = "Bearer " + Token("alice");
  for (std::string_view other : {"bob", "Alice", "../etc", ""}) {
    Result<Identity> r = auth.Authenticate("save_interaction", Auth(bearer, other));
    ExpectCode(r, Status::Code::kPermissionDenied, std::string(other));
    EXPECT_EQ(r.status().message(), "X-User-Id does not match the token's subject");
  }
}

TEST(Auth, BadTokensAre401) {
  Authenticator auth = Secured();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"expired", "Bearer " + Token("alice", kNow)},
      {"wrong secret", "Bearer " + Token("alice", kNow + 60, "another-secret")},
      {"sub not a valid user id", "Bearer " + Token("../etc")},
      {"garbage", "Bearer not.a.token"},
      {"no token", "Bearer"},
      {"empty token", "Bearer   "},
      {"two tokens", "Bearer " + Token("alice") + " " + Token("alice")},
      {"basic", "Basic YTpi"},
      {"token without scheme", Token("alice")},
      {"empty header", ""},
  };
  for (const auto& [name, authorization] : cases) {
    Result<Identity> r = auth.Authenticate("save_interaction", Auth(authorization, "alice"));
    ExpectCode(r, Status::Code::kUnauthenticated, name);
    EXPECT_EQ(r.status().message().find(kSecret), std::string::npos);
  }
}

TEST(Auth, TokenWithoutSecretIs401) {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  Authenticator auth(std::move(o), &FixedNow);
  Result<Identity> r =
      auth.Authenticate("save_interaction", Auth("Bearer " + Token("alice"), std::nullopt));
  ExpectCode(r, Status::Code::kUnauthenticated, "no secret");
  EXPECT_EQ(r.status().message(), "bearer tokens are not enabled: set OMNIFLOW_JWT_SECRET");
  // Even in the open mode a presented token is not ignored.
  Authenticator open(AuthOptions{}, &FixedNow);
  ExpectCode(open.Authenticate("save_interaction", Auth("Bearer " + Token("alice"), "alice")),
             Status::Code::kUnauthenticated, "token in open mode");
}

TEST(Auth, UsesTheInjectedClock) {
  AuthOptions o;
  o.jwt_secret = kSecret;
  Authenticator auth(std::move(o), &FixedNow);
  std::string bearer = "Bearer " + Token("alice", kNow + 1);
  EXPECT_TRUE(auth.Authenticate("save_interaction", Auth(bearer, std::nullopt)).ok());
  // The real clock is far past kNow, so the same token is expired there.
  AuthOptions real;
  real.jwt_secret = kSecret;
  Authenticator real_clock(std::move(real));
  Result<Identity> r = real_clock.Authenticate("save_interaction", Auth(bearer, std::nullopt));
  ExpectCode(r, Status::Code::kUnauthenticated, "real clock");
  EXPECT_EQ(r.status().message(), "token expired");
}

TEST(Auth, TokenPolicyIsEnforced) {
  AuthOptions o;
  o.jwt_secret = kSecret;
  o.token_policy.max_ttl_seconds = 600;
  o.token_policy.audience = "omniflow-api";
  o.token_policy.issuer = "issuer-a";
  Authenticator auth(std::move(o), &FixedNow);
  auto bearer = [](const std::string& claims) {
    return "Bearer " + SignHs256("{\"sub\":\"alice\"," + claims + "}", kSecret);
  };
  const std::string exp = "\"exp\":" + std::to_string(kNow + 600);
  Result<Identity> ok = auth.Authenticate(
      "save_interaction", Auth(bearer(exp + R"(,"aud":["x","omniflow-api"],"iss":"issuer-a")"),
                               std::nullopt));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->user_id, "alice");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"exp\":" + std::to_string(kNow + 601) + R"(,"aud":"omniflow-api","iss":"issuer-a")",
       "token lives longer than the cap of 600 seconds (OMNIFLOW_JWT_MAX_TTL)"},
      {R"("exp":1e308,"aud":"omniflow-api","iss":"issuer-a")", "exp must be a non-negative integer"},
      {exp + R"(,"iss":"issuer-a")", "token audience (aud) is missing"},
      {exp + R"(,"aud":"other","iss":"issuer-a")", "token audience (aud) does not match"},
      {exp + R"(,"aud":"omniflow-api","iss":"issuer-b")", "token issuer (iss) does not match"},
      {exp + R"(,"aud":"omniflow-api")", "token issuer (iss) is missing"},
  };
  for (const auto& [claims, message] : cases) {
    Result<Identity> r = auth.Authenticate("save_interaction", Auth(bearer(claims), std::nullopt));
    ExpectCode(r, Status::Code::kUnauthenticated, claims);
    EXPECT_NE(r.status().message().find(message), std::string::npos)
        << claims << ": " << r.status().message();
    EXPECT_EQ(r.status().message().find(kSecret), std::string::npos);
  }
}

TEST(Auth, DefaultPolicyCapsTokensAtADay) {
  AuthOptions o;
  o.jwt_secret = kSecret;
  Authenticator auth(std::move(o), &FixedNow);
  EXPECT_TRUE(
      auth.Authenticate("save_interaction", Auth("Bearer " + Token("alice", kNow + 86400), std::nullopt))
          .ok());
  ExpectCode(
      auth.Authenticate("save_interaction", Auth("Bearer " + Token("alice", kNow + 86401), std::nullopt)),
      Status::Code::kUnauthenticated, "a day and a second");
}

TEST(Auth, EmptyConfiguredSecretsFailClosed) {
  AuthOptions o;
  o.function_keys["save_interaction"] = "";
  o.admin_key = "";
  o.jwt_secret = "";
  Authenticator auth(std::move(o), &FixedNow);
  ExpectCode(auth.Authenticate("save_interaction", Key("", "u1")), Status::Code::kUnauthenticated,
             "empty key");
  ExpectCode(auth.Authenticate("save_interaction", User("u1")), Status::Code::kUnauthenticated,
             "no credentials");
  ExpectCode(auth.Authenticate("save_interaction",
                               Auth("Bearer " + Token("alice", kNow + 60, ""), std::nullopt)),
             Status::Code::kUnauthenticated, "token signed with the empty secret");
}

// Every variable FromEnvironment reads, cleared around each test so the host's environment
// cannot leak in or out.
class AuthEnvironment : public ::testing::Test {
 protected:
  void SetUp() override { ClearAll(); }
  void TearDown() override { ClearAll(); }

  static void ClearAll() {
    for (const char* name : kVariables) unsetenv(name);
  }

  static constexpr const char* kVariables[] = {
      "FUNCTION_CODE_SAVE_INTERACTION",
      "FUNCTION_CODE_GET_HISTORY",
      "FUNCTION_CODE_GET_INTERACTION_HISTORY",
      "FUNCTION_CODE_GET_INTERACTION",
      "FUNCTION_CODE_TOOL_CALL_HANDLER",
      "FUNCTION_CODE_GET_DATA",
      "FUNCTION_CODE_ADD_NEW_DATA",
      "FUNCTION_CODE_UPDATE_DATA",
      "FUNCTION_CODE_DELETE_DATA",
      "FUNCTION_CODE_LIST_DATA",
      "FUNCTION_CODE_STATS",
      "FUNCTION_CODE_USERS",
      "FUNCTION_CODE_THREADS",
      "FUNCTION_CODE_SEARCH",
      "FUNCTION_CODE_FEEDBACK",
      "OMNIFLOW_ADMIN_KEY",
      "OMNIFLOW_JWT_SECRET",
      "OMNIFLOW_OPEN_FUNCTIONS",
      "OMNIFLOW_JWT_MAX_TTL",
      "OMNIFLOW_JWT_AUDIENCE",
      "OMNIFLOW_JWT_ISSUER",
  };
};

// The functions of a route table, as the server passes them.
constexpr std::string_view kFunctions[] = {
    "save_interaction", "get_interaction_history", "get_interaction", "tool_call_handler",
    "get_data",         "add_new_data",            "update_data",     "delete_data",
    "list_data",        "stats",                   "users",           "threads",
    "search",           "feedback"};

TEST_F(AuthEnvironment, NothingSetIsOpen) {
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_TRUE(o.DevelopmentMode());
  EXPECT_TRUE(o.function_keys.empty());
  EXPECT_FALSE(o.admin_key);
  EXPECT_FALSE(o.jwt_secret);
  EXPECT_EQ(o.token_policy.max_ttl_seconds, 86400);
  EXPECT_FALSE(o.token_policy.audience);
  EXPECT_FALSE(o.token_policy.issuer);
  EXPECT_EQ(o.environment_error, "");
}

TEST_F(AuthEnvironment, ReadsTheTokenPolicy) {
  setenv("OMNIFLOW_JWT_MAX_TTL", "3600", 1);
  setenv("OMNIFLOW_JWT_AUDIENCE", "omniflow-api", 1);
  setenv("OMNIFLOW_JWT_ISSUER", "https://issuer.example", 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_EQ(o.environment_error, "");
  EXPECT_EQ(o.token_policy.max_ttl_seconds, 3600);
  EXPECT_EQ(o.token_policy.audience, "omniflow-api");
  EXPECT_EQ(o.token_policy.issuer, "https://issuer.example");
  // Empty values count as unset, as for every other variable.
  setenv("OMNIFLOW_JWT_MAX_TTL", "", 1);
  setenv("OMNIFLOW_JWT_AUDIENCE", "", 1);
  setenv("OMNIFLOW_JWT_ISSUER", "", 1);
  o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_EQ(o.environment_error, "");
  EXPECT_EQ(o.token_policy.max_ttl_seconds, 86400);
  EXPECT_FALSE(o.token_policy.audience);
  EXPECT_FALSE(o.token_policy.issuer);
}

TEST_F(AuthEnvironment, BadMaxTtlIsReportedNotReplaced) {
  setenv("OMNIFLOW_JWT_SECRET", "s3cret-value", 1);
  for (const char* bad : {"0", "-5", "abc", "3600s", "1.5", "1e5", " 3600", "3600 ", "+3600",
                          "99999999999999999999"}) {
    setenv("OMNIFLOW_JWT_MAX_TTL", bad, 1);
    AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
    EXPECT_NE(o.environment_error.find("OMNIFLOW_JWT_MAX_TTL must be a positive whole number of "
                                       "seconds (default 86400)"),
              std::string::npos)
        << bad << ": " << o.environment_error;
    EXPECT_EQ(o.environment_error.find("s3cret-value"), std::string::npos);
  }
  setenv("OMNIFLOW_JWT_MAX_TTL", "1", 1);
  AuthOptions smallest = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_EQ(smallest.environment_error, "");
  EXPECT_EQ(smallest.token_policy.max_ttl_seconds, 1);
}

TEST_F(AuthEnvironment, MapsVariablesToFunctions) {
  setenv("FUNCTION_CODE_SAVE_INTERACTION", "k-save", 1);
  setenv("FUNCTION_CODE_GET_HISTORY", "k-history", 1);
  setenv("FUNCTION_CODE_GET_INTERACTION", "k-get", 1);
  setenv("FUNCTION_CODE_TOOL_CALL_HANDLER", "k-tool", 1);
  setenv("FUNCTION_CODE_FEEDBACK", "k-feedback", 1);
  setenv("FUNCTION_CODE_NOT_A_FUNCTION", "ignored", 1);
  setenv("OMNIFLOW_ADMIN_KEY", "k-admin", 1);
  setenv("OMNIFLOW_JWT_SECRET", "s3cret", 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  unsetenv("FUNCTION_CODE_NOT_A_FUNCTION");
  const std::map<std::string, std::string> expected = {
      {"save_interaction", "k-save"}, {"get_interaction_history", "k-history"},
      {"get_interaction", "k-get"},   {"tool_call_handler", "k-tool"},
      {"feedback", "k-feedback"},
  };
  EXPECT_EQ(o.function_keys, expected);
  EXPECT_EQ(o.admin_key, "k-admin");
  EXPECT_EQ(o.jwt_secret, "s3cret");
  EXPECT_FALSE(o.DevelopmentMode());
}

TEST_F(AuthEnvironment, EveryKnownFunctionHasAVariable) {
  for (const char* name : kVariables) setenv(name, name, 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  for (const char* function :
       {"save_interaction", "get_interaction_history", "get_interaction", "tool_call_handler",
        "get_data", "add_new_data", "update_data", "delete_data", "list_data",
        "stats", "users", "threads", "search", "feedback"}) {
    ASSERT_EQ(o.function_keys.count(function), 1u) << function;
  }
  EXPECT_EQ(o.function_keys.size(), 14u);
  EXPECT_EQ(o.function_keys["stats"], "FUNCTION_CODE_STATS");
}

TEST_F(AuthEnvironment, FullHistoryNameWinsOverTheSeeds) {
  setenv("FUNCTION_CODE_GET_HISTORY", "seed", 1);
  setenv("FUNCTION_CODE_GET_INTERACTION_HISTORY", "full", 1);
  EXPECT_EQ(AuthOptions::FromEnvironment(kFunctions).function_keys["get_interaction_history"], "full");
  setenv("FUNCTION_CODE_GET_INTERACTION_HISTORY", "", 1);
  EXPECT_EQ(AuthOptions::FromEnvironment(kFunctions).function_keys["get_interaction_history"], "seed");
}

TEST_F(AuthEnvironment, EmptyValuesCountAsUnset) {
  setenv("FUNCTION_CODE_SAVE_INTERACTION", "", 1);
  setenv("FUNCTION_CODE_GET_HISTORY", "", 1);
  setenv("OMNIFLOW_ADMIN_KEY", "", 1);
  setenv("OMNIFLOW_JWT_SECRET", "", 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_TRUE(o.DevelopmentMode());
}

TEST_F(AuthEnvironment, AdminKeyAloneEndsTheDevelopmentMode) {
  setenv("OMNIFLOW_ADMIN_KEY", "k-admin", 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_FALSE(o.DevelopmentMode());
  EXPECT_FALSE(o.AnyFunctionOpen());
}

TEST_F(AuthEnvironment, OpenFunctionsAreReadAndCheckedAgainstTheTable) {
  setenv("OMNIFLOW_ADMIN_KEY", "k-admin", 1);
  setenv("OMNIFLOW_OPEN_FUNCTIONS", " save_interaction, get_interaction_history ,", 1);
  AuthOptions o = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_EQ(o.environment_error, "");
  EXPECT_EQ(o.open_functions.size(), 2u);
  EXPECT_TRUE(o.FunctionOpen("save_interaction"));
  EXPECT_TRUE(o.FunctionOpen("get_interaction_history"));
  EXPECT_FALSE(o.FunctionOpen("search"));
  setenv("OMNIFLOW_OPEN_FUNCTIONS", "save_interaction,delete_everything", 1);
  AuthOptions bad = AuthOptions::FromEnvironment(kFunctions);
  EXPECT_NE(bad.environment_error.find("delete_everything"), std::string::npos) << bad.environment_error;
}

TEST(ConstantTimeEquals, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_TRUE(ConstantTimeEquals(std::string(1000, 'k'), std::string(1000, 'k')));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret "));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secre"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_TRUE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string("a\0b", 3), "a"));
}

TEST(Auth, MetricsNeedTheAdminKeyOrTheMetricsToken) {
  AuthOptions o;
  o.function_keys["save_interaction"] = kSaveKey;
  o.admin_key = kAdminKey;
  o.jwt_secret = kSecret;
  o.metrics_token = "metrics-token-0123456789";
  Authenticator auth(std::move(o), &FixedNow);
  const std::string admin_bearer = std::string("Bearer ") + kAdminKey;
  const std::string user_bearer = "Bearer " + Token("alice");
  EXPECT_TRUE(auth.AuthenticateMetrics(Key(kAdminKey, std::nullopt)).ok());
  EXPECT_TRUE(auth.AuthenticateMetrics(Auth(admin_bearer, std::nullopt)).ok());
  EXPECT_TRUE(auth.AuthenticateMetrics(Auth("Bearer metrics-token-0123456789", std::nullopt)).ok());
  EXPECT_EQ(auth.AuthenticateMetrics(User("alice")).code(), Status::Code::kUnauthenticated);
  EXPECT_EQ(auth.AuthenticateMetrics(Auth("Bearer guess", std::nullopt)).code(),
            Status::Code::kUnauthenticated);
  EXPECT_EQ(auth.AuthenticateMetrics(Auth("Basic abc", std::nullopt)).code(),
            Status::Code::kUnauthenticated);
  // The metrics token is a bearer token only; a function key or a user's token is not enough.
  EXPECT_EQ(auth.AuthenticateMetrics(Key("metrics-token-0123456789", std::nullopt)).code(),
            Status::Code::kUnauthenticated);
  EXPECT_EQ(auth.AuthenticateMetrics(Key(kSaveKey, "alice")).code(),
            Status::Code::kPermissionDenied);
  EXPECT_EQ(auth.AuthenticateMetrics(Auth(user_bearer, std::nullopt)).code(),
            Status::Code::kPermissionDenied);
}

TEST(Auth, MetricsAreOpenInTheOpenDevelopmentModeOnly) {
  EXPECT_TRUE(Authenticator(AuthOptions{}, &FixedNow).AuthenticateMetrics(User("x")).ok());
  AuthOptions token_only;
  token_only.metrics_token = "metrics-token-0123456789";  // not a credential of any function
  EXPECT_TRUE(token_only.DevelopmentMode());
  EXPECT_EQ(Secured().AuthenticateMetrics(Credentials{}).code(), Status::Code::kUnauthenticated);
}

}  // namespace
}  // namespace omniflow
