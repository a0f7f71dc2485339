// The isolation matrix: for every endpoint and every credential kind, user A never reads or
// changes user B's data. B's data carries a marker that must never appear in A's answers.
#include <chrono>

#include "auth/jwt.h"
#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "isolation-secret-0123456789abcdef";
constexpr char kMarker[] = "B-PRIVATE-MARKER-7731";

std::string TokenFor(const std::string& sub) {
  int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() + 3600;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}", kSecret);
}

// One way of presenting credentials as `user`.
struct CredentialKind {
  std::string name;
  Headers (*as)(const std::string& user, const std::string& function_key);
};

Headers WithKey(const std::string& user, const std::string& key) {
  return {{"X-User-Id", user}, {"x-functions-key", key}};
}
Headers WithToken(const std::string& user, const std::string&) {
  return {{"Authorization", "Bearer " + TokenFor(user)}};
}

class Isolation : public ::testing::TestWithParam<CredentialKind> {
 protected:
  static ServerConfig Config() {
    ServerConfig config;
    config.env = {{"OMNIFLOW_JWT_SECRET", kSecret}, {"OMNIFLOW_ADMIN_KEY", "admin-key-isolation-0001"}};
    for (const char* name : {"SAVE_INTERACTION", "GET_HISTORY", "GET_INTERACTION", "TOOL_CALL_HANDLER",
                             "GET_DATA", "LIST_DATA", "ADD_NEW_DATA", "UPDATE_DATA", "DELETE_DATA"}) {
      config.env.emplace_back(std::string("FUNCTION_CODE_") + name, std::string("key-") + name);
    }
    return config;
  }
  Headers As(const std::string& user, const char* function) {
    return GetParam().as(user, std::string("key-") + function);
  }
};

TEST_P(Isolation, UserANeverSeesOrChangesUserB) {
  RunningServer s(Config());
  auto& c = *s.client;
  HttpResponse saved = c.Post("/api/save_interaction", SaveBody(kMarker, "shared_thread"),
                              As("user_b", "SAVE_INTERACTION"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  std::string b_id(saved.Json()["interaction_id"].get_string().value());
  ASSERT_EQ(c.Post("/api/save_interaction", SaveBody("mine", "shared_thread"), As("user_a", "SAVE_INTERACTION")).status, 201);

  // History, plain and filtered on a thread name both users use.
  for (const char* target : {"/api/get_interaction_history", "/api/get_interaction_history?thread_id=shared_thread",
                             "/api/get_interaction_history?limit=1000&offset=0"}) {
    HttpResponse r = c.Get(target, As("user_a", "GET_HISTORY"));
    ASSERT_EQ(r.status, 200) << target;
    EXPECT_EQ(r.body.find(kMarker), std::string::npos) << target;
    EXPECT_EQ(IntAt(r.Json(), "total"), 1) << target;
  }
  // By id: B's id is a 404 for A, identical to an id that never existed.
  HttpResponse by_id = c.Get("/api/interactions/" + b_id, As("user_a", "GET_INTERACTION"));
  EXPECT_EQ(by_id.status, 404);
  EXPECT_EQ(by_id.body.find(kMarker), std::string::npos);
  // Acting as B while authenticated as A: a token holder gets 403; a key holder is a trusted
  // backend and may name any user, which is the documented contract of function keys.
  Headers spoof = As("user_a", "GET_HISTORY");
  if (GetParam().name == "token") {
    spoof.emplace_back("X-User-Id", "user_b");
    EXPECT_EQ(c.Get("/api/get_interaction_history", spoof).status, 403);
    Headers save_spoof = As("user_a", "SAVE_INTERACTION");
    save_spoof.emplace_back("X-User-Id", "user_b");
    EXPECT_EQ(c.Post("/api/save_interaction", SaveBody("spoof"), save_spoof).status, 403);
  }
  // A key of one function does not open another.
  EXPECT_EQ(c.Get("/api/get_interaction_history", WithKey("user_a", "key-SAVE_INTERACTION")).status, 401);
  // B's data is unchanged: exactly its one interaction.
  HttpResponse b = c.Get("/api/get_interaction_history", As("user_b", "GET_HISTORY"));
  EXPECT_EQ(IntAt(b.Json(), "total"), 1);
  EXPECT_NE(b.body.find(kMarker), std::string::npos);
}

// The data functions, tool_call_handler (whose tools act on the caller's data only) and the
// router: B's document and entry stay invisible and unchangeable to A.
TEST_P(Isolation, DataToolsAndRouterNeverCrossUsers) {
  FakeLlm llm;
  ServerConfig config = Config();
  config.env.emplace_back("OMNIFLOW_LLM_BASE_URL", llm.base_url());
  config.env.emplace_back("OMNIFLOW_LLM_MODEL", "m");
  RunningServer s(config);
  auto& c = *s.client;
  HttpResponse added = c.Post("/api/add_new_data",
      std::string(R"({"target_blob_name":"tasks.json","new_entry":{"title":")") + kMarker + "\"}}",
      As("user_b", "ADD_NEW_DATA"));
  ASSERT_EQ(added.status, 200) << added.body;
  std::string entry(added.Json()["entry_id"].get_string().value());
  std::string target = R"({"target_blob_name":"tasks.json","entry_id":")" + entry + "\"";

  // Direct data functions.
  HttpResponse got = c.Get("/api/get_data?target_blob_name=tasks.json", As("user_a", "GET_DATA"));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body.find(kMarker), std::string::npos);
  EXPECT_EQ(c.Get("/api/list_data", As("user_a", "LIST_DATA")).body.find("tasks.json"), std::string::npos);
  EXPECT_EQ(c.Post("/api/update_data", target + R"(,"updates":{"title":"pwned"}})", As("user_a", "UPDATE_DATA")).status, 404);
  EXPECT_EQ(c.Post("/api/delete_data", target + "}", As("user_a", "DELETE_DATA")).status, 404);

  // Through the model's tools: A's message makes the model read, change and delete B's entry.
  llm.PushToolCalls({{"1", "get_data", R"({"target_blob_name":"tasks.json"})"},
                     {"2", "update_data", target + R"(,"updates":{"title":"pwned"}})"},
                     {"3", "delete_data", target + "}"}});
  llm.PushText("ok");
  HttpResponse answered = c.Post("/api/tool_call_handler", R"({"message":"read b"})", As("user_a", "TOOL_CALL_HANDLER"));
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(answered.body.find(kMarker), std::string::npos);
  EXPECT_EQ(llm.requests().back().find(kMarker), std::string::npos) << "B's data reached the model";

  // Through the router.
  HttpResponse routed = c.Get("/api/proxy_router/get_data?target_blob_name=tasks.json", As("user_a", "GET_DATA"));
  ASSERT_EQ(routed.status, 200) << routed.body;
  EXPECT_EQ(routed.body.find(kMarker), std::string::npos);
  EXPECT_EQ(c.Post("/api/proxy_router/delete_data", target + "}", As("user_a", "DELETE_DATA")).status, 404);

  // B's entry is unchanged.
  HttpResponse b = c.Get("/api/get_data?target_blob_name=tasks.json", As("user_b", "GET_DATA"));
  EXPECT_EQ(IntAt(b.Json(), "entry_count"), 1);
  EXPECT_NE(b.body.find(kMarker), std::string::npos);
  EXPECT_EQ(b.body.find("pwned"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(EveryCredential, Isolation,
                         ::testing::Values(CredentialKind{"function_key", &WithKey},
                                           CredentialKind{"token", &WithToken}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace omniflow::testing
