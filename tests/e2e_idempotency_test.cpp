// Idempotency-Key on save_interaction, end to end on both engines: a retry gets the original
// answer and stores nothing, another body under the key is 422, keys are per user, concurrent
// duplicates store once, and proxy_router forwards the key. PostgreSQL only (Postgres* suites):
// duplicates racing through two servers on one database, and the fault injection of issue 12,
// saves while a PostgreSQL cluster of the test's own is restarted with `pg_ctl restart -m fast`.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "auth/jwt.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kSecret[] = "idempotency-secret-0123456789abcdef";

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v)) return "<missing>";
  return std::string(v);
}

Headers Keyed(const std::string& user, const std::string& key) {
  return {{"X-User-Id", user}, {"Idempotency-Key", key}};
}

// The user's stored interactions: user_message -> interaction ids (retrying the read while the
// store is unavailable). Fails the test when the history cannot be read.
std::map<std::string, std::vector<std::string>> Stored(HttpClient& client, const std::string& user) {
  std::map<std::string, std::vector<std::string>> stored;
  std::string target = "/api/get_interaction_history?limit=1000";
  while (true) {
    HttpResponse r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = client.Get(target, As(user));
      if (r.status == 200) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return stored;
    for (auto item : Items(r.Json())) {
      stored[Str(item, "user_message")].push_back(Str(item, "interaction_id"));
    }
    std::string_view cursor;
    if (r.Json()["next_cursor"].get(cursor) != simdjson::SUCCESS || cursor.empty()) break;
    target = "/api/get_interaction_history?limit=1000&cursor=" + UrlEncode(std::string(cursor));
  }
  return stored;
}

TEST(Idempotency, ARetryGetsTheOriginalAnswerAndStoresNothing) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  const std::string body = SaveBody("pay the invoice");
  HttpResponse first = s.client->Post("/api/save_interaction", body, Keyed("ida", "req-0001"));
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.Header("idempotent-replayed"), "");
  HttpResponse again = s.client->Post("/api/save_interaction", body, Keyed("ida", "req-0001"));
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.body, first.body);  // same interaction_id and timestamp
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  // After a restart too: the key is in the store, not in the process.
  s.Restart();
  HttpResponse later = s.client->Post("/api/save_interaction", body, Keyed("ida", "req-0001"));
  ASSERT_EQ(later.status, 201) << later.body;
  EXPECT_EQ(later.body, first.body);
  HttpResponse history = s.client->Get("/api/get_interaction_history", As("ida"));
  EXPECT_EQ(IntAt(history.Json(), "total"), 1);
  // Without a key, the same body is a new interaction.
  EXPECT_EQ(s.client->Post("/api/save_interaction", body, As("ida")).status, 201);
  EXPECT_EQ(IntAt(s.client->Get("/api/get_interaction_history", As("ida")).Json(), "total"), 2);
}

TEST(Idempotency, TheKeyWithAnotherBodyIs422AndStoresNothing) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  HttpResponse first = s.client->Post("/api/save_interaction", SaveBody("one"), Keyed("idb", "k"));
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResponse other = s.client->Post("/api/save_interaction", SaveBody("two"), Keyed("idb", "k"));
  EXPECT_EQ(other.status, 422) << other.body;
  EXPECT_EQ(Str(other.Json(), "status"), "error");
  auto stored = Stored(*s.client, "idb");
  EXPECT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored.count("one"), 1u);
}

TEST(Idempotency, KeysAreScopedPerUser) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  const std::string body = SaveBody("same words");
  HttpResponse a = s.client->Post("/api/save_interaction", body, Keyed("idc_a", "shared-key"));
  HttpResponse b = s.client->Post("/api/save_interaction", body, Keyed("idc_b", "shared-key"));
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  EXPECT_NE(Str(a.Json(), "interaction_id"), Str(b.Json(), "interaction_id"));
  EXPECT_EQ(IntAt(s.client->Get("/api/get_interaction_history", As("idc_a")).Json(), "total"), 1);
  EXPECT_EQ(IntAt(s.client->Get("/api/get_interaction_history", As("idc_b")).Json(), "total"), 1);
}

TEST(Idempotency, MalformedKeysAre400) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  const std::string body = SaveBody("x");
  EXPECT_EQ(s.client->Post("/api/save_interaction", body, Keyed("idd", std::string(256, 'k'))).status, 400);
  EXPECT_EQ(s.client->Post("/api/save_interaction", body, Keyed("idd", "caf\xc3\xa9")).status, 400);
  EXPECT_EQ(s.client->Post("/api/save_interaction", body, Keyed("idd", "")).status, 400);
  EXPECT_EQ(s.client->Post("/api/save_interaction", body,
                           {{"X-User-Id", "idd"}, {"Idempotency-Key", "a"}, {"Idempotency-Key", "b"}})
                .status,
            400);
  EXPECT_EQ(s.client->Post("/api/save_interaction", body, Keyed("idd", std::string(255, 'k'))).status, 201);
  EXPECT_EQ(IntAt(s.client->Get("/api/get_interaction_history", As("idd")).Json(), "total"), 1);
}

// Requests with one key at once (in one group-commit batch or in consecutive ones): one stored.
void SendConcurrently(const std::vector<uint16_t>& ports, const std::string& user) {
  constexpr int kClients = 12;
  const std::string body = SaveBody("only once");
  std::mutex mu;
  std::set<std::string> answers;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  std::atomic<bool> go{false};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(ports[c % ports.size()]);
      while (!go) std::this_thread::yield();
      HttpResponse r = client.Post("/api/save_interaction", body, Keyed(user, "race-key"));
      if (r.status != 201) return;
      ++ok;
      std::lock_guard<std::mutex> lock(mu);
      answers.insert(Str(r.Json(), "interaction_id"));
    });
  }
  go = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients);
  EXPECT_EQ(answers.size(), 1u);
  HttpClient reader(ports[0]);
  auto stored = Stored(reader, user);
  ASSERT_EQ(stored["only once"].size(), 1u);
  EXPECT_EQ(answers.count(stored["only once"][0]), 1u);
}

TEST(Idempotency, ConcurrentDuplicatesStoreOnce) {
  RunningServer s;
  ASSERT_TRUE(s.started);
  for (int round = 0; round < 3; ++round) {
    SendConcurrently({s.server->port()}, "ide_" + std::to_string(round));
  }
}

std::string TokenFor(const std::string& sub) {
  int64_t exp = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count() + 3600;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(exp) + "}", kSecret);
}

TEST(Idempotency, ProxyRouterHonoursAndForwardsTheKey) {
  // In process: the router calls save_interaction with the request's headers.
  ServerConfig config;
  config.env = {{"OMNIFLOW_JWT_SECRET", kSecret}, {"FUNCTION_CODE_SAVE_INTERACTION", "save-key-1"}};
  RunningServer local(config);
  ASSERT_TRUE(local.started);
  Headers bearer = {{"Authorization", "Bearer " + TokenFor("idf")}, {"Idempotency-Key", "via-router"}};
  HttpResponse first = local.client->Post("/api/proxy_router/save_interaction", SaveBody("r"), bearer);
  ASSERT_EQ(first.status, 201) << first.body;
  HttpResponse again = local.client->Post("/api/proxy_router/save_interaction", SaveBody("r"), bearer);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(local.client->Post("/api/proxy_router/save_interaction", SaveBody("other"), bearer).status, 422);

  // Upstream: the router forwards the header to another omniflow, which dedupes.
  ServerConfig upstream_config;
  upstream_config.env = {{"FUNCTION_CODE_SAVE_INTERACTION", "save-key-1"},
                         {"FUNCTION_CODE_GET_HISTORY", "history-key-1"}};
  RunningServer upstream(upstream_config);
  ASSERT_TRUE(upstream.started);
  config.env.emplace_back("OMNIFLOW_ROUTER_UPSTREAM",
                          "http://127.0.0.1:" + std::to_string(upstream.server->port()) + "/");
  RunningServer router(config);
  ASSERT_TRUE(router.started);
  HttpResponse up1 = router.client->Post("/api/proxy_router/save_interaction", SaveBody("up"), bearer);
  ASSERT_EQ(up1.status, 201) << up1.body;
  HttpResponse up2 = router.client->Post("/api/proxy_router/save_interaction", SaveBody("up"), bearer);
  EXPECT_EQ(up2.body, up1.body);
  HttpResponse there = upstream.client->Get(
      "/api/get_interaction_history", {{"X-User-Id", "idf"}, {"x-functions-key", "history-key-1"}});
  EXPECT_EQ(IntAt(there.Json(), "total"), 1);
}

class PostgresIdempotency : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!TestingPostgres()) GTEST_SKIP() << "PostgreSQL only: set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
  }
};

TEST_F(PostgresIdempotency, DuplicatesRacingThroughTwoServersStoreOnce) {
  TempDir dir;
  ServerConfig config;
  config.data_dir = dir.path() + "/shared";  // same data dir: same database
  RunningServer a(config), b(config);
  ASSERT_TRUE(a.started && b.started);
  for (int round = 0; round < 3; ++round) {
    SendConcurrently({a.server->port(), b.server->port()}, "idg_" + std::to_string(round));
  }
  // How often a server's batch lost a key to the other's and planned again (timing decides).
  int races = 0;
  for (const std::string& log : {a.server->Log(), b.server->Log()}) {
    for (size_t at = log.find("event=idempotency_key_race"); at != std::string::npos;
         at = log.find("event=idempotency_key_race", at + 1)) {
      ++races;
    }
  }
  std::cout << "[ races    ] " << races << " batches replanned after losing a key\n";
}

// A PostgreSQL cluster of this test's own (scripts/test-postgres.sh), so that restarting it
// disturbs no other test.
class PrivateCluster {
 public:
  PrivateCluster() { ok_ = Script("start") == 0; }
  ~PrivateCluster() { (void)Script("stop"); }
  bool ok() const { return ok_; }
  std::string url() const {
    std::ifstream in(state_.path() + "/admin_url");
    std::string url;
    std::getline(in, url);
    return url;
  }
  int Restart() { return Script("restart"); }

 private:
  int Script(const std::string& action) {
    std::string command = "bash " OMNIFLOW_SOURCE_DIR "/scripts/test-postgres.sh " + action + " " +
                          state_.path() + " >/dev/null 2>&1";
    return std::system(command.c_str());
  }
  TempDir state_;
  bool ok_ = false;
};

// Issue 12: saves answered 503 "not saved" had been stored (the COMMIT answered, then the
// connection was cut), and a client retrying them stored them twice.
TEST_F(PostgresIdempotency, SavesAcrossFastRestartsAreStoredExactlyOnce) {
  PrivateCluster cluster;
  ASSERT_TRUE(cluster.ok());
  ServerConfig config;
  config.args = {"--store", cluster.url()};
  RunningServer s(config);
  ASSERT_TRUE(s.started);

  // What each save's client learnt, by its message (unique per save).
  enum class Answer { kSaved, kNotSaved, kUnknown };
  struct Save {
    bool keyed = false;
    Answer answer = Answer::kNotSaved;
    std::string id;  // of a 2xx
    int attempts = 0;
  };
  constexpr int kClients = 6, kMaxEach = 5000;
  std::vector<std::map<std::string, Save>> saves(kClients);
  std::atomic<bool> restarting{true};
  std::atomic<int> failed_answers{0}, unknown_answers{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(s.server->port());
      const std::string user = "fault_" + std::to_string(c);
      for (int i = 0; i < kMaxEach && restarting; ++i) {
        const std::string message = "c" + std::to_string(c) + "_m" + std::to_string(i);
        Save& save = saves[c][message];
        // Every other save carries a key and is retried until it is answered 2xx; the others
        // are sent once, and their answer must be the truth.
        save.keyed = i % 2 == 1;
        const auto give_up = steady_clock::now() + std::chrono::seconds(60);
        while (true) {
          ++save.attempts;
          HttpResponse r = client.Post("/api/save_interaction", SaveBody(message),
                                       save.keyed ? Keyed(user, "key-" + message) : As(user));
          if (r.status == 201) {
            save.answer = Answer::kSaved;
            save.id = Str(r.Json(), "interaction_id");
            break;
          }
          ++failed_answers;
          // 503 "outcome":"unknown", or no answer at all: stored or not, nobody can say.
          std::string_view outcome;
          const bool unknown = r.status == 0 || (r.status == 503 && r.Json()["outcome"].get(outcome) ==
                                                     simdjson::SUCCESS && outcome == "unknown");
          if (unknown) ++unknown_answers;
          save.answer = unknown ? Answer::kUnknown : Answer::kNotSaved;
          EXPECT_TRUE(r.status == 503 || r.status == 0) << r.status << " " << r.body;
          if (!save.keyed || steady_clock::now() > give_up) break;
          std::this_thread::sleep_for(milliseconds(50));
        }
        std::this_thread::sleep_for(milliseconds(3));
      }
    });
  }
  for (int restart = 0; restart < 4; ++restart) {
    std::this_thread::sleep_for(milliseconds(1200));
    EXPECT_EQ(cluster.Restart(), 0);
  }
  std::this_thread::sleep_for(milliseconds(1000));
  restarting = false;
  for (auto& t : clients) t.join();
  // The fault must have bitten, or this test proved nothing.
  EXPECT_GT(failed_answers.load(), 0);

  int keyed_retried = 0, sent = 0;
  for (int c = 0; c < kClients; ++c) {
    auto stored = Stored(*s.client, "fault_" + std::to_string(c));
    for (const auto& [message, ids] : stored) {
      EXPECT_EQ(ids.size(), 1u) << message << " is stored " << ids.size() << " times";
      EXPECT_EQ(saves[c].count(message), 1u) << message << " was never sent";
    }
    for (const auto& [message, save] : saves[c]) {
      ++sent;
      auto found = stored.find(message);
      const size_t copies = found == stored.end() ? 0 : found->second.size();
      if (save.keyed) {
        keyed_retried += save.attempts > 1;
        ASSERT_EQ(save.answer, Answer::kSaved) << message << " never answered 2xx";
      }
      switch (save.answer) {
        case Answer::kSaved:
          ASSERT_EQ(copies, 1u) << message << " was answered 201 and is stored " << copies << " times";
          EXPECT_EQ(found->second[0], save.id) << message;
          break;
        case Answer::kNotSaved:
          EXPECT_EQ(copies, 0u) << message << " was answered 503 (not saved) but is stored";
          break;
        case Answer::kUnknown:
          EXPECT_LE(copies, 1u) << message;
          break;
      }
    }
  }
  const std::string log = s.server->Log();
  auto count = [&log](const std::string& what) {
    int n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  std::cout << "[ fault    ] " << sent << " saves, " << failed_answers.load()
            << " answered 5xx or not at all (" << unknown_answers.load() << " of unknown outcome), "
            << keyed_retried << " keyed saves retried to 2xx; unanswered commits found committed "
            << count("committed=true") << ", not committed " << count("committed=false") << "\n";
}

}  // namespace
}  // namespace omniflow::testing
