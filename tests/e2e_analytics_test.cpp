// End-to-end tests of the analytics API (stats, users, threads, search, feedback) and the
// embedded dashboard, over HTTP against the real binary: what the numbers say, search in
// several scripts, paging, validation, and that one user's credentials never reveal another's
// data anywhere.
#include <chrono>
#include <fstream>
#include <map>
#include <set>

#include "auth/jwt.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "analytics-secret-0123456789abcdef";
constexpr char kAdmin[] = "analytics-admin-key-0001";
constexpr char kUserKey[] = "analytics-user-key-0002";
constexpr char kMarker[] = "BOBPRIVATE-4417";

std::string TokenFor(const std::string& sub) {
  int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() + 3600;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}", kSecret);
}

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

// The member `key` of `e` (null when absent).
simdjson::dom::element At(simdjson::dom::element e, const char* key) {
  simdjson::dom::element v;
  if (e[key].get(v) != simdjson::SUCCESS) return simdjson::dom::element();
  return v;
}

std::vector<std::string> Field(const HttpResponse& r, const char* array, const char* key) {
  std::vector<std::string> out;
  for (auto item : Items(r.Json(), array)) out.push_back(Str(item, key));
  return out;
}

// A server with every kind of credential configured.
ServerConfig GuardedConfig() {
  ServerConfig config;
  config.env = {{"OMNIFLOW_JWT_SECRET", kSecret}, {"OMNIFLOW_ADMIN_KEY", kAdmin}};
  for (const char* name : {"SAVE_INTERACTION", "GET_HISTORY", "GET_INTERACTION", "STATS", "USERS",
                           "THREADS", "SEARCH", "FEEDBACK"}) {
    config.env.emplace_back(std::string("FUNCTION_CODE_") + name, kUserKey);
  }
  return config;
}

Headers Admin() { return {{"x-functions-key", kAdmin}}; }
Headers Key(const std::string& user) { return {{"x-functions-key", kUserKey}, {"X-User-Id", user}}; }
Headers Token(const std::string& user) { return {{"Authorization", "Bearer " + TokenFor(user)}}; }

std::string Saved(HttpClient& c, const std::string& body, const Headers& as) {
  HttpResponse r = c.Post("/api/save_interaction", body, as);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? Str(r.Json(), "interaction_id") : "";
}

// Alice: three interactions in thread t1 (one failed tool call), one without a thread, in four
// scripts. Bob: two, carrying kMarker.
struct Seeded {
  std::vector<std::string> alice, bob;
};

Seeded Seed(HttpClient& c, Headers (*as)(const std::string&)) {
  Seeded s;
  s.alice.push_back(Saved(c, R"({"user_message":"What's the weather in Berlin?","assistant_response":"Cloudy, 14C","thread_id":"t1",
      "tool_calls":[{"tool_name":"get_weather","arguments":{"city":"Berlin"},"result":{"temp":14}}]})", as("alice")));
  s.alice.push_back(Saved(c, R"({"user_message":"明日の東京の天気は？","assistant_response":"晴れです","thread_id":"t1",
      "tool_calls":[{"tool_name":"get_weather","arguments":{"city":"東京"},"result":{"error":"timeout"},"status":"error"}]})", as("alice")));
  s.alice.push_back(Saved(c, R"({"user_message":"ما هي مهامي لهذا اليوم؟","assistant_response":"لديك مهمتان","thread_id":"t1",
      "tool_calls":[{"tool_name":"get_tasks","arguments":{}}]})", as("alice")));
  s.alice.push_back(Saved(c, R"({"user_message":"Какие у меня задачи?","assistant_response":"Две задачи"})", as("alice")));
  s.bob.push_back(Saved(c, std::string(R"({"user_message":"weather )") + kMarker +
                               R"(","assistant_response":"sunny","thread_id":"t1","tool_calls":[{"tool_name":"bob_tool"}]})",
                        as("bob")));
  s.bob.push_back(Saved(c, std::string(R"({"user_message":"東京 )") + kMarker + R"(","assistant_response":"ok"})",
                        as("bob")));
  return s;
}

TEST(AnalyticsApi, StatsCountInteractionsToolsUsersAndThreads) {
  RunningServer s;
  auto& c = *s.client;
  Seed(c, [](const std::string& u) { return As(u); });

  HttpResponse r = c.Get("/api/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::element totals = At(r.Json(), "totals");
  EXPECT_EQ(IntAt(totals, "interactions"), 6);
  EXPECT_EQ(IntAt(totals, "tool_calls"), 4);
  EXPECT_EQ(IntAt(totals, "tool_failures"), 1);
  EXPECT_EQ(IntAt(totals, "active_users"), 2);
  EXPECT_EQ(IntAt(totals, "threads"), 2);  // alice's t1 and bob's t1
  auto tools = Items(r.Json(), "top_tools");
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(Str(tools[0], "tool_name"), "get_weather");
  EXPECT_EQ(IntAt(tools[0], "calls"), 2);
  EXPECT_EQ(IntAt(tools[0], "failures"), 1);
  double rate = 0;
  ASSERT_EQ(tools[0]["failure_rate"].get(rate), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(rate, 0.5);
  auto days = Items(r.Json(), "per_day");
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(IntAt(days[0], "interactions"), 6);
  EXPECT_EQ(Field(r, "top_users", "user_id"), (std::vector<std::string>{"alice", "bob"}));

  r = c.Get("/api/stats?user_id=bob");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "interactions"), 2);
  EXPECT_EQ(Field(r, "top_tools", "tool_name"), std::vector<std::string>{"bob_tool"});

  // A range that ends before anything was saved is empty.
  r = c.Get("/api/stats?to=2020-01-01");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "interactions"), 0);
  EXPECT_TRUE(Items(r.Json(), "per_day").empty());
}

TEST(AnalyticsApi, UsersThreadsAndConversationOldestFirst) {
  RunningServer s;
  auto& c = *s.client;
  Seeded seeded = Seed(c, [](const std::string& u) { return As(u); });

  HttpResponse r = c.Get("/api/users");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "total"), 2);
  std::map<std::string, int64_t> counts;
  for (auto u : Items(r.Json(), "users")) counts[Str(u, "user_id")] = IntAt(u, "interactions");
  EXPECT_EQ(counts["alice"], 4);
  EXPECT_EQ(counts["bob"], 2);

  r = c.Get("/api/threads?user_id=alice");
  ASSERT_EQ(r.status, 200);
  auto threads = Items(r.Json(), "threads");
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(IntAt(threads[0], "interactions"), 3);
  EXPECT_EQ(Str(threads[0], "first_message"), "What's the weather in Berlin?");

  r = c.Get("/api/threads/t1?user_id=alice");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Field(r, "interactions", "interaction_id"),
            (std::vector<std::string>{seeded.alice[0], seeded.alice[1], seeded.alice[2]}));
  EXPECT_EQ(IntAt(r.Json(), "total"), 3);

  // Paging through the conversation with the cursor keeps the order.
  r = c.Get("/api/threads/t1?user_id=alice&limit=2");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Field(r, "interactions", "interaction_id"),
            (std::vector<std::string>{seeded.alice[0], seeded.alice[1]}));
  std::string next = Str(r.Json(), "next_cursor");
  r = c.Get("/api/threads/t1?user_id=alice&limit=2&cursor=" + UrlEncode(next));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Field(r, "interactions", "interaction_id"), std::vector<std::string>{seeded.alice[2]});

  EXPECT_EQ(c.Get("/api/threads/nope?user_id=alice").status, 404);
  EXPECT_EQ(c.Get("/api/threads/t1").status, 400);  // whose t1?
}

TEST(AnalyticsApi, SearchWorksInEnglishJapaneseArabicAndRussian) {
  RunningServer s;
  auto& c = *s.client;
  Seeded seeded = Seed(c, [](const std::string& u) { return As(u); });
  auto search = [&](const std::string& query) {
    HttpResponse r = c.Get("/api/search?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return Field(r, "interactions", "interaction_id");
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(search("q=WEATHER&user_id=alice"), V{seeded.alice[0]});             // case-insensitive
  EXPECT_EQ(search("q=" + UrlEncode("東京の天気")), V{seeded.alice[1]});
  EXPECT_EQ(search("q=" + UrlEncode("東京")), (V{seeded.bob[1], seeded.alice[1]}));  // 2 chars
  EXPECT_EQ(search("q=" + UrlEncode("مهامي")), V{seeded.alice[2]});
  EXPECT_EQ(search("q=" + UrlEncode("задачи")), V{seeded.alice[3]});
  EXPECT_EQ(search("q=" + UrlEncode("Две задачи")), V{seeded.alice[3]});           // responses too
  EXPECT_EQ(search("tool=get_weather"), (V{seeded.alice[1], seeded.alice[0]}));
  EXPECT_EQ(search("tool=get_weather&status=failed"), V{seeded.alice[1]});
  EXPECT_EQ(search("status=failed"), V{seeded.alice[1]});
  EXPECT_EQ(search("thread_id=t1&user_id=alice&q=weather"), V{seeded.alice[0]});
  EXPECT_EQ(search("q=" + UrlEncode("\"OR NEAR(")), V{});  // FTS syntax is plain text
  EXPECT_EQ(search("q=weather&to=2020-01-01"), V{});

  // Cursor paging, newest first, with no repeats.
  std::vector<std::string> all;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    HttpResponse r = c.Get("/api/search?limit=2" + (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)));
    ASSERT_EQ(r.status, 200) << r.body;
    for (auto& id : Field(r, "interactions", "interaction_id")) all.push_back(id);
    bool more = false;
    ASSERT_EQ(r.Json()["has_more"].get(more), simdjson::SUCCESS);
    if (!more) break;
    cursor = Str(r.Json(), "next_cursor");
  }
  ASSERT_EQ(all.size(), 6u);
  EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 6u);
}

TEST(AnalyticsApi, FeedbackIsValidatedStoredAndShown) {
  RunningServer s;
  auto& c = *s.client;
  Seeded seeded = Seed(c, [](const std::string& u) { return As(u); });
  const std::string url = "/api/interactions/" + seeded.alice[0] + "/feedback";
  for (const char* bad : {R"({"score":2})", R"({"score":-0.5})", R"({"score":"1"})", R"({"score":true})",
                          R"({"comment":"no score"})", R"({"score":1,"extra":1})", R"({"score":1,"comment":5})",
                          "[1]", "not json", R"({"score":1e999})"}) {
    HttpResponse r = c.Post(url, bad, As("alice"));
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_EQ(Str(r.Json(), "status"), "error");
  }
  HttpResponse r = c.Post(url, R"({"score":0.75,"comment":"good <b>answer</b> 良い"})", As("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Post("/api/interactions/" + seeded.alice[1] + "/feedback", R"({"score":-1})", As("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(c.Post("/api/interactions/INT_20200101_000000_000000/feedback", R"({"score":1})", As("alice")).status, 404);
  EXPECT_EQ(c.Post("/api/interactions/../feedback", R"({"score":1})", As("alice")).status, 404);

  r = c.Get("/api/interactions/" + seeded.alice[0], As("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  double score = 0;
  ASSERT_EQ(r.Json()["feedback"]["score"].get(score), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(score, 0.75);
  EXPECT_EQ(Str(At(r.Json(), "feedback"), "comment"), "good <b>answer</b> 良い");

  r = c.Get("/api/stats");
  simdjson::dom::element feedback = At(r.Json(), "feedback");
  EXPECT_EQ(IntAt(feedback, "count"), 2);
  EXPECT_EQ(IntAt(feedback, "positive"), 1);
  EXPECT_EQ(IntAt(feedback, "negative"), 1);
  EXPECT_EQ(Field(c.Get("/api/search?feedback=negative"), "interactions", "interaction_id"),
            std::vector<std::string>{seeded.alice[1]});
  EXPECT_EQ(Field(c.Get("/api/search?feedback=with"), "interactions", "interaction_id").size(), 2u);
}

TEST(AnalyticsApi, RejectsBadParametersWith400) {
  RunningServer s;
  auto& c = *s.client;
  for (const char* target :
       {"/api/stats?from=yesterday", "/api/stats?from=2025-12-02&to=2025-12-01", "/api/stats?user_id=.bad",
        "/api/stats?top=0", "/api/users?limit=0", "/api/users?offset=-1", "/api/threads?limit=abc",
        "/api/search?limit=201", "/api/search?cursor=garbage", "/api/search?status=maybe",
        "/api/search?feedback=great", "/api/search?thread_id=bad%20id", "/api/threads/bad%20id?user_id=a",
        "/api/search?q=%ZZ"}) {
    HttpResponse r = c.Get(target);
    EXPECT_EQ(r.status, 400) << target << " -> " << r.body;
    EXPECT_NE(Str(r.Json(), "error"), "<missing>") << target;
  }
}

// Every analytics view, for a user's own credentials of both kinds: never a trace of bob.
TEST(AnalyticsIsolation, UserCredentialsSeeOnlyTheirOwnData) {
  RunningServer s(GuardedConfig());
  auto& c = *s.client;
  Seeded seeded = Seed(c, Key);
  for (auto as : {Key, Token}) {
    Headers alice = as("alice");
    HttpResponse r = c.Get("/api/stats", alice);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(IntAt(At(r.Json(), "totals"), "interactions"), 4);
    EXPECT_EQ(IntAt(At(r.Json(), "totals"), "active_users"), 1);
    EXPECT_EQ(Field(r, "top_users", "user_id"), std::vector<std::string>{"alice"});
    EXPECT_EQ(r.body.find("bob"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find(kMarker), std::string::npos);

    r = c.Get("/api/users", alice);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Field(r, "users", "user_id"), std::vector<std::string>{"alice"});
    EXPECT_EQ(IntAt(r.Json(), "total"), 1);

    r = c.Get("/api/threads", alice);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(Field(r, "threads", "user_id"), std::vector<std::string>{"alice"});

    // Bob's thread has the same id: alice gets her own, and naming bob is refused.
    r = c.Get("/api/threads/t1", alice);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body.find(kMarker), std::string::npos);
    for (const char* target : {"/api/stats?user_id=bob", "/api/threads?user_id=bob",
                               "/api/threads/t1?user_id=bob", "/api/search?user_id=bob"}) {
      EXPECT_EQ(c.Get(target, alice).status, 403) << target;
    }

    r = c.Get("/api/search?q=" + std::string(kMarker), alice);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(Items(r.Json()).empty()) << r.body;
    r = c.Get("/api/search?q=" + UrlEncode("東京"), alice);
    EXPECT_EQ(Field(r, "interactions", "user_id"), std::vector<std::string>{"alice"});
    r = c.Get("/api/search?tool=bob_tool", alice);
    EXPECT_TRUE(Items(r.Json()).empty());

    // Feedback on bob's interaction: as if it did not exist, and nothing is stored.
    r = c.Post("/api/interactions/" + seeded.bob[0] + "/feedback", R"({"score":-1})", alice);
    EXPECT_EQ(r.status, 404) << r.body;
  }
  HttpResponse bob = c.Get("/api/interactions/" + seeded.bob[0], Key("bob"));
  ASSERT_EQ(bob.status, 200);
  EXPECT_TRUE(bob.Json()["feedback"].is_null()) << bob.body;

  // Without credentials: 401; with a wrong key: 401.
  EXPECT_EQ(c.Get("/api/stats").status, 401);
  EXPECT_EQ(c.Get("/api/users", {{"x-functions-key", "wrong"}}).status, 401);
  EXPECT_EQ(c.Get("/api/search", {{"Authorization", "Bearer nope"}}).status, 401);

  // The admin key sees everyone, and may rate anyone's interaction.
  HttpResponse r = c.Get("/api/stats", Admin());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "interactions"), 6);
  EXPECT_EQ(IntAt(c.Get("/api/users", Admin()).Json(), "total"), 2);
  r = c.Get("/api/search?q=" + std::string(kMarker), Admin());
  EXPECT_EQ(Items(r.Json()).size(), 2u);
  r = c.Post("/api/interactions/" + seeded.bob[0] + "/feedback", R"({"score":1})", Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.Get("/api/interactions/" + seeded.bob[0], Key("bob"));
  EXPECT_FALSE(r.Json()["feedback"].is_null());
}

TEST(AnalyticsImport, ImportedFixtureIsCountedAndSearchable) {
  TempDir dir;
  std::string output;
  const std::string fixture = std::string(OMNIFLOW_SOURCE_DIR) + "/tests/fixtures/interactions_sample.jsonl";
  ASSERT_EQ(ServerProcess::RunCommand({"import", fixture, "--data-dir", dir.path()}, {}, &output), 0) << output;
  // What the fixture holds, counted independently of the server.
  std::ifstream in(fixture);
  std::string line;
  std::map<std::string, int64_t> per_user;
  int64_t total = 0, calls = 0;
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::element e = parser.parse(line);
    ++total;
    ++per_user[std::string(std::string_view(e["user_id"]))];
    simdjson::dom::array tc;
    if (e["tool_calls"].get(tc) == simdjson::SUCCESS) calls += static_cast<int64_t>(tc.size());
  }
  ServerConfig config;
  config.data_dir = dir.path();
  RunningServer s(config);
  HttpResponse r = s.client->Get("/api/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "interactions"), total);
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "tool_calls"), calls);
  EXPECT_EQ(IntAt(At(r.Json(), "totals"), "active_users"), static_cast<int64_t>(per_user.size()));
  r = s.client->Get("/api/users?limit=1000");
  for (auto u : Items(r.Json(), "users")) {
    EXPECT_EQ(IntAt(u, "interactions"), per_user[Str(u, "user_id")]) << Str(u, "user_id");
  }
  r = s.client->Get("/api/search?q=note&limit=200");
  ASSERT_EQ(r.status, 200);
  auto found = Items(r.Json());
  ASSERT_FALSE(found.empty());
  for (auto i : found) {
    std::string text = Str(i, "user_message") + " " + Str(i, "assistant_response");
    std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    EXPECT_NE(text.find("note"), std::string::npos) << text;
  }
}

TEST(Dashboard, ServedFromTheBinaryWithContentTypesAndCaching) {
  RunningServer s;
  HttpResponse r = s.client->Get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_NE(r.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
  const size_t at = r.body.find("/assets/");
  ASSERT_NE(at, std::string::npos) << r.body;
  const std::string asset = r.body.substr(at, r.body.find('"', at) - at);
  HttpResponse js = s.client->Get(asset);
  ASSERT_EQ(js.status, 200) << asset;
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.Header("cache-control").find("immutable"), std::string::npos);
  EXPECT_GT(js.body.size(), 1000u);
  EXPECT_EQ(s.client->Get("/assets/nope.js").status, 404);
  EXPECT_EQ(s.client->Get("/nope").status, 404);
}

}  // namespace
}  // namespace omniflow::testing
