// proxy_router end to end: in-process forwarding with the function keys held by the server,
// bearer tokens turned into trusted calls, the router never a way around a key, unknown
// functions listed, and forwarding over HTTP to a second omniflow that requires function keys.
#include <chrono>

#include "auth/jwt.h"
#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "router-secret-0123456789abcdef";

std::string TokenFor(const std::string& sub) {
  int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() + 3600;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}", kSecret);
}

Headers Bearer(const std::string& user) { return {{"Authorization", "Bearer " + TokenFor(user)}}; }

std::vector<std::pair<std::string, std::string>> Keys() {
  return {{"FUNCTION_CODE_SAVE_INTERACTION", "save-key-1"},
          {"FUNCTION_CODE_GET_HISTORY", "history-key-1"},
          {"FUNCTION_CODE_ADD_NEW_DATA", "add-key-1"},
          {"FUNCTION_CODE_GET_DATA", "get-key-1"}};
}

TEST(ProxyRouter, TokenBecomesATrustedCallBrowsersNeverHoldKeys) {
  ServerConfig config;
  config.env = Keys();
  config.env.emplace_back("OMNIFLOW_JWT_SECRET", kSecret);
  RunningServer s(config);
  auto& c = *s.client;
  HttpResponse saved = c.Post("/api/proxy_router/save_interaction", SaveBody("via router", "t1"), Bearer("alice"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  std::string id(saved.Json()["interaction_id"].get_string().value());

  HttpResponse history = c.Get("/api/proxy_router/get_interaction_history?thread_id=t1", Bearer("alice"));
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(IntAt(history.Json(), "total"), 1);
  EXPECT_EQ(std::string(history.Json()["user_id"].get_string().value()), "alice");
  // The same data through the function itself, with its key, as the trusted backend.
  HttpResponse direct = c.Get("/api/get_interaction_history",
                              {{"X-User-Id", "alice"}, {"x-functions-key", "history-key-1"}});
  EXPECT_EQ(IntAt(direct.Json(), "total"), 1);
  EXPECT_EQ(c.Get("/api/proxy_router/get_interaction/" + id, Bearer("alice")).status, 200);

  // Isolation through the router: bob sees nothing of alice's, and cannot act as her.
  EXPECT_EQ(IntAt(c.Get("/api/proxy_router/get_interaction_history", Bearer("bob")).Json(), "total"), 0);
  EXPECT_EQ(c.Get("/api/proxy_router/get_interaction/" + id, Bearer("bob")).status, 404);
  Headers impersonate = Bearer("bob");
  impersonate.emplace_back("X-User-Id", "alice");
  EXPECT_EQ(c.Get("/api/proxy_router/get_interaction_history", impersonate).status, 403);

  // Data functions through the router.
  HttpResponse added = c.Post("/api/proxy_router/add_new_data",
                              R"({"target_blob_name":"tasks.json","new_entry":{"t":"x"}})", Bearer("alice"));
  EXPECT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(IntAt(c.Get("/api/proxy_router/get_data?target_blob_name=tasks.json", Bearer("alice")).Json(), "entry_count"), 1);
  EXPECT_EQ(IntAt(c.Get("/api/proxy_router/get_data?target_blob_name=tasks.json", Bearer("bob")).Json(), "entry_count"), 0);

  // No token, a bad token, an expired one: 401, nothing forwarded.
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("anon"), As("alice")).status, 401);
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("anon"),
                   {{"Authorization", "Bearer " + TokenFor("alice") + "x"}}).status, 401);
  std::string expired = SignHs256("{\"sub\":\"alice\",\"exp\":1000}", kSecret);
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("anon"),
                   {{"Authorization", "Bearer " + expired}}).status, 401);
  EXPECT_EQ(IntAt(c.Get("/api/proxy_router/get_interaction_history", Bearer("alice")).Json(), "total"), 1);
  // Neither the keys nor the tokens reach the log.
  EXPECT_EQ(s.server->Log().find("save-key-1"), std::string::npos);
  EXPECT_EQ(s.server->Log().find(TokenFor("alice").substr(0, 40)), std::string::npos);
}

TEST(ProxyRouter, WithoutASecretItAsksForTheFunctionsOwnKey) {
  ServerConfig config;
  config.env = Keys();
  RunningServer s(config);
  auto& c = *s.client;
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("x"), As("carl")).status, 401);
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("x"),
                   {{"X-User-Id", "carl"}, {"x-functions-key", "history-key-1"}}).status, 401)
      << "another function's key opens nothing";
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction", SaveBody("x"),
                   {{"X-User-Id", "carl"}, {"x-functions-key", "save-key-1"}}).status, 201);
  EXPECT_EQ(c.Post("/api/proxy_router/save_interaction?code=save-key-1", SaveBody("y"), As("carl")).status, 201);
  HttpResponse h = c.Get("/api/proxy_router/get_interaction_history?code=history-key-1", As("carl"));
  ASSERT_EQ(h.status, 200) << h.body;
  EXPECT_EQ(IntAt(h.Json(), "total"), 2);
}

TEST(ProxyRouter, UnknownFunctionIs404ListingTheRoutes) {
  RunningServer s;
  for (const char* target : {"/api/proxy_router/drop_tables", "/api/proxy_router", "/api/proxy_router/",
                             "/api/proxy_router/..%2f..%2fetc", "/api/proxy_router/proxy_router"}) {
    HttpResponse r = s.client->Get(target, As("u"));
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_NE(r.body.find("/api/proxy_router/save_interaction"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("/api/proxy_router/tool_call_handler"), std::string::npos) << r.body;
  }
}

TEST(ProxyRouter, ForwardsToTheToolCallHandler) {
  FakeLlm llm;
  llm.PushText("routed answer");
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()}, {"OMNIFLOW_LLM_MODEL", "m"},
                {"OMNIFLOW_JWT_SECRET", kSecret}, {"FUNCTION_CODE_TOOL_CALL_HANDLER", "tch-key"}};
  RunningServer s(config);
  HttpResponse r = s.client->Post("/api/proxy_router/tool_call_handler", R"({"message":"hi"})", Bearer("dora"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(std::string(r.Json()["response"].get_string().value()), "routed answer");
}

TEST(ProxyRouter, ForwardsOverHttpToAnUpstreamThatRequiresKeys) {
  // The upstream: an omniflow that requires function keys (like an Azure Functions app).
  ServerConfig upstream_config;
  upstream_config.env = Keys();
  RunningServer upstream(upstream_config);
  ASSERT_TRUE(upstream.started);
  // The router: holds the same keys, authenticates browsers by token.
  ServerConfig router_config;
  router_config.env = Keys();
  router_config.env.emplace_back("OMNIFLOW_JWT_SECRET", kSecret);
  router_config.env.emplace_back("OMNIFLOW_ROUTER_UPSTREAM",
                                 "http://127.0.0.1:" + std::to_string(upstream.server->port()) + "/");
  RunningServer router(router_config);
  ASSERT_TRUE(router.started);

  HttpResponse saved = router.client->Post("/api/proxy_router/save_interaction",
                                           SaveBody("over http", "up_thread"), Bearer("erin"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_EQ(saved.Header("content-type"), "application/json");
  // It lives in the upstream, under erin, and not in the router's own store.
  HttpResponse there = upstream.client->Get("/api/get_interaction_history",
                                            {{"X-User-Id", "erin"}, {"x-functions-key", "history-key-1"}});
  ASSERT_EQ(there.status, 200);
  EXPECT_EQ(IntAt(there.Json(), "total"), 1);
  HttpResponse here = router.client->Get("/api/get_interaction_history",
                                         {{"X-User-Id", "erin"}, {"x-functions-key", "history-key-1"}});
  EXPECT_EQ(IntAt(here.Json(), "total"), 0);
  // Reads come back through the router with the query intact; errors pass through.
  HttpResponse history = router.client->Get(
      "/api/proxy_router/get_interaction_history?thread_id=up_thread&limit=5", Bearer("erin"));
  ASSERT_EQ(history.status, 200) << history.body;
  EXPECT_EQ(IntAt(history.Json(), "total"), 1);
  EXPECT_EQ(IntAt(history.Json(), "limit"), 5);
  EXPECT_EQ(router.client->Get("/api/proxy_router/get_interaction_history?limit=0", Bearer("erin")).status, 400);
  EXPECT_EQ(router.client->Get("/api/proxy_router/get_interaction_history").status, 401);

  // The upstream going away is a 502, and the router stays healthy.
  upstream.server->Kill();
  EXPECT_EQ(router.client->Post("/api/proxy_router/save_interaction", SaveBody("x"), Bearer("erin")).status, 502);
  EXPECT_EQ(router.client->Get("/healthz").status, 200);
}

}  // namespace
}  // namespace omniflow::testing
