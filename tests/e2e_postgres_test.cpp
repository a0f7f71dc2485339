// End-to-end, PostgreSQL only (ctest's pg.* pass; skipped when OMNIFLOW_TEST_STORE is unset):
// several server processes on one database behave as one service, and row-level security hides
// every other user's rows from the application role whatever the query. Also, on both backends:
// content PostgreSQL's jsonb cannot hold (\u0000) breaks neither saves nor analytics.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store/postgres/pg_conn.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v)) return "<missing>";
  return std::string(v);
}

class PostgresScaleOut : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestingPostgres()) GTEST_SKIP() << "PostgreSQL only: set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
  }
};

TEST_F(PostgresScaleOut, TwoServersOnOneDatabaseActAsOneService) {
  TempDir dir;
  ServerConfig config;
  config.data_dir = dir.path() + "/shared";  // same data dir: same database
  ServerProcess a(config), b(config);
  // Both start at once on a fresh database: the migrations must not race.
  std::string error_a, error_b;
  bool started_a = false, started_b = false;
  std::thread start_a([&] { started_a = a.Start(&error_a); });
  std::thread start_b([&] { started_b = b.Start(&error_b); });
  start_a.join();
  start_b.join();
  ASSERT_TRUE(started_a) << error_a;
  ASSERT_TRUE(started_b) << error_b;

  // Concurrent saves through both servers, for three users, some in a thread.
  constexpr int kClients = 6, kEach = 40;
  std::mutex mu;
  std::map<std::string, std::set<std::string>> ids_by_user;
  std::set<std::string> all_ids;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(c % 2 ? b.port() : a.port());
      const std::string user = "multi_" + std::to_string(c % 3);
      for (int i = 0; i < kEach; ++i) {
        HttpResponse r = client.Post("/api/save_interaction",
                                     SaveBody("m" + std::to_string(i), i % 4 == 0 ? "th" : ""), As(user));
        if (r.status != 201) {
          ++failures;
          continue;
        }
        std::string id = Str(r.Json(), "interaction_id");
        std::lock_guard<std::mutex> lock(mu);
        ids_by_user[user].insert(id);
        all_ids.insert(id);
      }
    });
  }
  for (auto& t : clients) t.join();
  ASSERT_EQ(failures.load(), 0);
  // Ids are unique across the two processes.
  EXPECT_EQ(all_ids.size(), static_cast<size_t>(kClients * kEach));

  auto ca = std::make_unique<HttpClient>(a.port()), cb = std::make_unique<HttpClient>(b.port());
  for (const auto& [user, ids] : ids_by_user) {
    for (HttpClient* client : {ca.get(), cb.get()}) {
      // Either server sees everything, newest first, with an exact total.
      HttpResponse r = client->Get("/api/get_interaction_history?limit=1000", As(user));
      ASSERT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(IntAt(r.Json(), "total"), static_cast<int64_t>(ids.size()));
      std::vector<std::string> listed, stamps;
      for (auto item : Items(r.Json())) {
        listed.push_back(Str(item, "interaction_id"));
        stamps.push_back(Str(item, "timestamp"));
      }
      EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), ids);
      EXPECT_TRUE(std::is_sorted(listed.rbegin(), listed.rend()));
      EXPECT_TRUE(std::is_sorted(stamps.rbegin(), stamps.rend()));
      // The thread's count too: every fourth save of each of the two clients of this user.
      HttpResponse th = client->Get("/api/get_interaction_history?thread_id=th&limit=1", As(user));
      EXPECT_EQ(IntAt(th.Json(), "total"), 2 * (kEach / 4));
      // Saved through one server, read by id through the other.
      EXPECT_EQ(client->Get("/api/interactions/" + *ids.begin(), As(user)).status, 200);
      EXPECT_EQ(client->Get("/api/interactions/" + *ids.begin(), As("someone_else")).status, 404);
    }
  }
  ca.reset();  // kept-alive connections would hold the graceful stops
  cb.reset();
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
}

TEST_F(PostgresScaleOut, ApplicationRoleWithAnotherUsersSettingSeesNothingOfIt) {
  TempDir dir;
  ServerConfig config;
  config.data_dir = dir.path() + "/rls";
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("alice's secret", "plans"), As("alice")).status, 201);
  ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("bob's note"), As("bob")).status, 201);

  // Connect as the server does: the application role, no superuser, no BYPASSRLS.
  auto conn = pg::Conn::Connect(TestStoreUrl(config.data_dir));
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  auto role = conn->Exec("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user");
  ASSERT_TRUE(role.ok());
  ASSERT_EQ(role->Text(0, 0), "f") << "the test must query as a role RLS applies to";
  // Without a user setting: nothing.
  auto none = conn->Exec("SELECT COUNT(*) FROM interactions");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->Int(0, 0), 0);
  // With bob's setting, queries that forget the user filter still see only bob.
  pg::Query as_bob[] = {
      {"SELECT set_config('omniflow.user_id', $1, true)", {std::string("bob")}},
      {"SELECT user_id, body FROM interactions", {}},
      {"SELECT COUNT(*) FROM interactions WHERE user_id = 'alice'", {}},
      {"SELECT COUNT(*) FROM interaction_counts WHERE user_id = 'alice'", {}},
  };
  auto seen = conn->Transaction(as_bob);
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  ASSERT_EQ((*seen)[1].rows(), 1);
  EXPECT_EQ((*seen)[1].Text(0, 0), "bob");
  EXPECT_EQ((*seen)[1].Text(0, 1).find("alice"), std::string_view::npos);
  EXPECT_EQ((*seen)[2].Int(0, 0), 0);
  EXPECT_EQ((*seen)[3].Int(0, 0), 0);
  // Alice's own setting shows her row: the rows are there, only hidden.
  pg::Query as_alice[] = {
      {"SELECT set_config('omniflow.user_id', $1, true)", {std::string("alice")}},
      {"SELECT COUNT(*) FROM interactions", {}},
  };
  auto hers = conn->Transaction(as_alice);
  ASSERT_TRUE(hers.ok());
  EXPECT_EQ((*hers)[1].Int(0, 0), 1);
}

// Regression: on PostgreSQL, an index over body::jsonb made every save with \u0000 in it fail
// (jsonb cannot hold NUL), and with it the whole group-commit batch.
TEST(AnalyticsContent, NulInContentIsSavedCountedAndSearchable) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  const std::string body =
      R"({"user_message":"findme nul\u0000 inside","assistant_response":"ok \\u0000 literal",)"
      R"("thread_id":"nul_thread","tool_calls":[{"tool_name":"t\u0000x","arguments":{"a":"\u0000"},"status":"failed"}]})";
  HttpResponse saved = s.client->Post("/api/save_interaction", body, As("nul_user"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("plain findme"), As("nul_user")).status, 201);

  HttpResponse stats = s.client->Get("/api/stats?user_id=nul_user");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(IntAt(stats.Json()["totals"].value(), "interactions"), 2) << stats.body;
  HttpResponse found = s.client->Get("/api/search?q=findme&user_id=nul_user");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(Items(found.Json()).size(), 2u) << found.body;
  HttpResponse threads = s.client->Get("/api/threads?user_id=nul_user");
  ASSERT_EQ(threads.status, 200) << threads.body;
  EXPECT_NE(threads.body.find("nul_thread"), std::string::npos) << threads.body;
}

}  // namespace
}  // namespace omniflow::testing
