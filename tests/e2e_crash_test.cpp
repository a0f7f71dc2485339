// Crash safety: concurrent saves, SIGKILL at random moments, restart; every acknowledged
// interaction must be present and intact, no id may appear twice, and (on SQLite)
// integrity_check must say "ok". Runs on both engines (ctest's pg.* pass for PostgreSQL).
// OMNIFLOW_KILL_CYCLES sets the number of cycles (default 20; `make soak` runs 1000).
#include <atomic>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "support/crash_checks.h"
#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

int Cycles() {
  const char* env = std::getenv("OMNIFLOW_KILL_CYCLES");
  int n = env ? std::atoi(env) : 20;
  return n > 0 ? n : 20;
}

struct Acked {
  std::string user, id, message;
};

// An entry written by a data tool during an acknowledged tool_call_handler answer.
struct AckedEntry {
  std::string user, entry_id;
};

TEST(CrashSafety, EveryAcknowledgedSaveSurvivesSigkill) {
  TempDir dir;
  // tool_call_handler traffic too: each message makes the model add one entry, then answer.
  FakeLlm llm;
  llm.SetResponder([](const std::string& body) {
    if (body.find("\"role\":\"tool\"") != std::string::npos) {
      return FakeReply{200, TextCompletion("done"), {}, 0};
    }
    return FakeReply{200, ToolCallsCompletion({{"c1", "add_new_data",
                                                R"({"target_blob_name":"crash.json","new_entry":{"n":1}})"}}),
                     {}, 0};
  });
  ServerConfig config;
  config.data_dir = dir.path() + "/data";
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()}, {"OMNIFLOW_LLM_MODEL", "m"}};
  std::vector<AckedEntry> acked_entries;
  ServerProcess server(config);
  std::mt19937 rng(12345);
  std::vector<Acked> acked;
  std::mutex mu;
  const int cycles = Cycles();
  uint64_t checked = 0;
  size_t previous_end = 0;

  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::string error;
    ASSERT_TRUE(server.Start(&error)) << "cycle " << cycle << ": " << error;
    uint16_t port = server.port();

    // What the last cycle acknowledged is there, intact, and so is a sample of the rest
    // (all of it is checked at the end).
    {
      HttpClient client(port);
      std::vector<Acked> sample(acked.begin() + static_cast<long>(previous_end), acked.end());
      for (int i = 0; i < 200 && previous_end > 0; ++i) sample.push_back(acked[rng() % previous_end]);
      previous_end = acked.size();
      for (const Acked& a : sample) {
        HttpResponse r = client.Get("/api/interactions/" + a.id, As(a.user));
        ASSERT_EQ(r.status, 200) << "lost acknowledged " << a.id << " after cycle " << cycle;
        std::string_view msg = r.Json()["interaction"]["user_message"].get_string().value();
        ASSERT_EQ(msg, a.message);
        ++checked;
      }
    }

    std::atomic<bool> go{true};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t, cycle] {
        HttpClient client(port);
        std::string user = "crash_user_" + std::to_string(t);
        for (int i = 0; go; ++i) {
          std::string message = "c" + std::to_string(cycle) + "-t" + std::to_string(t) + "-" +
                                std::to_string(i);
          HttpResponse r = client.Post("/api/save_interaction", SaveBody(message, "crash"), As(user));
          if (r.status != 201) break;  // killed mid-request: not acknowledged, not checked
          std::string_view id = r.Json()["interaction_id"].get_string().value();
          std::lock_guard<std::mutex> lock(mu);
          acked.push_back({user, std::string(id), message});
        }
      });
    }
    writers.emplace_back([&] {
      HttpClient client(port);
      while (go) {
        HttpResponse r = client.Post("/api/tool_call_handler", "{\"message\":\"add one\"}", As("crash_agent"));
        if (r.status != 200) break;
        std::string_view entry = r.Json()["tool_calls"].at(0)["result"]["entry_id"].get_string().value();
        std::lock_guard<std::mutex> lock(mu);
        acked_entries.push_back({"crash_agent", std::string(entry)});
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    server.Kill();
    go = false;
    for (auto& w : writers) w.join();
    if (TestingPostgres()) {
      ExpireIdSlots(config.data_dir);
    } else {
      ASSERT_EQ(IntegrityCheck(config.data_dir + "/omniflow.db"), "ok") << "cycle " << cycle;
    }
  }

  // Final check, including counts: total equals what was acknowledged (nothing un-acked can be
  // missing from the count either way, so total >= acked per user).
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  HttpClient client(server.port());
  std::map<std::string, int64_t> per_user;
  std::set<std::string> acked_ids;
  for (const Acked& a : acked) {
    ASSERT_TRUE(acked_ids.insert(a.id).second) << "id acknowledged twice: " << a.id;
    HttpResponse r = client.Get("/api/interactions/" + a.id, As(a.user));
    ASSERT_EQ(r.status, 200) << a.id;
    std::string_view msg = r.Json()["interaction"]["user_message"].get_string().value();
    ASSERT_EQ(msg, a.message) << a.id;
    ++per_user[a.user];
    ++checked;
  }
  // Each user's whole history, walked by cursor: no id twice, the total what was listed, and
  // every acknowledged save in it.
  for (const auto& [user, n] : per_user) {
    std::set<std::string> listed;
    int64_t total = -1;
    std::string cursor;
    for (int page = 0; page < 10000; ++page) {
      HttpResponse r = client.Get("/api/get_interaction_history?limit=1000" +
                                      (cursor.empty() ? "" : "&cursor=" + cursor),
                                  As(user));
      ASSERT_EQ(r.status, 200) << r.body;
      total = IntAt(r.Json(), "total");
      for (auto item : Items(r.Json())) {
        std::string id(item["interaction_id"].get_string().value());
        ASSERT_TRUE(listed.insert(id).second) << user << ": id listed twice: " << id;
      }
      std::string_view next;
      if (r.Json()["next_cursor"].get(next) != simdjson::SUCCESS) break;
      cursor = std::string(next);
    }
    EXPECT_EQ(static_cast<int64_t>(listed.size()), total) << user;
    for (const Acked& a : acked) {
      if (a.user == user) {
        ASSERT_TRUE(listed.count(a.id)) << user << " history lacks " << a.id;
      }
    }
  }
  // Every entry a data tool wrote during an answered message is there.
  {
    HttpResponse r = client.Get("/api/get_data?target_blob_name=crash.json", As("crash_agent"));
    ASSERT_EQ(r.status, 200);
    std::set<std::string> stored;
    for (auto e : Items(r.Json(), "entries")) stored.emplace(e["entry_id"].get_string().value());
    for (const AckedEntry& e : acked_entries) {
      ASSERT_TRUE(stored.count(e.entry_id)) << "lost data-tool entry " << e.entry_id;
      ++checked;
    }
  }
  for (const auto& [user, n] : per_user) {
    HttpResponse r = client.Get("/api/get_interaction_history?limit=1", As(user));
    int64_t total = 0;
    total = IntAt(r.Json(), "total");
    EXPECT_GE(total, n) << user;
  }
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_GT(acked.size(), static_cast<size_t>(cycles));
  EXPECT_GT(acked_entries.size(), 0u);
  std::printf("kill cycles: %d, acknowledged saves: %zu, acknowledged data-tool entries: %zu, "
              "checks of acknowledged writes: %llu\n",
              cycles, acked.size(), acked_entries.size(), static_cast<unsigned long long>(checked));
}

}  // namespace
}  // namespace omniflow::testing
