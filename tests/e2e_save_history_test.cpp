// End-to-end: save and history over HTTP against the real binary and a real SQLite store.
#include <regex>
#include <set>
#include <thread>

#include "support/e2e.h"

namespace omniflow::testing {
namespace {

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v)) return "<missing>";
  return std::string(v);
}
int64_t Int(simdjson::dom::element e, const char* key) {
  return IntAt(e, key);
}
bool Bool(simdjson::dom::element e, const char* key) {
  bool v = false;
  if (e[key].get(v) != simdjson::SUCCESS) return false;
  return v;
}

class SaveHistory : public ::testing::Test {
 protected:
  RunningServer s;
  HttpClient& c() { return *s.client; }
  std::string Save(const std::string& user, const std::string& msg, const std::string& thread = "") {
    HttpResponse r = c().Post("/api/save_interaction", SaveBody(msg, thread), As(user));
    EXPECT_EQ(r.status, 201) << r.body;
    return Str(r.Json(), "interaction_id");
  }
  int64_t Total(const std::string& user) {
    HttpResponse r = c().Get("/api/get_interaction_history", As(user));
    EXPECT_EQ(r.status, 200) << r.body;
    return Int(r.Json(), "total");
  }
};

TEST_F(SaveHistory, SaveAnswers201WithIdAndTimestamp) {
  HttpResponse r = c().Post("/api/save_interaction", SaveBody("hello"), As("test_user_123"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto j = r.Json();
  EXPECT_EQ(Str(j, "status"), "success");
  std::string id = Str(j, "interaction_id"), ts = Str(j, "timestamp");
  EXPECT_TRUE(std::regex_match(id, std::regex(R"(INT_\d{8}_\d{6}_\d{6}(_\d+)?)"))) << id;
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"))) << ts;
  // The id is built from the timestamp.
  EXPECT_EQ(id.substr(4, 8), ts.substr(0, 4) + ts.substr(5, 2) + ts.substr(8, 2));
  EXPECT_EQ(id.substr(20, 6), ts.substr(20, 6));
  EXPECT_EQ(r.Header("content-type"), "application/json");
}

TEST_F(SaveHistory, HistoryIsNewestFirstWithEveryField) {
  std::string a = Save("u1", "first", "t1");
  std::string b = Save("u1", "second");
  std::string body = R"({"user_message":"third","assistant_response":"r3","thread_id":"t1",
    "tool_calls":[{"tool_name":"add_new_data","arguments":"{\"target_blob_name\":\"tasks.json\",\"new_entry\":{\"title\":\"x\"}}","result":{"status":"success","entry_count":5}}],
    "metadata":{"assistant_id":"asst_1","source":"test"}})";
  HttpResponse saved = c().Post("/api/save_interaction", body, As("u1"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  std::string id3 = Str(saved.Json(), "interaction_id");

  HttpResponse r = c().Get("/api/get_interaction_history", As("u1"));
  ASSERT_EQ(r.status, 200);
  auto j = r.Json();
  EXPECT_EQ(Str(j, "status"), "success");
  EXPECT_EQ(Str(j, "user_id"), "u1");
  EXPECT_EQ(Int(j, "total"), 3);
  EXPECT_EQ(Int(j, "limit"), 50);
  EXPECT_EQ(Int(j, "offset"), 0);
  EXPECT_FALSE(Bool(j, "has_more"));
  auto items = j["interactions"].get_array().value();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(Str(items.at(0).value(), "interaction_id"), id3);
  EXPECT_EQ(Str(items.at(1).value(), "interaction_id"), b);
  EXPECT_EQ(Str(items.at(2).value(), "interaction_id"), a);
  auto newest = items.at(0).value();
  EXPECT_EQ(Str(newest, "user_id"), "u1");
  EXPECT_EQ(Str(newest, "thread_id"), "t1");
  EXPECT_EQ(Str(newest, "user_message"), "third");
  EXPECT_EQ(Str(newest, "assistant_response"), "r3");
  auto call = newest["tool_calls"].at(0).value();
  EXPECT_EQ(Str(call, "tool_name"), "add_new_data");
  EXPECT_EQ(Str(call["arguments"].value(), "target_blob_name"), "tasks.json");  // parsed
  EXPECT_EQ(Str(call, "status"), "success");
  EXPECT_EQ(Int(call["result"].value(), "entry_count"), 5);
  EXPECT_EQ(Str(newest["metadata"].value(), "assistant_id"), "asst_1");
  EXPECT_TRUE(items.at(1).value()["thread_id"].is_null());
}

TEST_F(SaveHistory, PaginationLimitOffsetAndHasMore) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Save("pager", "m" + std::to_string(i)));
  HttpResponse r = c().Get("/api/get_interaction_history?limit=3&offset=0", As("pager"));
  auto j = r.Json();
  EXPECT_EQ(Int(j, "total"), 7);
  EXPECT_TRUE(Bool(j, "has_more"));
  EXPECT_EQ(Str(j["interactions"].at(0).value(), "interaction_id"), ids[6]);
  r = c().Get("/api/get_interaction_history?limit=3&offset=6", As("pager"));
  j = r.Json();
  EXPECT_FALSE(Bool(j, "has_more"));
  ASSERT_EQ(j["interactions"].get_array().value().size(), 1u);
  EXPECT_EQ(Str(j["interactions"].at(0).value(), "interaction_id"), ids[0]);
  EXPECT_EQ(Int(j, "offset"), 6);
  r = c().Get("/api/get_interaction_history?limit=3&offset=100", As("pager"));
  EXPECT_EQ(r.Json()["interactions"].get_array().value().size(), 0u);
  EXPECT_EQ(Int(r.Json(), "total"), 7);
}

TEST_F(SaveHistory, CursorWalksEveryInteractionOnceNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 11; ++i) ids.push_back(Save("walker", "m" + std::to_string(i)));
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string target = "/api/get_interaction_history?limit=4";
    if (!cursor.empty()) target += "&cursor=" + UrlEncode(cursor);
    HttpResponse r = c().Get(target, As("walker"));
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.Json();
    EXPECT_EQ(Int(j, "total"), 11);
    for (auto item : Items(j)) seen.push_back(Str(item, "interaction_id"));
    if (!Bool(j, "has_more")) {
      EXPECT_TRUE(j["next_cursor"].is_null());
      break;
    }
    cursor = Str(j, "next_cursor");
  }
  std::vector<std::string> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);
}

TEST_F(SaveHistory, ThreadFilterAndItsTotal) {
  Save("threads", "a", "thread_a");
  Save("threads", "b", "thread_b");
  Save("threads", "c", "thread_a");
  Save("threads", "d");
  HttpResponse r = c().Get("/api/get_interaction_history?thread_id=thread_a", As("threads"));
  auto j = r.Json();
  EXPECT_EQ(Int(j, "total"), 2);
  for (auto item : Items(j)) EXPECT_EQ(Str(item, "thread_id"), "thread_a");
  EXPECT_EQ(Str(j["interactions"].at(0).value(), "user_message"), "c");
  r = c().Get("/api/get_interaction_history?thread_id=nothing_here", As("threads"));
  EXPECT_EQ(Int(r.Json(), "total"), 0);
  EXPECT_EQ(Total("threads"), 4);
}

TEST_F(SaveHistory, UnicodeRoundTripsExactly) {
  const std::string message = "明日の会議 — مرحبا — Привет — 🚀 \\\"quoted\\\" tab\\t nul\\u0000 end";
  HttpResponse saved = c().Post("/api/save_interaction", SaveBody(message), As("unicode"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  HttpResponse r = c().Get("/api/get_interaction_history", As("unicode"));
  std::string_view got = r.Json()["interactions"].at(0)["user_message"].get_string().value();
  EXPECT_EQ(got, std::string("明日の会議 — مرحبا — Привет — 🚀 \"quoted\" tab\t nul") +
                     std::string(1, '\0') + " end");
}

TEST_F(SaveHistory, UsersNeverSeeEachOther) {
  std::string a = Save("alice", "alice secret");
  Save("bob", "bob note");
  HttpResponse r = c().Get("/api/get_interaction_history", As("bob"));
  EXPECT_EQ(r.body.find("alice"), std::string::npos);
  EXPECT_EQ(Int(r.Json(), "total"), 1);
  EXPECT_EQ(c().Get("/api/interactions/" + a, As("alice")).status, 200);
  HttpResponse other = c().Get("/api/interactions/" + a, As("bob"));
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body.find("alice"), std::string::npos);
  // Same answer as an id that never existed: existence is not revealed.
  HttpResponse none = c().Get("/api/interactions/INT_20990101_000000_000000", As("bob"));
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(none.body, other.body);
}

TEST_F(SaveHistory, GetInteractionById) {
  std::string id = Save("byid", "hello");
  HttpResponse r = c().Get("/api/interactions/" + id, As("byid"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Str(r.Json()["interaction"].value(), "interaction_id"), id);
  EXPECT_EQ(c().Get("/api/interactions/../../etc/passwd", As("byid")).status, 404);
  EXPECT_EQ(c().Get("/api/interactions/INT_x'%20OR%201=1", As("byid")).status, 404);
}

TEST_F(SaveHistory, BadInputIs400AndStoresNothing) {
  const std::vector<std::string> bodies = {
      "", "not json", "[]", "{", R"({"user_message":"x"})",
      R"({"user_message":"x","assistant_response":"y","extra":1})",
      R"({"user_message":"x","assistant_response":"y","thread_id":"../../etc"})",
      R"({"user_message":"x","assistant_response":"y","tool_calls":[{"arguments":{}}]})",
      R"({"user_message":"x","assistant_response":"y","metadata":"str"})",
      "{\"user_message\":\"\xc3\x28\",\"assistant_response\":\"y\"}",
  };
  for (const auto& body : bodies) {
    HttpResponse r = c().Post("/api/save_interaction", body, As("strict"));
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(Str(r.Json(), "status"), "error");
    EXPECT_FALSE(Str(r.Json(), "error").empty());
  }
  HttpResponse unknown = c().Post("/api/save_interaction",
                                  R"({"user_message":"x","assistant_response":"y","colour":1})",
                                  As("strict"));
  EXPECT_NE(unknown.body.find("colour"), std::string::npos);
  EXPECT_EQ(Total("strict"), 0);
}

TEST_F(SaveHistory, BadQueryParametersAre400) {
  for (const char* q : {"limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1.5", "offset=-1",
                        "offset=x", "limit=10&limit=20", "thread_id=..%2Fx", "cursor=garbage",
                        "cursor=djF8MXxJTlRf&offset=0"}) {
    HttpResponse r = c().Get(std::string("/api/get_interaction_history?") + q, As("q"));
    EXPECT_EQ(r.status, 400) << q << " " << r.body;
  }
  EXPECT_EQ(c().Get("/api/get_interaction_history?limit=1000", As("q")).status, 200);
  EXPECT_EQ(c().Get("/api/get_interaction_history?limit=1", As("q")).status, 200);
}

TEST_F(SaveHistory, MissingOrInvalidUserIdIs400) {
  EXPECT_EQ(c().Post("/api/save_interaction", SaveBody("x")).status, 400);
  for (const char* bad : {"", ".hidden", "../etc", "a b", "a/b", "x'; DROP TABLE interactions;--"}) {
    HttpResponse r = c().Post("/api/save_interaction", SaveBody("x"), As(bad));
    EXPECT_EQ(r.status, 400) << bad;
  }
  EXPECT_EQ(c().Post("/api/save_interaction", SaveBody("x"), As(std::string(129, 'a'))).status, 400);
  EXPECT_EQ(c().Post("/api/save_interaction", SaveBody("x"), As(std::string(128, 'a'))).status, 201);
}

TEST_F(SaveHistory, StatusCodesForMethodTypeSizeAndPath) {
  HttpResponse r = c().Get("/api/save_interaction", As("m"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.Header("allow"), "POST");
  EXPECT_EQ(c().Request("DELETE", "/api/get_interaction_history", As("m")).status, 405);
  EXPECT_EQ(c().Get("/api/nothing", As("m")).status, 404);
  HttpResponse type = c().Request("POST", "/api/save_interaction",
                                  {{"X-User-Id", "m"}, {"Content-Type", "text/plain"}}, SaveBody("x"));
  EXPECT_EQ(type.status, 415);
  std::string huge = "{\"user_message\":\"" + std::string(1100000, 'a') + "\",\"assistant_response\":\"y\"}";
  HttpResponse big = c().Post("/api/save_interaction", huge, As("m"));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Total("m"), 0);
}

TEST_F(SaveHistory, HundredsOfConcurrentSavesGetUniqueIds) {
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(s.server->port());
      for (int i = 0; i < kEach; ++i) {
        HttpResponse r = client.Post("/api/save_interaction", SaveBody("c" + std::to_string(i)),
                                     As("concurrent"));
        if (r.status == 201) ids[t].push_back(Str(r.Json(), "interaction_id"));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> unique;
  for (auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(Total("concurrent"), kThreads * kEach);
  HttpResponse all = c().Get("/api/get_interaction_history?limit=1000", As("concurrent"));
  std::vector<std::string> listed;
  for (auto item : Items(all.Json())) listed.push_back(Str(item, "interaction_id"));
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), unique);
  EXPECT_TRUE(std::is_sorted(listed.rbegin(), listed.rend()));
}

TEST_F(SaveHistory, DataIsKeptAcrossRestart) {
  std::string id = Save("durable", "keep me", "t");
  s.Restart();
  HttpResponse r = c().Get("/api/get_interaction_history", As("durable"));
  EXPECT_EQ(Int(r.Json(), "total"), 1);
  EXPECT_EQ(Str(r.Json()["interactions"].at(0).value(), "interaction_id"), id);
  EXPECT_EQ(c().Get("/api/interactions/" + id, As("durable")).status, 200);
}

TEST_F(SaveHistory, HealthzIsOk) {
  HttpResponse r = c().Get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Str(r.Json(), "status"), "ok");
}

}  // namespace
}  // namespace omniflow::testing
