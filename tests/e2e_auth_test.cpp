// End-to-end: function keys, bearer tokens, the bind refusal and what reaches the logs.
#include "auth/jwt.h"
#include "support/e2e.h"

#include <stdlib.h>

#include <chrono>
#include <optional>

namespace omniflow::testing {
namespace {

constexpr char kSaveKey[] = "save-key-0123456789";
constexpr char kHistoryKey[] = "history-key-9876543210";
constexpr char kSecret[] = "jwt-secret-for-tests-0123456789abcdef";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Token(const std::string& sub, int64_t exp_offset = 3600, const char* secret = kSecret) {
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(Now() + exp_offset) + "}",
                   secret);
}

Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

ServerConfig Secured() {
  ServerConfig config;
  config.env = {{"FUNCTION_CODE_SAVE_INTERACTION", kSaveKey},
                {"FUNCTION_CODE_GET_HISTORY", kHistoryKey},
                {"OMNIFLOW_JWT_SECRET", kSecret}};
  return config;
}

TEST(E2eAuth, FunctionKeyInHeaderOrCodeParameter) {
  RunningServer s(Secured());
  auto& c = *s.client;
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("x"), As("u1")).status, 401);
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("x"),
                   {{"X-User-Id", "u1"}, {"x-functions-key", "wrong"}}).status, 401);
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("x"),
                   {{"X-User-Id", "u1"}, {"x-functions-key", kSaveKey}}).status, 201);
  EXPECT_EQ(c.Post(std::string("/api/save_interaction?code=") + kSaveKey, SaveBody("y"), As("u1")).status,
            201);
  // Each function has its own key.
  EXPECT_EQ(c.Get("/api/get_interaction_history", {{"X-User-Id", "u1"}, {"x-functions-key", kSaveKey}}).status,
            401);
  HttpResponse r = c.Get("/api/get_interaction_history",
                         {{"X-User-Id", "u1"}, {"x-functions-key", kHistoryKey}});
  EXPECT_EQ(r.status, 200);
  int64_t total = 0;
  total = IntAt(r.Json(), "total");
  EXPECT_EQ(total, 2);
  // A key holder must still say which user it acts for.
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("x"), {{"x-functions-key", kSaveKey}}).status, 400);
  // Healthz needs no credentials.
  EXPECT_EQ(c.Get("/healthz").status, 200);
}

TEST(E2eAuth, BearerTokenActsAsItsSubject) {
  RunningServer s(Secured());
  auto& c = *s.client;
  HttpResponse saved = c.Post("/api/save_interaction", SaveBody("mine"), Bearer(Token("alice")));
  ASSERT_EQ(saved.status, 201) << saved.body;
  Headers same = Bearer(Token("alice"));
  same.emplace_back("X-User-Id", "alice");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("again"), same).status, 201);
  Headers other = Bearer(Token("alice"));
  other.emplace_back("X-User-Id", "bob");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("as bob"), other).status, 403);
  EXPECT_EQ(c.Get("/api/get_interaction_history", other).status, 403);

  HttpResponse mine = c.Get("/api/get_interaction_history", Bearer(Token("alice")));
  ASSERT_EQ(mine.status, 200);
  int64_t total = 0;
  total = IntAt(mine.Json(), "total");
  EXPECT_EQ(total, 2);
  HttpResponse bobs = c.Get("/api/get_interaction_history", Bearer(Token("bob")));
  total = IntAt(bobs.Json(), "total");
  EXPECT_EQ(total, 0);
  std::string_view id = saved.Json()["interaction_id"].get_string().value();
  EXPECT_EQ(c.Get("/api/interactions/" + std::string(id), Bearer(Token("bob"))).status, 404);
  EXPECT_EQ(c.Get("/api/interactions/" + std::string(id), Bearer(Token("alice"))).status, 200);
}

TEST(E2eAuth, BadTokensAreRefused) {
  RunningServer s(Secured());
  auto& c = *s.client;
  std::string good = Token("alice");
  std::string tampered = good;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  std::string none = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                     Base64UrlEncode("{\"sub\":\"alice\",\"exp\":" + std::to_string(Now() + 3600) + "}") + ".";
  std::string hs512 = Base64UrlEncode(R"({"alg":"HS512","typ":"JWT"})") + "." +
                      good.substr(good.find('.') + 1);
  std::string no_sub = SignHs256("{\"exp\":" + std::to_string(Now() + 3600) + "}", kSecret);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"expired", Token("alice", -10)},
      {"wrong secret", Token("alice", 3600, "another-secret-entirely-xxxxxxxx")},
      {"tampered", tampered},
      {"alg none", none},
      {"alg HS512", hs512},
      {"no sub", no_sub},
      {"garbage", "not.a.token"},
  };
  for (const auto& [name, token] : cases) {
    HttpResponse r = c.Post("/api/save_interaction", SaveBody("x"), Bearer(token));
    EXPECT_EQ(r.status, 401) << name << ": " << r.body;
    EXPECT_EQ(c.Get("/api/get_interaction_history", Bearer(token)).status, 401) << name;
  }
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("x"), {{"Authorization", "Basic YTpi"}}).status, 401);
  HttpResponse r = c.Get("/api/get_interaction_history", Bearer(Token("alice")));
  int64_t total = -1;
  total = IntAt(r.Json(), "total");
  EXPECT_EQ(total, 0);  // nothing was stored by any refused request
}

TEST(E2eAuth, OpenModeRefusesNonLoopbackWithoutInsecure) {
  std::string output;
  int code = ServerProcess::RunCommand({"serve", "--host", "0.0.0.0", "--port", "0", "--data-dir",
                                        "/tmp/omniflow-never-created"}, {}, &output);
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("--insecure"), std::string::npos) << output;
  EXPECT_NE(output.find("FUNCTION_CODE_SAVE_INTERACTION"), std::string::npos) << output;

  ServerConfig insecure;
  insecure.host = "0.0.0.0";
  insecure.args = {"--insecure"};
  RunningServer s(insecure);
  EXPECT_EQ(s.client->Get("/healthz").status, 200);

  ServerConfig keyed = Secured();
  keyed.host = "0.0.0.0";
  RunningServer k(keyed);  // with keys configured, no --insecure is needed
  EXPECT_EQ(k.client->Get("/healthz").status, 200);
}

TEST(E2eAuth, LogsCarryMaskedUsersButNoSecretsOrMessages) {
  RunningServer s(Secured());
  auto& c = *s.client;
  std::string token = Token("test_user_123");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("TOP-SECRET-MESSAGE-TEXT"), Bearer(token)).status, 201);
  EXPECT_EQ(c.Post(std::string("/api/save_interaction?code=") + kSaveKey, SaveBody("x"),
                   As("test_user_123")).status, 201);
  EXPECT_EQ(c.Get("/api/get_interaction_history", {{"X-User-Id", "test_user_123"},
                                                   {"x-functions-key", kHistoryKey}}).status, 200);
  ASSERT_EQ(s.server->Stop(), 0);
  std::string log = s.server->Log();
  EXPECT_NE(log.find("user=te***23"), std::string::npos) << log;
  EXPECT_NE(log.find("path=\"/api/save_interaction\""), std::string::npos) << log;
  EXPECT_NE(log.find("status=201"), std::string::npos);
  EXPECT_NE(log.find("dur_ms="), std::string::npos);
  for (const std::string& secret : {std::string(kSaveKey), std::string(kHistoryKey), std::string(kSecret),
                                    token, std::string("TOP-SECRET-MESSAGE-TEXT"),
                                    std::string("test_user_123")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "leaked: " << secret;
  }
}

// Sets an environment variable of the test runner itself for one scope, then restores it.
class ScopedRunnerEnv {
 public:
  ScopedRunnerEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedRunnerEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1); else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Regression: only a fixed list of variables was cleared, so a key exported in the shell that
// runs the tests (FUNCTION_CODE_GET_INTERACTION_HISTORY, say) silently secured every server.
TEST(E2eAuth, KeysAndSecretsInTheRunnersEnvironmentNeverReachTheServer) {
  ScopedRunnerEnv save_key("FUNCTION_CODE_SAVE_INTERACTION", "stray-save-key");
  ScopedRunnerEnv history_key("FUNCTION_CODE_GET_INTERACTION_HISTORY", "stray-history-key");
  ScopedRunnerEnv secret("OMNIFLOW_JWT_SECRET", "stray-secret-0123456789abcdef0123456789");
  ScopedRunnerEnv admin("OMNIFLOW_ADMIN_KEY", "stray-admin-key");
  {
    RunningServer s;  // open mode: none of the stray keys applies
    ASSERT_TRUE(s.started);
    EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("open"), As("stray_env")).status, 201);
    HttpResponse history = s.client->Get("/api/get_interaction_history", As("stray_env"));
    ASSERT_EQ(history.status, 200) << history.body;
    EXPECT_EQ(IntAt(history.Json(), "total"), 1);
    // Had they reached it, the stray key, admin key and secret would be accepted: here each is
    // an unknown credential, refused as such.
    EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("stray key"),
                             {{"X-User-Id", "stray_env"}, {"x-functions-key", "stray-save-key"}}).status,
              401);
    EXPECT_EQ(s.client->Get("/api/get_interaction_history",
                            {{"X-User-Id", "stray_env"}, {"x-functions-key", "stray-admin-key"}}).status,
              401);
    std::string token = Token("stray_env", 3600, "stray-secret-0123456789abcdef0123456789");
    EXPECT_EQ(s.client->Get("/api/get_interaction_history", Bearer(token)).status, 401);
  }
  {
    RunningServer s(Secured());  // the test's own environment still applies
    ASSERT_TRUE(s.started);
    EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("x"), As("u1")).status, 401);
    EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("x"),
                             {{"X-User-Id", "u1"}, {"x-functions-key", "stray-save-key"}}).status, 401);
    EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("x"),
                             {{"X-User-Id", "u1"}, {"x-functions-key", kSaveKey}}).status, 201);
  }
  // Commands too: `token` signs only with a secret given to it, not the runner's.
  std::string out;
  EXPECT_EQ(ServerProcess::RunCommand({"token", "--sub", "u1"}, {}, &out), 2) << out;
  EXPECT_NE(out.find("set OMNIFLOW_JWT_SECRET"), std::string::npos) << out;
}

}  // namespace
}  // namespace omniflow::testing
