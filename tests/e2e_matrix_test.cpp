// The isolation matrix, generated from the route table: every route (and its proxy_router form)
// x every kind of credential x the victim's own user and another user. A new route in the table
// is covered here without anyone remembering to add it. The oracle: with the victim's own
// credentials the victim's data is reachable (so the check can fire), and with every other
// credential no answer carries the victim's secret marker or user id, and at the end the
// victim's interactions, feedback and documents are exactly as they were.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "api/route_table.h"
#include "auth/jwt.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "matrix-secret-0123456789abcdef";
constexpr char kAdmin[] = "matrix-admin-key-0123456789";
constexpr char kMarker[] = "VICTIM-MARKER-7f3a";
constexpr char kVictim[] = "victim_alice";
constexpr char kOther[] = "mallory";

std::string Token(const std::string& sub, const std::string& secret = kSecret, int64_t ttl = 600) {
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + ttl) + "}", secret);
}

std::string KeyOf(std::string_view function) { return "key-" + std::string(function); }

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

struct Credential {
  std::string name;
  Headers headers;
};

// Every kind of credential an attacker (user `kOther`) might present for `route`.
std::vector<Credential> AttackerCredentials(const api::Route& route) {
  const std::string other_function = route.function == "search" ? "stats" : "search";
  return {
      {"nothing, naming the victim", {{"X-User-Id", kVictim}}},
      {"nothing at all", {}},
      {"own token", {{"Authorization", "Bearer " + Token(kOther)}}},
      {"own token naming the victim",
       {{"Authorization", "Bearer " + Token(kOther)}, {"X-User-Id", kVictim}}},
      {"victim token forged with another secret",
       {{"Authorization", "Bearer " + Token(kVictim, "not-the-secret-0123456789")}}},
      {"victim token expired", {{"Authorization", "Bearer " + Token(kVictim, kSecret, -60)}}},
      {"own function key",
       {{"x-functions-key", KeyOf(route.function)}, {"X-User-Id", kOther}}},
      {"another function's key naming the victim",
       {{"x-functions-key", KeyOf(other_function)}, {"X-User-Id", kVictim}}},
      {"wrong key naming the victim", {{"x-functions-key", "guess"}, {"X-User-Id", kVictim}}},
  };
}

struct Victim {
  std::string interaction_id;
  std::string entry_id;
};

struct Probe {
  std::string method, target, body;
};

// The requests that would touch the victim's data through `route` (at `pattern`, the route's
// own path or its proxy_router form).
std::vector<Probe> ProbesFor(const api::Route& route, const std::string& pattern, const Victim& v) {
  std::string path = pattern;
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"{interaction_id}", v.interaction_id}, {"{thread_id}", "vt"}, {"{user_id}", kVictim},
           {"{replay_id}", "rp_000000000000000000000000"}, {"{deployment}", "dep1"},
           {"*", "index.js"}}) {
    if (size_t at = path.find(from); at != std::string::npos) path.replace(at, from.size(), to);
  }
  std::string body;
  if (route.handler == nullptr) return {};
  const std::string fn(route.function);
  if (fn == "save_interaction") body = SaveBody("mallory writes", "vt");
  if (fn == "feedback") body = R"({"score":-1,"comment":"mallory"})";
  if (fn == "tool_call_handler") body = std::string(R"({"message":"show data","user_id":")") + kVictim + "\"}";
  if (fn == "capture") {
    body = std::string(R"({"model":"m","messages":[{"role":"user","content":"show data"}],"user":")") +
           kVictim + "\"}";
  }
  if (fn == "add_new_data") body = R"({"target_blob_name":"vict.json","new_entry":{"x":"mallory"}})";
  if (fn == "update_data") {
    body = R"({"target_blob_name":"vict.json","entry_id":")" + v.entry_id + R"(","updates":{"x":"mallory"}})";
  }
  if (fn == "otlp") {
    // An OTLP/JSON export whose span names the victim as its user.
    body = std::string(R"({"resourceSpans":[{"resource":{"attributes":[{"key":"user.id","value":{"stringValue":")") +
           kVictim + R"("}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",)"
           R"("spanId":"b7ad6b7169203331","startTimeUnixNano":"1764547200000000000","attributes":[)"
           R"({"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},)"
           R"({"key":"gen_ai.prompt","value":{"stringValue":"mallory writes"}}]}]}]}]})";
  }
  if (fn == "delete_data") body = R"({"target_blob_name":"vict.json","entry_id":")" + v.entry_id + "\"}";
  if (route.pattern.ends_with("/retention") && route.method == "PUT") body = R"({"days":1})";
  if (route.pattern.ends_with("/hold") && route.method == "PUT") body = R"({"reason":"mallory"})";
  if (route.pattern == "/api/retention/run") body = "{}";
  const std::string method(route.method);
  return {{method, path, body},
          {method, path + "?user_id=" + kVictim + "&target_blob_name=vict.json&q=VICTIM&thread_id=vt", body}};
}

// Alice's state, as the admin key sees it: her interactions, feedback and document, her
// retention policy and the legal holds.
std::string VictimState(HttpClient& c) {
  Headers admin = {{"x-functions-key", kAdmin}, {"X-User-Id", kVictim}};
  std::string state = c.Get("/api/get_interaction_history", admin).body;
  state += c.Get("/api/get_data?target_blob_name=vict.json", admin).body;
  state += c.Get("/api/search?user_id=" + std::string(kVictim) + "&feedback=with", admin).body;
  state += c.Get("/api/users/" + std::string(kVictim) + "/retention", admin).body;
  state += c.Get("/api/holds", admin).body;
  return state;
}

// The credential that legitimately reaches `route` for the victim: the admin key for operators'
// routes, else the victim's own token.
Headers LegitimateCredential(const api::Route& route) {
  if (route.access == api::Access::kAdmin || route.access == api::Access::kMetrics) {
    return {{"x-functions-key", kAdmin}};
  }
  return {{"Authorization", "Bearer " + Token(kVictim)}};
}

class IsolationMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    for (std::string_view function : api::FunctionNames()) {
      config.env.emplace_back("FUNCTION_CODE_" + Upper(function), KeyOf(function));
    }
    config.env.emplace_back("OMNIFLOW_JWT_SECRET", kSecret);
    config.env.emplace_back("OMNIFLOW_ADMIN_KEY", kAdmin);
    // OTLP spans become interactions 100 ms after their trace's last one: within the test.
    config.env.emplace_back("OMNIFLOW_OTLP_QUIET_MS", "100");
    server_ = std::make_unique<RunningServer>(config);
    ASSERT_TRUE(server_->started);
    HttpClient& c = *server_->client;
    Headers victim = {{"Authorization", "Bearer " + Token(kVictim)}};
    HttpResponse saved = c.Post("/api/save_interaction",
                                SaveBody(std::string("victim ") + kMarker, "vt"), victim);
    ASSERT_EQ(saved.status, 201) << saved.body;
    victim_.interaction_id = std::string(saved.Json()["interaction_id"].get_string().value());
    HttpResponse added = c.Post("/api/add_new_data",
                                std::string(R"({"target_blob_name":"vict.json","new_entry":{"note":")") +
                                    kMarker + "\"}}",
                                victim);
    ASSERT_EQ(added.status, 200) << added.body;
    std::string_view entry;
    ASSERT_EQ(added.Json()["entry_id"].get(entry), simdjson::SUCCESS) << added.body;
    victim_.entry_id = std::string(entry);
  }

  std::unique_ptr<RunningServer> server_;
  Victim victim_;
};

TEST_F(IsolationMatrix, EveryRouteEveryCredentialNeverReachesAnotherUsersData) {
  HttpClient& c = *server_->client;
  ASSERT_NE(VictimState(c).find(kMarker), std::string::npos)
      << "the victim's data must be visible to the oracle";
  int probes = 0;
  int own_reads_with_marker = 0;
  // The victim erasing herself succeeds, and is done last, after every attack on her data.
  std::vector<Probe> own_erasures;
  for (const api::Route& route : api::Routes()) {
    for (const std::string& pattern : {std::string(route.pattern), api::ProxyPattern(route)}) {
      if (pattern.empty()) continue;
      for (const Probe& probe : ProbesFor(route, pattern, victim_)) {
        for (const Credential& credential : AttackerCredentials(route)) {
          HttpResponse r = c.Request(probe.method, probe.target, credential.headers, probe.body);
          ++probes;
          const std::string where = probe.method + " " + probe.target + " with " + credential.name;
          EXPECT_NE(r.status, 0) << where;
          EXPECT_LT(r.status, 500) << where << ": " << r.body;
          // Case-insensitive: the statistics show messages folded to lower case.
          EXPECT_EQ(Lower(r.body).find(Lower(kMarker)), std::string::npos) << where << ": " << r.body;
          EXPECT_EQ(r.body.find(std::string("\"user_id\":\"") + kVictim + "\""), std::string::npos)
              << where << ": " << r.body;
          if (route.access != api::Access::kPublic &&
              credential.name.find("own") == std::string::npos) {
            // Nothing but the credential kinds of the attacker's own user may get past auth.
            EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 403) << where << ": " << r.status;
          }
        }
        // The victim's own token (the admin key for operators' routes) reaches the route (so a
        // leak would have shown above).
        if (route.access == api::Access::kPublic) continue;
        if (route.access == api::Access::kSubject) {
          own_erasures.push_back(probe);
          continue;
        }
        HttpResponse own = c.Request(probe.method, probe.target, LegitimateCredential(route),
                                     probe.method == "GET" ? "" : probe.body);
        EXPECT_NE(own.status, 401) << probe.target;
        EXPECT_NE(own.status, 403) << probe.target;
        if (own.body.find(kMarker) != std::string::npos) ++own_reads_with_marker;
      }
    }
  }
  EXPECT_GT(probes, 400);
  // get_interaction, history (and their router forms), search, threads/{id}, get_data.
  EXPECT_GE(own_reads_with_marker, 8);
  ASSERT_FALSE(own_erasures.empty());
  ASSERT_NE(VictimState(c).find(kMarker), std::string::npos) << "no attack may have erased her";
  for (const Probe& probe : own_erasures) {
    HttpResponse own = c.Request(probe.method, probe.target,
                                 {{"Authorization", "Bearer " + Token(kVictim)}}, probe.body);
    EXPECT_EQ(own.status, 200) << probe.target << ": " << own.body;
  }
  EXPECT_EQ(VictimState(c).find(kMarker), std::string::npos) << "her own erasure must work";
}

TEST_F(IsolationMatrix, AttacksAloneLeaveTheVictimsStateUnchanged) {
  HttpClient& c = *server_->client;
  const std::string before = VictimState(c);
  for (const api::Route& route : api::Routes()) {
    for (const std::string& pattern : {std::string(route.pattern), api::ProxyPattern(route)}) {
      if (pattern.empty()) continue;
      for (const Probe& probe : ProbesFor(route, pattern, victim_)) {
        for (const Credential& credential : AttackerCredentials(route)) {
          c.Request(probe.method, probe.target, credential.headers, probe.body);
        }
      }
    }
  }
  // What was accepted for later (OTLP spans held until their trace is quiet) has been written.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(VictimState(c), before);
}

}  // namespace
}  // namespace omniflow::testing

namespace omniflow::testing {
namespace {

// docs/security.md holds the route table exactly as the binary prints it.
TEST(RouteTableDocs, SecurityMdMatchesOmniflowRoutes) {
  std::string printed;
  ASSERT_EQ(ServerProcess::RunCommand({"routes"}, {}, &printed), 0) << printed;
  std::ifstream in(std::string(OMNIFLOW_SOURCE_DIR) + "/docs/security.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const std::string begin = "<!-- route-table:begin (generated by `omniflow routes`) -->\n";
  const size_t from = text.find(begin);
  const size_t to = text.find("<!-- route-table:end -->");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  EXPECT_EQ(text.substr(from + begin.size(), to - from - begin.size()), printed)
      << "regenerate the table in docs/security.md with `omniflow routes`";
}

}  // namespace
}  // namespace omniflow::testing
