// The attack review of issue 11, replayed over real sockets against the real binary: each test
// reproduces one finding as the attacker did and asserts that it is refused and that nothing
// changed (or, for the router, that nothing reached the upstream, which records every request).
// Every test runs on SQLite and, in ctest's pg.* pass, on PostgreSQL.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "auth/jwt.h"
#include "store/postgres/pg_conn.h"
#include "support/e2e.h"
#include "support/small_disk.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "attack-secret-0123456789abcdef";
constexpr char kAdmin[] = "attack-admin-key-0123456789";

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string TokenFor(const std::string& sub) {
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(Now() + 600) + "}",
                   kSecret);
}

Headers Bearer(const std::string& user) { return {{"Authorization", "Bearer " + TokenFor(user)}}; }

Headers Admin(const std::string& user = "") {
  Headers h = {{"x-functions-key", kAdmin}};
  if (!user.empty()) h.emplace_back("X-User-Id", user);
  return h;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A server with a JWT secret and an admin key (and `env`), optionally in front of `upstream`.
ServerConfig Secured(std::vector<std::pair<std::string, std::string>> env = {},
                     const std::string& upstream = "") {
  ServerConfig config;
  config.env = std::move(env);
  config.env.emplace_back("OMNIFLOW_JWT_SECRET", kSecret);
  config.env.emplace_back("OMNIFLOW_ADMIN_KEY", kAdmin);
  if (!upstream.empty()) config.env.emplace_back("OMNIFLOW_ROUTER_UPSTREAM", upstream);
  return config;
}

std::string SaveAs(HttpClient& c, const Headers& who, const std::string& text,
                   const std::string& thread = "") {
  HttpResponse r = c.Post("/api/save_interaction", SaveBody(text, thread), who);
  EXPECT_EQ(r.status, 201) << r.body;
  if (r.status != 201) return "";
  return std::string(r.Json()["interaction_id"].get_string().value());
}

// Every byte the server sends on one connection for `raw`, until it closes (or `timeout_ms`).
std::string Exchange(uint16_t port, const std::string& raw, int timeout_ms = 5000) {
  HttpClient client(port);
  int fd = client.Connect();
  if (fd < 0) return "";
  ::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
  std::string out;
  char buffer[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n > 0) out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// --- 1. Router escalation: alice wrote feedback on bob's interaction through the router. ---
TEST(Attack1RouterEscalation, AliceCannotReachBobsInteractionOrFeedbackThroughTheRouter) {
  RunningServer s(Secured());
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  const std::string bobs = SaveAs(c, Bearer("bob"), "bob private plans");
  ASSERT_FALSE(bobs.empty());
  const std::string score = R"({"score":1,"comment":"planted by alice"})";
  for (const std::string& path :
       {"/api/proxy_router/get_interaction/" + bobs + "/feedback",
        "/api/proxy_router/get_interaction/" + bobs + "%2Ffeedback",
        "/api/proxy_router/get_interaction/" + bobs + "/../" + bobs + "/feedback",
        "/api/proxy_router/get_interaction/x/../" + bobs + "/feedback",
        "/api/interactions/" + bobs + "/feedback"}) {
    HttpResponse r = c.Post(path, score, Bearer("alice"));
    EXPECT_TRUE(r.status == 404 || r.status == 405) << path << " -> " << r.status << " " << r.body;
  }
  // Nothing changed: bob's interaction has no feedback.
  HttpResponse bob_view = c.Get("/api/interactions/" + bobs, Bearer("bob"));
  ASSERT_EQ(bob_view.status, 200) << bob_view.body;
  EXPECT_TRUE(bob_view.Json()["feedback"].is_null()) << bob_view.body;
  // No existence oracle: bob's id and an id that does not exist answer alike.
  HttpResponse real = c.Get("/api/proxy_router/get_interaction/" + bobs, Bearer("alice"));
  HttpResponse made_up = c.Get("/api/proxy_router/get_interaction/INT_20000101_000000_000000_0",
                               Bearer("alice"));
  EXPECT_EQ(real.status, 404);
  EXPECT_EQ(real.status, made_up.status);
  EXPECT_EQ(real.body, made_up.body);
  EXPECT_EQ(real.body.find("bob private plans"), std::string::npos);
}

// --- 2. Router path traversal: dot segments reached the upstream with the server's key. ---
TEST(Attack2RouterTraversal, NoDotSegmentOrEncodedPathReachesTheUpstream) {
  FakeLlm upstream;
  upstream.SetFallback({200, R"({"status":"success"})", {}, 0});
  RunningServer s(Secured({{"FUNCTION_CODE_GET_INTERACTION", "get-key-1"}}, upstream.origin()));
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"GET", "/api/proxy_router/get_interaction/../../admin/host/keys"},
      {"GET", "/api/proxy_router/get_interaction/%2e%2e/%2e%2e/admin/host/keys"},
      {"GET", "/api/proxy_router/get_interaction/%2E%2E%2F%2E%2E%2Fadmin%2Fhost%2Fkeys"},
      {"GET", "/api/proxy_router/get_interaction/..%2f..%2fadmin"},
      {"DELETE", "/api/proxy_router/get_interaction/../delete_everything"},
      {"GET", "/api/proxy_router/get_interaction/../search?q=a"},
      {"GET", "/api/proxy_router/get_interaction/INT_A/../../search?q=a"},
      {"GET", "/api/proxy_router/get_interaction//search"},
      {"GET", "/api/proxy_router/../search?q=a"},
      {"GET", "/api/proxy_router/search?q=a"},
      {"GET", "/api/proxy_router/%67et_interaction_history"},
      {"POST", "/api/proxy_router/get_interaction_history"},
  };
  for (const auto& [method, path] : attacks) {
    HttpResponse r = c.Request(method, path, Bearer("alice"), method == "POST" ? "{}" : "");
    EXPECT_TRUE(r.status == 400 || r.status == 404 || r.status == 405)
        << method << " " << path << " -> " << r.status << " " << r.body;
  }
  EXPECT_EQ(upstream.calls(), 0) << "an attack reached the upstream: " << upstream.request_headers()[0];

  // The one valid form goes to the route's own path, built from the table.
  HttpResponse ok = c.Get("/api/proxy_router/get_interaction/INT_ABC_1", Bearer("alice"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  ASSERT_EQ(upstream.calls(), 1);
  EXPECT_EQ(upstream.request_headers()[0].rfind("GET /api/interactions/INT_ABC_1 HTTP/1.1\r\n", 0), 0u)
      << upstream.request_headers()[0];
}

// --- 3. Fail-open functions: with the seed's two keys set, everything else was open. ---
TEST(Attack3FailClosed, FunctionsWithoutTheirOwnKeyRefuseCallersWithoutCredentials) {
  ServerConfig config;
  config.env = {{"FUNCTION_CODE_SAVE_INTERACTION", "save-key-1"},
                {"FUNCTION_CODE_GET_HISTORY", "history-key-1"}};
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  Headers bob_key = {{"x-functions-key", "save-key-1"}, {"X-User-Id", "bob"}};
  const std::string id = SaveAs(c, bob_key, "bob secret weather", "t1");
  ASSERT_FALSE(id.empty());
  for (const std::string& path :
       {std::string("/api/search?q=weather"), std::string("/api/search?q=weather&user_id=bob"),
        std::string("/api/threads/t1?user_id=bob"), std::string("/api/threads"),
        "/api/interactions/" + id, std::string("/api/get_data?target_blob_name=tasks.json"),
        std::string("/api/list_data"), std::string("/api/stats"), std::string("/api/users"),
        "/api/proxy_router/get_interaction/" + id,
        std::string("/api/proxy_router/get_data?target_blob_name=tasks.json")}) {
    HttpResponse r = c.Get(path, As("bob"));
    EXPECT_EQ(r.status, 401) << path << " " << r.body;
    EXPECT_EQ(r.body.find("bob secret"), std::string::npos) << path;
  }
  HttpResponse planted = c.Post("/api/add_new_data",
                                R"({"target_blob_name":"tasks.json","new_entry":{"t":"x"}})",
                                As("bob"));
  EXPECT_EQ(planted.status, 401);
  // The functions with their key still work, and the history shows bob's one interaction.
  HttpResponse history = c.Get("/api/get_interaction_history",
                               {{"x-functions-key", "history-key-1"}, {"X-User-Id", "bob"}});
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(IntAt(history.Json(), "total"), 1);
}

TEST(Attack3FailClosed, OpenFunctionsAreExplicitLoggedAndKeepTheServerOffNonLoopback) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin}, {"OMNIFLOW_OPEN_FUNCTIONS", "save_interaction"}};
  config.host = "0.0.0.0";
  ServerProcess refused(config);
  std::string error;
  EXPECT_FALSE(refused.Start(&error));
  EXPECT_NE(error.find("OMNIFLOW_OPEN_FUNCTIONS"), std::string::npos) << error;

  config.host = "127.0.0.1";
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  EXPECT_NE(s.server->Log().find("event=open_functions functions=save_interaction"),
            std::string::npos)
      << s.server->Log();
  EXPECT_EQ(s.client->Post("/api/save_interaction", SaveBody("open"), As("carol")).status, 201);
  EXPECT_EQ(s.client->Get("/api/get_interaction_history", As("carol")).status, 401);

  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin}, {"OMNIFLOW_OPEN_FUNCTIONS", "delete_everything"}};
  ServerProcess unknown(config);
  EXPECT_FALSE(unknown.Start(&error));
  EXPECT_NE(error.find("delete_everything"), std::string::npos) << error;
}

// --- 4. The admin key left the process for functions without a key of their own. ---
TEST(Attack4AdminKeyStaysHome, OnlyTheFunctionsOwnKeyGoesUpstream) {
  FakeLlm upstream;
  upstream.SetFallback({200, R"({"status":"success","documents":[]})", {}, 0});
  RunningServer s(Secured({{"FUNCTION_CODE_GET_DATA", "get-data-key-1"}}, upstream.origin()));
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  const std::string alice_token = TokenFor("alice");
  const Headers alice = {{"Authorization", "Bearer " + alice_token}};
  ASSERT_EQ(c.Get("/api/proxy_router/list_data", alice).status, 200);
  ASSERT_EQ(c.Get("/api/proxy_router/get_data?target_blob_name=a.json", alice).status, 200);
  ASSERT_EQ(c.Get("/api/proxy_router/list_data", Admin("alice")).status, 200);
  std::vector<std::string> heads = upstream.request_headers();
  ASSERT_EQ(heads.size(), 3u);
  for (const std::string& head : heads) {
    EXPECT_EQ(head.find(kAdmin), std::string::npos) << head;
    EXPECT_NE(Lower(head).find("x-user-id: alice"), std::string::npos) << head;
  }
  // list_data has no key: alice's own token goes along, and for the admin caller nothing.
  EXPECT_EQ(Lower(heads[0]).find("x-functions-key"), std::string::npos) << heads[0];
  EXPECT_NE((heads[0] + "\r\n").find("Authorization: Bearer " + alice_token + "\r\n"),
            std::string::npos)
      << heads[0];
  EXPECT_NE(heads[1].find("x-functions-key: get-data-key-1"), std::string::npos) << heads[1];
  EXPECT_EQ(Lower(heads[2]).find("x-functions-key"), std::string::npos) << heads[2];
  EXPECT_EQ(Lower(heads[2]).find("authorization"), std::string::npos) << heads[2];
}

// --- 5. Open mode reachable from web pages (DNS rebinding, cross-origin POSTs, text/plain). ---
TEST(Attack5OpenModeFromWebPages, ForeignHostsOriginsAndTextPlainAreRefused) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  ASSERT_FALSE(SaveAs(c, As("alice"), "alice secret weather").empty());
  const std::string port = std::to_string(s.server->port());
  auto raw_get = [&](const std::string& host, const std::string& path) {
    return c.Raw("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
  };
  for (const std::string& host : {"evil.example:" + port, std::string("evil.example"),
                                   "127.0.0.1.evil.example:" + port, std::string("localhost.evil"),
                                   std::string("0.0.0.0:") + port, std::string("[::2]:") + port}) {
    HttpResponse r = raw_get(host, "/api/search?q=weather");
    EXPECT_EQ(r.status, 403) << host << " " << r.body;
    EXPECT_EQ(r.body.find("alice secret"), std::string::npos) << host;
  }
  for (const std::string& host : {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port,
                                   std::string("127.1.2.3")}) {
    EXPECT_EQ(raw_get(host, "/api/search?q=weather").status, 200) << host;
  }
  // A foreign page's POST, a "simple" text/plain POST: refused, nothing planted.
  Headers cross = As("alice");
  cross.emplace_back("Origin", "http://evil.example");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("planted"), cross).status, 403);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":"hi","user_id":"alice"})", cross).status, 403);
  EXPECT_EQ(c.Get("/api/search?q=weather", cross).status, 403);
  Headers plain = As("alice");
  plain.emplace_back("Content-Type", "text/plain");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("planted"), plain).status, 415);
  Headers form = As("alice");
  form.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  EXPECT_EQ(c.Post("/api/add_new_data", R"({"target_blob_name":"a.json","new_entry":{}})", form).status, 415);
  HttpResponse history = c.Get("/api/get_interaction_history", As("alice"));
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(IntAt(history.Json(), "total"), 1) << history.body;
  // The dashboard's own page is same-origin and works.
  Headers same = As("alice");
  same.emplace_back("Origin", "http://127.0.0.1");
  EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("from the dashboard"), same).status, 201);
}

// --- 6. Forwarded headers: everything but a deny-list went upstream, look-alikes included. ---
TEST(Attack6ForwardedHeaders, OnlyTheAllowListGoesUpstream) {
  FakeLlm upstream;
  upstream.SetFallback({200, R"({"status":"success"})", {}, 0});
  RunningServer s(Secured({}, upstream.origin()));
  ASSERT_TRUE(s.started);
  Headers h = Bearer("alice");
  for (auto header : std::vector<std::pair<std::string, std::string>>{
           {"X_User_Id", "bob"}, {"X-User_Id", "bob"}, {"Cookie", "session=bob"},
           {"X-Forwarded-For", "10.1.2.3"}, {"X-Original-URL", "/admin"}, {"X-Functions-Key2", "k"},
           {"Accept", "application/json"}, {"User-Agent", "attack-test/1"}}) {
    h.push_back(header);
  }
  ASSERT_EQ(s.client->Get("/api/proxy_router/list_data", h).status, 200);
  ASSERT_EQ(upstream.calls(), 1);
  const std::string head = Lower(upstream.request_headers()[0]);
  for (const char* gone : {"x_user_id", "x-user_id", "cookie", "x-forwarded-for", "x-original-url",
                           "x-functions-key2", "bob", "10.1.2.3"}) {
    EXPECT_EQ(head.find(gone), std::string::npos) << gone << " went upstream:\n" << head;
  }
  EXPECT_NE(head.find("accept: application/json"), std::string::npos) << head;
  EXPECT_NE(head.find("user-agent: attack-test/1"), std::string::npos) << head;
  EXPECT_NE(head.find("x-user-id: alice"), std::string::npos) << head;
}

// --- 7. Transfer-Encoding desync: an unknown coding was ignored and the body read as a request.
TEST(Attack7TransferEncoding, AnythingButExactlyChunkedIs400AndCloses) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  const std::string smuggled = "GET /api/get_interaction_history HTTP/1.1\r\nHost: localhost\r\n"
                               "X-User-Id: victim\r\n\r\n";
  for (const std::string coding :
       {"Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding: identity\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"}) {
    const std::string raw = "POST /api/save_interaction HTTP/1.1\r\nHost: localhost\r\n"
                            "X-User-Id: a\r\nContent-Type: application/json\r\n" + coding +
                            "\r\n" + smuggled;
    const std::string answer = Exchange(s.server->port(), raw);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << coding << answer;
    EXPECT_EQ(Count(answer, "HTTP/1.1 "), 1u) << coding << "answered twice:\n" << answer;
  }
  // Real chunked bodies still work.
  const std::string body = SaveBody("chunked");
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  const std::string chunked = "POST /api/save_interaction HTTP/1.1\r\nHost: localhost\r\n"
                              "X-User-Id: a\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                              std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
  EXPECT_EQ(Exchange(s.server->port(), chunked).rfind("HTTP/1.1 201", 0), 0u);
}

// --- 8. Error leaks: the store's text (and on PostgreSQL its address) reached the client. ---
TEST(Attack8ErrorLeaks, ControlCharactersAre400AndRequestIdsAreKeptOrMade) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  for (const char* query : {"/api/search?q=%00weather", "/api/search?q=a%0Ab",
                            "/api/get_interaction_history?thread_id=%7f"}) {
    HttpResponse r = c.Get(query, As("alice"));
    EXPECT_EQ(r.status, 400) << query;
    EXPECT_NE(r.body.find("control characters"), std::string::npos) << r.body;
    EXPECT_EQ(Lower(r.body).find("statement"), std::string::npos) << r.body;
    EXPECT_EQ(Lower(r.body).find("sqlite"), std::string::npos) << r.body;
  }
  Headers mine = As("alice");
  mine.emplace_back("X-Request-Id", "trace-42.a_b");
  EXPECT_EQ(c.Get("/api/get_interaction_history", mine).Header("x-request-id"), "trace-42.a_b");
  Headers bad = As("alice");
  bad.emplace_back("X-Request-Id", "no spaces <allowed>");
  const std::string made = c.Get("/api/get_interaction_history", bad).Header("x-request-id");
  EXPECT_EQ(made.rfind("req-", 0), 0u) << made;
  EXPECT_NE(s.server->Log().find("request_id=trace-42.a_b"), std::string::npos);
}

TEST(PostgresAttack8ErrorLeaks, AFailedSaveSaysSoWithoutTheDatabasesText) {
  // ctest runs this suite (Postgres*) only in its pg.* pass; run by hand without a database it
  // skips, and under CI it fails.
  if (!TestingPostgres()) {
    if (RunningUnderCi()) FAIL() << "PostgreSQL only: set OMNIFLOW_TEST_STORE (ctest's pg.* pass does)";
    GTEST_SKIP() << "PostgreSQL only (a read-only database); ctest's pg.* pass runs it";
  }
  TempDir dir;
  ServerConfig config;
  config.data_dir = dir.path() + "/readonly";
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  ASSERT_FALSE(SaveAs(*s.client, As("alice"), "before").empty());
  const std::string url = TestStoreUrl(config.data_dir);
  const std::string db = url.substr(url.rfind('/') + 1);
  Result<pg::Conn> admin = pg::Conn::Connect(TestAdminUrl());
  ASSERT_TRUE(admin.ok()) << admin.status().message();
  ASSERT_TRUE(admin->Exec("ALTER DATABASE " + db + " SET default_transaction_read_only = on").ok());
  ASSERT_TRUE(admin->Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" +
                          db + "' AND pid <> pg_backend_pid()").ok());
  Headers h = As("alice");
  h.emplace_back("X-Request-Id", "readonly-1");
  HttpResponse r = s.client->Post("/api/save_interaction", SaveBody("during"), h);
  admin->Exec("ALTER DATABASE " + db + " RESET default_transaction_read_only");
  EXPECT_EQ(r.status / 100, 5) << r.body;
  for (const char* leak : {"sqlstate", "read-only", "transaction", "omniflow_app", "127.0.0.1",
                           "port", db.c_str()}) {
    EXPECT_EQ(Lower(r.body).find(leak), std::string::npos) << leak << " in " << r.body;
  }
  EXPECT_EQ(r.Header("x-request-id"), "readonly-1");
  // The reason is in the log, under the same request id.
  const std::string log = s.server->Log();
  const size_t line = log.find("event=internal_error request_id=readonly-1");
  ASSERT_NE(line, std::string::npos) << log;
  EXPECT_NE(Lower(log.substr(line, log.find('\n', line) - line)).find("sqlstate"), std::string::npos)
      << log.substr(line, 400);
}

// --- 9. Upstream content served as HTML on the dashboard's origin. ---
TEST(Attack9UpstreamContent, UpstreamBodiesAreServedOnlyAsJson) {
  FakeLlm upstream;
  RunningServer s(Secured({}, upstream.origin()));
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  FakeReply html{200, "<html><script>alert(document.cookie)</script></html>", {}, 0};
  html.content_type = "text/html";
  upstream.Push(html);
  HttpResponse r = c.Get("/api/proxy_router/list_data", Bearer("alice"));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.body.find("<script>"), std::string::npos) << r.body;
  // JSON labelled as HTML is served as JSON.
  FakeReply labelled{200, R"({"status":"success","documents":[]})", {}, 0};
  labelled.content_type = "text/html";
  upstream.Push(labelled);
  HttpResponse ok = c.Get("/api/proxy_router/list_data", Bearer("alice"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header("content-type"), "application/json");
  // Every answer carries nosniff: an API answer, an error, a dashboard file.
  for (const char* path : {"/healthz", "/no/such/path", "/", "/api/stats"}) {
    EXPECT_EQ(c.Get(path).Header("x-content-type-options"), "nosniff") << path;
  }
}

// --- 10. Info: %63ode went upstream; one pool let one user starve the others. ---
TEST(Attack10Info, TheCallersCodeNeverGoesUpstreamInAnyEncoding) {
  FakeLlm upstream;
  upstream.SetFallback({200, R"({"status":"success"})", {}, 0});
  RunningServer s(Secured({{"FUNCTION_CODE_GET_DATA", "data-key-1"}}, upstream.origin()));
  ASSERT_TRUE(s.started);
  // code and %63ode decode to the same name: a repeated parameter.
  EXPECT_EQ(s.client->Get("/api/proxy_router/get_data?%63ode=data-key-1&target_blob_name=a.json&c%6Fde=x",
                          As("alice")).status, 400);
  ASSERT_EQ(s.client->Get("/api/proxy_router/get_data?%63ode=data-key-1&target_blob_name=a.json",
                          As("alice")).status, 200);
  ASSERT_EQ(s.client->Get("/api/proxy_router/get_data?target_blob_name=a.json&code=data-key-1",
                          As("alice")).status, 200);
  ASSERT_EQ(upstream.calls(), 2);
  for (const std::string& head : upstream.request_headers()) {
    EXPECT_EQ(head.substr(0, head.find("\r\n")), "GET /api/get_data?target_blob_name=a.json HTTP/1.1");
    // The key appears once: the router's own x-functions-key header.
    EXPECT_EQ(Count(head, "data-key-1"), 1u) << head;
  }
}

TEST(Attack10Info, OneUserCannotStarveTheOthers) {
  FakeLlm upstream;
  upstream.SetFallback({200, R"({"status":"success"})", {}, 2500});
  RunningServer s(Secured({}, upstream.origin()));
  ASSERT_TRUE(s.started);
  const uint16_t port = s.server->port();
  std::atomic<int> ok{0}, limited{0}, other{0};
  std::atomic<bool> retry_after{true};
  std::vector<std::thread> alice;
  for (int i = 0; i < 6; ++i) {
    alice.emplace_back([&] {
      HttpClient c(port);
      HttpResponse r = c.Get("/api/proxy_router/list_data", Bearer("alice"));
      if (r.status == 200) {
        ++ok;
      } else if (r.status == 429) {
        ++limited;
        if (r.Header("retry-after").empty()) retry_after = false;
      } else {
        ++other;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  HttpClient bob(port);
  HttpResponse bobs = bob.Get("/api/proxy_router/list_data", Bearer("bob"));
  for (std::thread& t : alice) t.join();
  EXPECT_EQ(bobs.status, 200) << bobs.body;
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(limited.load(), 2);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(retry_after.load());
}

}  // namespace
}  // namespace omniflow::testing

namespace omniflow::testing {
namespace {

TEST(Attack10Info, TokensLivingTooLongOrForAnotherAudienceAreRefused) {
  ServerConfig config = Secured({{"OMNIFLOW_JWT_AUDIENCE", "omniflow-test"},
                                 {"OMNIFLOW_JWT_ISSUER", "https://issuer.test"},
                                 {"OMNIFLOW_JWT_MAX_TTL", "3600"}});
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  auto token = [](const std::string& claims) {
    return Headers{{"Authorization", "Bearer " + SignHs256("{\"sub\":\"alice\"," + claims + "}", kSecret)}};
  };
  const std::string exp = "\"exp\":" + std::to_string(Now() + 600);
  const std::string good = exp + R"(,"aud":"omniflow-test","iss":"https://issuer.test")";
  EXPECT_EQ(s.client->Get("/api/get_interaction_history", token(good)).status, 200);
  for (const std::string& claims :
       {std::string(R"("exp":1e308,"aud":"omniflow-test","iss":"https://issuer.test")"),
        "\"exp\":" + std::to_string(Now() + 7200) + R"(,"aud":"omniflow-test","iss":"https://issuer.test")",
        exp + R"(,"iss":"https://issuer.test")", exp + R"(,"aud":"other","iss":"https://issuer.test")",
        exp + R"(,"aud":"omniflow-test")", exp + R"(,"aud":"omniflow-test","iss":"https://evil.test")"}) {
    HttpResponse r = s.client->Get("/api/get_interaction_history", token(claims));
    EXPECT_EQ(r.status, 401) << claims << " " << r.body;
  }
  // A bad cap is refused at start, not silently replaced.
  ServerConfig bad = Secured({{"OMNIFLOW_JWT_MAX_TTL", "1e308"}});
  ServerProcess refused(bad);
  std::string error;
  EXPECT_FALSE(refused.Start(&error));
  EXPECT_NE(error.find("OMNIFLOW_JWT_MAX_TTL"), std::string::npos) << error;
}

}  // namespace
}  // namespace omniflow::testing
