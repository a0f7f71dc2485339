// Erasure under fire, over real sockets against the real binary, on SQLite and (pg. pass) on
// PostgreSQL (issue 13):
// - ErasureRace: users are erased while client threads save continuously for them and for other
//   users. Other users lose nothing; a save of the erased user acknowledged before the erasure
//   was sent never survives it; one sent after the erasure's 200 always does; each receipt
//   names exactly what went (its digest, and every count).
// - ErasureCrash: the server is killed with SIGKILL at random moments of an erasure of a user
//   with thousands of interactions, and restarted: the user's data is then all there or all
//   gone, never half (history and its total, search, stats, threads, data documents, feedback),
//   other users' acknowledged saves are intact, and an erasure completed after the restart
//   leaves nothing (on SQLite not even the text in any file of the data dir).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "core/ids.h"
#include "lifecycle/receipt.h"
#include "support/crash_checks.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kAdmin[] = "erasure-race-admin-key-0123456789";

Headers Admin() { return {{"x-functions-key", kAdmin}}; }
Headers AdminAs(const std::string& user) { return {{"x-functions-key", kAdmin}, {"X-User-Id", user}}; }

ServerConfig Config(const std::string& data_dir = "") {
  ServerConfig config;
  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin}};
  config.data_dir = data_dir;
  return config;
}

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

using Clock_ = std::chrono::steady_clock;

// A save body with `tools` tool calls (the second one failing).
std::string Body(const std::string& message, const std::string& thread, int tools) {
  std::string body = "{\"user_message\":\"" + message + "\",\"assistant_response\":\"re " +
                     message + "\",\"thread_id\":\"" + thread + "\"";
  if (tools > 0) {
    body += ",\"tool_calls\":[";
    for (int i = 0; i < tools; ++i) {
      if (i) body += ",";
      body += "{\"tool_name\":\"tool" + std::to_string(i) + "\",\"arguments\":{\"i\":" +
              std::to_string(i) + "},\"result\":{\"ok\":true}" +
              (i == 1 ? ",\"status\":\"error\"" : "") + "}";
    }
    body += "]";
  }
  return body + "}";
}

// Every interaction of `user` by walking the history with cursors: id -> user_message. Fails the
// test when an id is listed twice or `total` disagrees with what was listed.
std::map<std::string, std::string> WalkHistory(HttpClient& c, const std::string& user) {
  std::map<std::string, std::string> listed;
  int64_t total = -1;
  std::string cursor;
  for (int page = 0; page < 100000; ++page) {
    HttpResponse r = c.Get("/api/get_interaction_history?limit=1000" +
                               (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)),
                           AdminAs(user));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    if (page == 0) total = IntAt(r.Json(), "total");
    for (auto item : Items(r.Json())) {
      std::string id(item["interaction_id"].get_string().value());
      std::string message(item["user_message"].get_string().value());
      EXPECT_TRUE(listed.emplace(id, message).second) << user << ": listed twice: " << id;
    }
    std::string_view next;
    if (r.Json()["next_cursor"].get(next) != simdjson::SUCCESS) break;
    cursor = std::string(next);
  }
  EXPECT_EQ(total, static_cast<int64_t>(listed.size())) << user << ": total vs listed";
  return listed;
}

// How many interactions of `user` a search for `q` finds, walking every page.
int64_t SearchCount(HttpClient& c, const std::string& user, const std::string& q) {
  int64_t n = 0;
  std::string cursor;
  for (int page = 0; page < 10000; ++page) {
    HttpResponse r = c.Get("/api/search?limit=200&user_id=" + user + "&q=" + UrlEncode(q) +
                               (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)),
                           Admin());
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return -1;
    n += static_cast<int64_t>(Items(r.Json()).size());
    std::string_view next;
    if (r.Json()["next_cursor"].get(next) != simdjson::SUCCESS) break;
    cursor = std::string(next);
  }
  return n;
}

// What the analytics say about one user.
struct Analytics {
  int64_t stats_interactions = -1;   // /api/stats totals.interactions
  int64_t thread_total = -1;         // /api/threads total
  int64_t thread_interactions = -1;  // the sum of the threads' interaction counts
};

Analytics AnalyticsOf(HttpClient& c, const std::string& user) {
  Analytics a;
  HttpResponse r = c.Get("/api/stats?user_id=" + user, Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status == 200) a.stats_interactions = IntAt(r.Json()["totals"], "interactions");
  r = c.Get("/api/threads?limit=1000&user_id=" + user, Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status == 200) {
    a.thread_total = IntAt(r.Json(), "total");
    a.thread_interactions = 0;
    for (auto t : Items(r.Json(), "threads")) a.thread_interactions += IntAt(t, "interactions");
  }
  return a;
}

HttpResponse Erase(HttpClient& c, const std::string& user) {
  return c.Request("DELETE", "/api/users/" + user, Admin());
}

// ---- Erasure racing saves --------------------------------------------------------------------

// One save as its client saw it. `done_at_send`: erasures answered before it was sent;
// `sent_at_ack`: erasures sent before its answer arrived.
struct Save {
  std::string user, id, message, thread;
  int tools = 0;
  int done_at_send = 0;
  int sent_at_ack = 0;
  int erased_by = 0;  // victim only: the erasure that removed it (0: none)
};

TEST(ErasureRace, ConcurrentSavesOfTheUserAndOthersKeepExactlyWhatTheyMust) {
  RunningServer s(Config());
  ASSERT_TRUE(s.started);
  const uint16_t port = s.server->port();
  const std::string victim = "victim";
  constexpr int kVictimThreads = 3;
  constexpr int kOtherThreads = 3;
  constexpr int kThreads = kVictimThreads + kOtherThreads;
  constexpr int kRounds = 3;
  constexpr int kFeedbackPerRound = 5;
  constexpr int kEntriesPerRound = 3;

  std::atomic<int> erasures_sent{0}, erasures_done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<Save> saves;                   // guarded by mu
  std::vector<std::string> failures;         // guarded by mu
  std::atomic<int> done_seen[kThreads];      // done_at_send of each thread's last answered save
  for (auto& d : done_seen) d = 0;

  std::vector<std::thread> savers;
  // Stops and joins the savers however the test ends (a failed ASSERT returns early).
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, savers};
  for (int t = 0; t < kThreads; ++t) {
    savers.emplace_back([&, t] {
      HttpClient client(port);
      const bool is_victim = t < kVictimThreads;
      const std::string user = is_victim ? victim : "other_" + std::to_string(t);
      for (int i = 0; !stop; ++i) {
        Save save;
        save.user = user;
        save.message = (is_victim ? "VMARK v" : "OMARK o") + std::to_string(t) + "-" +
                       std::to_string(i);
        save.thread = (is_victim ? "vt" : "ot") + std::to_string(t) + "_" + std::to_string(i % 4);
        save.tools = i % 3;
        save.done_at_send = erasures_done.load();
        HttpResponse r = client.Post("/api/save_interaction",
                                     Body(save.message, save.thread, save.tools), AdminAs(user));
        save.sent_at_ack = erasures_sent.load();
        std::lock_guard<std::mutex> lock(mu);
        if (r.status != 201) {
          failures.push_back(save.message + ": " + std::to_string(r.status) + " " + r.body);
          done_seen[t] = save.done_at_send;
          continue;
        }
        save.id = Str(r.Json(), "interaction_id");
        saves.push_back(std::move(save));
        done_seen[t] = saves.back().done_at_send;
      }
    });
  }

  HttpClient admin(port);
  std::map<int, std::string> receipts;
  for (int k = 1; k <= kRounds; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    // Feedback on interactions of the victim that are surely there (answered after the last
    // erasure was answered), and entries in a data document: this erasure must count them.
    std::vector<std::string> rated;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const Save& save : saves) {
        if (save.user == victim && save.done_at_send == k - 1 && save.erased_by == 0 &&
            rated.size() < kFeedbackPerRound) {
          rated.push_back(save.id);
        }
      }
    }
    ASSERT_EQ(rated.size(), static_cast<size_t>(kFeedbackPerRound)) << "round " << k;
    for (const std::string& id : rated) {
      HttpResponse r = admin.Post("/api/interactions/" + id + "/feedback", R"({"score":1})", Admin());
      ASSERT_EQ(r.status, 200) << r.body;
    }
    for (int e = 0; e < kEntriesPerRound; ++e) {
      HttpResponse r = admin.Post("/api/add_new_data",
                                  R"({"target_blob_name":"race.json","new_entry":{"n":1}})",
                                  AdminAs(victim));
      ASSERT_EQ(r.status, 200) << r.body;
    }

    erasures_sent = k;
    const Clock_::time_point sent = Clock_::now();
    HttpResponse r = Erase(admin, victim);
    erasures_done = k;
    ASSERT_EQ(r.status, 200) << "round " << k << ": " << r.body;
    std::printf("erasure %d answered in %.0f ms\n", k,
                std::chrono::duration<double, std::milli>(Clock_::now() - sent).count());
    receipts[k] = r.body;

    // Every save sent before this answer has been answered once each thread has answered one
    // sent after it.
    const Clock_::time_point deadline = Clock_::now() + std::chrono::seconds(30);
    for (auto& d : done_seen) {
      while (d.load() < k) {
        ASSERT_LT(Clock_::now(), deadline) << "a saver is stuck";
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    // Which victim saves this erasure took: those answered before it was sent (that an
    // earlier one did not take), and of those it overlapped, the ones no longer there.
    std::vector<std::string> erased;
    int64_t tool_calls = 0;
    std::set<std::string> threads;
    std::vector<std::pair<size_t, std::string>> overlapped;  // index in `saves`, id
    {
      std::lock_guard<std::mutex> lock(mu);
      for (size_t i = 0; i < saves.size(); ++i) {
        Save& save = saves[i];
        if (save.user != victim || save.erased_by != 0) continue;
        if (save.sent_at_ack < k) {
          save.erased_by = k;
        } else if (save.done_at_send < k) {
          overlapped.emplace_back(i, save.id);
        }
      }
    }
    int kept_overlapping = 0;
    for (const auto& [index, id] : overlapped) {
      HttpResponse by_id = admin.Get("/api/interactions/" + id, AdminAs(victim));
      ASSERT_TRUE(by_id.status == 200 || by_id.status == 404) << by_id.body;
      std::lock_guard<std::mutex> lock(mu);
      if (by_id.status == 404) {
        saves[index].erased_by = k;
      } else {
        ++kept_overlapping;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const Save& save : saves) {
        if (save.erased_by != k) continue;
        erased.push_back(save.id);
        tool_calls += save.tools;
        threads.insert(save.thread);
      }
    }
    std::printf("erasure %d: %zu erased, %zu overlapping saves of which %d kept\n", k,
                erased.size(), overlapped.size(), kept_overlapping);
    simdjson::dom::element receipt = r.Json()["receipt"];
    simdjson::dom::element counts = receipt["counts"];
    EXPECT_EQ(IntAt(counts, "interactions"), static_cast<int64_t>(erased.size())) << r.body;
    EXPECT_EQ(Str(receipt, "digest"), lifecycle::InteractionDigest(erased))
        << "round " << k << ": the receipt names other interactions than those gone";
    EXPECT_EQ(IntAt(counts, "tool_calls"), tool_calls) << r.body;
    EXPECT_EQ(IntAt(counts, "threads"), static_cast<int64_t>(threads.size())) << r.body;
    EXPECT_EQ(IntAt(counts, "feedback"), kFeedbackPerRound) << r.body;
    EXPECT_EQ(IntAt(counts, "data_documents"), 1) << r.body;
    EXPECT_EQ(IntAt(counts, "data_entries"), kEntriesPerRound) << r.body;
    EXPECT_EQ(IntAt(counts, "spooled"), 0) << r.body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : savers) t.join();

  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(failures.empty()) << failures.size() << " saves not answered 201, first: "
                                  << failures.front();
  }
  // Every save is where it must be, with its content; nothing else is.
  std::map<std::string, std::map<std::string, std::string>> expected;  // user -> id -> message
  size_t victim_after_last = 0;
  for (const Save& save : saves) {
    if (save.erased_by == 0) expected[save.user][save.id] = save.message;
    if (save.user == victim && save.done_at_send == kRounds) ++victim_after_last;
  }
  EXPECT_GT(victim_after_last, 0u) << "no victim save was sent after the last erasure";
  for (int t = kVictimThreads; t < kThreads; ++t) {
    const std::string user = "other_" + std::to_string(t);
    EXPECT_GT(expected[user].size(), 0u) << user;
  }
  for (const auto& [user, want] : expected) {
    std::map<std::string, std::string> listed = WalkHistory(admin, user);
    for (const auto& [id, message] : want) {
      auto it = listed.find(id);
      ASSERT_NE(it, listed.end()) << user << " lost acknowledged " << id << " (" << message << ")";
      EXPECT_EQ(it->second, message) << user << " " << id;
    }
    for (const auto& [id, message] : listed) {
      EXPECT_TRUE(want.count(id)) << user << " holds " << id << " (" << message
                                  << "), erased or never acknowledged";
    }
    const int64_t n = static_cast<int64_t>(want.size());
    Analytics a = AnalyticsOf(admin, user);
    EXPECT_EQ(a.stats_interactions, n) << user << ": stats";
    EXPECT_EQ(a.thread_interactions, n) << user << ": threads";
    std::set<std::string> threads;
    for (const Save& save : saves) {
      if (save.user == user && save.erased_by == 0) threads.insert(save.thread);
    }
    EXPECT_EQ(a.thread_total, static_cast<int64_t>(threads.size())) << user << ": thread count";
    EXPECT_EQ(SearchCount(admin, user, user == victim ? "VMARK" : "OMARK"), n) << user << ": search";
  }
  // The last erasure took the data document with it.
  HttpResponse r = admin.Get("/api/list_data", AdminAs(victim));
  EXPECT_EQ(r.body.find("race.json"), std::string::npos) << r.body;
  std::printf("saves: %zu acknowledged; victim: %zu kept after %d erasures, %zu sent after the last\n",
              saves.size(), expected[victim].size(), kRounds, victim_after_last);
}

// ---- Erasure killed midway -------------------------------------------------------------------

// The victim's data: interactions imported from a file (the same ids each time), some rated,
// and a data document.
struct VictimData {
  std::string file;
  int64_t interactions = 0;
  int64_t threads = 0;
};

VictimData WriteVictimFile(const std::string& path, int count) {
  VictimData v;
  v.file = path;
  std::ofstream out(path);
  const int64_t start = Clock::Real()->NowMicros() - 3'600'000'000;  // an hour ago
  constexpr int kPerThread = 50;
  for (int i = 0; i < count; ++i) {
    out << "{\"user_id\":\"victim\",\"timestamp\":\"" << FormatTimestamp(start + i * 1000)
        << "\",\"thread_id\":\"vt" << i / kPerThread << "\",\"user_message\":\"VICTIMTEXT "
        << i << "\",\"assistant_response\":\"re VICTIMTEXT " << i
        << "\",\"tool_calls\":[{\"tool_name\":\"get_data\",\"arguments\":{\"i\":" << i
        << "},\"result\":{\"ok\":true}}]}\n";
  }
  v.interactions = count;
  v.threads = (count + kPerThread - 1) / kPerThread;
  return v;
}

// The victim as the API shows it.
struct VictimState {
  int64_t history = -1, search = -1;
  Analytics analytics;
  int64_t rated = -1;  // interactions with feedback (search feedback=with)
  bool has_document = false;
};

VictimState ReadVictim(HttpClient& c) {
  VictimState s;
  s.history = static_cast<int64_t>(WalkHistory(c, "victim").size());
  s.search = SearchCount(c, "victim", "VICTIMTEXT");
  s.analytics = AnalyticsOf(c, "victim");
  HttpResponse r = c.Get("/api/search?limit=200&feedback=with&user_id=victim", Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  s.rated = static_cast<int64_t>(Items(r.Json()).size());
  r = c.Get("/api/list_data", AdminAs("victim"));
  EXPECT_EQ(r.status, 200) << r.body;
  s.has_document = r.body.find("crash.json") != std::string::npos;
  return s;
}

std::string Describe(const VictimState& s) {
  return "history " + std::to_string(s.history) + ", search " + std::to_string(s.search) +
         ", stats " + std::to_string(s.analytics.stats_interactions) + ", threads " +
         std::to_string(s.analytics.thread_total) + " holding " +
         std::to_string(s.analytics.thread_interactions) + ", rated " + std::to_string(s.rated) +
         ", document " + (s.has_document ? "yes" : "no");
}

constexpr int kRated = 7;

bool IsAll(const VictimState& s, const VictimData& v) {
  return s.history == v.interactions && s.search == v.interactions &&
         s.analytics.stats_interactions == v.interactions &&
         s.analytics.thread_total == v.threads &&
         s.analytics.thread_interactions == v.interactions && s.rated == kRated && s.has_document;
}

bool IsNone(const VictimState& s) {
  return s.history == 0 && s.search == 0 && s.analytics.stats_interactions == 0 &&
         s.analytics.thread_total == 0 && s.analytics.thread_interactions == 0 && s.rated == 0 &&
         !s.has_document;
}

// Imports the victim's interactions (with the server stopped).
void Reseed(const VictimData& v, const std::string& data_dir) {
  std::string output;
  ASSERT_EQ(ServerProcess::RunCommand({"import", v.file, "--data-dir", data_dir}, {}, &output), 0)
      << output;
}

// Rates the victim's newest kRated interactions and gives the victim a data document.
void RateAndDocument(HttpClient& c) {
  HttpResponse r = c.Get("/api/get_interaction_history?limit=" + std::to_string(kRated),
                         AdminAs("victim"));
  ASSERT_EQ(r.status, 200) << r.body;
  for (auto item : Items(r.Json())) {
    std::string id(item["interaction_id"].get_string().value());
    HttpResponse f = c.Post("/api/interactions/" + id + "/feedback", R"({"score":-1})", Admin());
    ASSERT_EQ(f.status, 200) << f.body;
  }
  r = c.Post("/api/add_new_data", R"({"target_blob_name":"crash.json","new_entry":{"k":1}})",
             AdminAs("victim"));
  ASSERT_EQ(r.status, 200) << r.body;
}

// Whether any file under `dir` holds `needle`.
std::string FileHolding(const std::string& dir, const std::string& needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return entry.path().string();
  }
  return "";
}

int CrashCycles() {
  const char* env = std::getenv("OMNIFLOW_ERASURE_KILL_CYCLES");
  int n = env ? std::atoi(env) : 10;
  return n > 0 ? n : 10;
}

TEST(ErasureCrash, KilledMidwayTheUserIsAllThereOrAllGoneAndAFinalErasureLeavesNothing) {
  TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  const VictimData victim = WriteVictimFile(dir.path() + "/victim.jsonl", 5000);
  ServerProcess server(Config(data_dir));
  std::mt19937 rng(20261201);
  struct Acked {
    std::string id, message;
  };
  std::vector<Acked> acked;  // the bystander's acknowledged saves
  std::mutex mu;
  const int cycles = CrashCycles();
  int all = 0, none = 0, answered = 0;
  double erase_ms = 0;  // how long a whole erasure took (the first cycle measures it)
  bool present = false;  // the victim's data is in the store

  auto start = [&](int cycle) {
    std::string error;
    ASSERT_TRUE(server.Start(&error)) << "cycle " << cycle << ": " << error;
  };
  for (int cycle = 0; cycle < cycles; ++cycle) {
    if (!present) {
      Reseed(victim, data_dir);
      ASSERT_NO_FATAL_FAILURE(start(cycle));
      HttpClient c(server.port());
      ASSERT_NO_FATAL_FAILURE(RateAndDocument(c));
      VictimState seeded = ReadVictim(c);
      ASSERT_TRUE(IsAll(seeded, victim)) << "cycle " << cycle << ", seeded: " << Describe(seeded);
      present = true;
    } else {
      ASSERT_NO_FATAL_FAILURE(start(cycle));
    }
    const uint16_t port = server.port();

    // A bystander saves throughout; the erasure runs on a connection of its own.
    std::atomic<bool> go{true};
    std::thread bystander([&, cycle] {
      HttpClient client(port);
      for (int i = 0; go; ++i) {
        const std::string message = "bystander c" + std::to_string(cycle) + "-" + std::to_string(i);
        HttpResponse r = client.Post("/api/save_interaction", SaveBody(message, "b"),
                                     AdminAs("bystander"));
        if (r.status != 201) break;  // killed mid-request: not acknowledged, not checked
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back({Str(r.Json(), "interaction_id"), message});
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the bystander under way
    std::atomic<int> status{-1};
    const Clock_::time_point sent = Clock_::now();
    std::thread eraser([&] {
      HttpClient client(port);
      status = Erase(client, "victim").status;
    });
    if (cycle == 0) {
      eraser.join();
      erase_ms = std::chrono::duration<double, std::milli>(Clock_::now() - sent).count();
      std::printf("a whole erasure of %lld interactions: %.0f ms\n",
                  static_cast<long long>(victim.interactions), erase_ms);
      server.Kill();
    } else {
      // Anywhere from before the request is read to about when the answer comes: the
      // quickest erasure seen so far sets the range.
      const double delay = std::uniform_real_distribution<double>(0, erase_ms)(rng);
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(delay));
      server.Kill();
      eraser.join();
      if (status == 200) {
        erase_ms = std::min(
            erase_ms, std::chrono::duration<double, std::milli>(Clock_::now() - sent).count());
      }
    }
    go = false;
    bystander.join();
    if (cycle == 0) {
      ASSERT_EQ(status.load(), 200) << "the uninterrupted erasure failed";
    }
    if (TestingPostgres()) {
      // The killed server's transactions, its erasure's included, finish or roll back in
      // PostgreSQL on their own; read the user's data once they have.
      ASSERT_NO_FATAL_FAILURE(WaitForOtherSessionsToEnd(data_dir));
      ASSERT_NO_FATAL_FAILURE(ExpireIdSlots(data_dir));
    } else {
      ASSERT_EQ(IntegrityCheck(data_dir + "/omniflow.db"), "ok") << "cycle " << cycle;
    }

    ASSERT_NO_FATAL_FAILURE(start(cycle));
    HttpClient c(server.port());
    VictimState after = ReadVictim(c);
    const bool is_all = IsAll(after, victim), is_none = IsNone(after);
    ASSERT_TRUE(is_all || is_none) << "cycle " << cycle << ": half erased: " << Describe(after);
    if (status == 200) {
      ++answered;
      ASSERT_TRUE(is_none) << "cycle " << cycle << ": answered 200 but " << Describe(after);
    }
    is_all ? ++all : ++none;
    present = is_all;
    EXPECT_EQ(server.Stop(), 0);
  }

  // Erased to the end on a server that lives: nothing is left, and it stays so after a restart.
  ASSERT_NO_FATAL_FAILURE(start(cycles));
  {
    HttpClient c(server.port());
    HttpResponse r = Erase(c, "victim");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), present ? victim.interactions : 0)
        << r.body;
    VictimState after = ReadVictim(c);
    EXPECT_TRUE(IsNone(after)) << Describe(after);
  }
  EXPECT_EQ(server.Stop(), 0);
  if (!TestingPostgres()) {
    EXPECT_EQ(FileHolding(data_dir, "VICTIMTEXT"), "") << "erased text left in this file";
  }
  ASSERT_NO_FATAL_FAILURE(start(cycles + 1));
  HttpClient c(server.port());
  VictimState after = ReadVictim(c);
  EXPECT_TRUE(IsNone(after)) << "after a restart: " << Describe(after);
  // The bystander lost nothing.
  std::map<std::string, std::string> listed = WalkHistory(c, "bystander");
  for (const Acked& a : acked) {
    auto it = listed.find(a.id);
    ASSERT_NE(it, listed.end()) << "bystander lost acknowledged " << a.id;
    EXPECT_EQ(it->second, a.message);
  }
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_GT(cycles - answered, 0) << "no kill landed before the erasure's answer";
  EXPECT_GT(acked.size(), 0u);
  std::printf("erasure kill cycles: %d (%d answered 200 before the kill); afterwards all there: "
              "%d, all gone: %d; bystander saves acknowledged: %zu\n",
              cycles, answered, all, none, acked.size());
}

}  // namespace
}  // namespace omniflow::testing
