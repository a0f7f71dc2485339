// The data lifecycle over real sockets against the real binary (issue 13), on SQLite and, in the
// pg. pass, on PostgreSQL: retention overrides and legal holds (admin key), purging with a user
// override and a held user (on demand, in the background and from the CLI), erasure with a
// signed receipt verified in C++, with `omniflow verify-receipt` and with OpenSSL's command line,
// and who may call what.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "auth/jwt.h"
#include "core/ids.h"
#include "lifecycle/receipt.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kSecret[] = "lifecycle-secret-0123456789abcdef";
constexpr char kAdmin[] = "lifecycle-admin-key-0123456789";
constexpr char kEraseKey[] = "erase-user-key-0123456789";
constexpr int64_t kDayUs = 86'400'000'000;

std::string Token(const std::string& sub) {
  const int64_t now = Clock::Real()->NowMicros() / 1000000;
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + 600) + "}", kSecret);
}

Headers Admin() { return {{"x-functions-key", kAdmin}}; }
Headers AdminAs(const std::string& user) { return {{"x-functions-key", kAdmin}, {"X-User-Id", user}}; }
Headers Bearer(const std::string& user) { return {{"Authorization", "Bearer " + Token(user)}}; }

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

ServerConfig Config(std::vector<std::string> args = {}) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_JWT_SECRET", kSecret},
                {"OMNIFLOW_ADMIN_KEY", kAdmin},
                {"FUNCTION_CODE_ERASE_USER", kEraseKey}};
  config.args = std::move(args);
  return config;
}

int64_t HistoryTotal(HttpClient& c, const std::string& user) {
  HttpResponse r = c.Get("/api/get_interaction_history?limit=1", AdminAs(user));
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? IntAt(r.Json(), "total") : -1;
}

std::string SaveAs(HttpClient& c, const std::string& user, const std::string& body) {
  HttpResponse r = c.Post("/api/save_interaction", body, AdminAs(user));
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? Str(r.Json(), "interaction_id") : "";
}

HttpResponse Put(HttpClient& c, const std::string& target, const std::string& body,
                 const Headers& headers) {
  return c.Request("PUT", target, headers, body);
}
HttpResponse Delete(HttpClient& c, const std::string& target, const Headers& headers) {
  return c.Request("DELETE", target, headers);
}

// ---- Retention overrides and holds -----------------------------------------------------------

TEST(LifecycleRetention, OverrideIsSetShownRemovedAndSurvivesARestart) {
  RunningServer s(Config({"--retention-days", "365"}));
  HttpClient& c = *s.client;
  HttpResponse r = c.Get("/api/users/alice/retention", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "user_id"), "alice");
  EXPECT_EQ(IntAt(r.Json(), "days"), 365);
  EXPECT_EQ(Str(r.Json(), "source"), "default");

  r = Put(c, "/api/users/alice/retention", R"({"days": 30})", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "days"), 30);
  EXPECT_EQ(Str(r.Json(), "source"), "user");
  r = Put(c, "/api/users/bob/retention", R"({"days": 0})", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "days"), 0);  // keep forever, overriding the default

  s.Restart();
  HttpClient& c2 = *s.client;
  r = c2.Get("/api/users/alice/retention", Admin());
  EXPECT_EQ(IntAt(r.Json(), "days"), 30) << r.body;
  EXPECT_EQ(Str(r.Json(), "source"), "user");
  r = Delete(c2, "/api/users/alice/retention", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "days"), 365);
  EXPECT_EQ(Str(r.Json(), "source"), "default");
  r = Delete(c2, "/api/users/alice/retention", Admin());
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST(LifecycleRetention, BadDaysAndBadUserIdsAre400) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  for (const char* body : {R"({"days": -1})", R"({"days": "30"})", R"({"days": 1.5})",
                           R"({"days": true})", R"({"days": null})", R"({})",
                           R"({"days": 30, "extra": 1})", R"({"days": 99999999999})", "[30]",
                           "not json"}) {
    HttpResponse r = Put(c, "/api/users/alice/retention", body, Admin());
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
  }
  EXPECT_EQ(Put(c, "/api/users/.alice/retention", R"({"days":1})", Admin()).status, 400);
  EXPECT_EQ(c.Get("/api/users/al%20ice/retention", Admin()).status, 400);
  EXPECT_EQ(c.Get("/api/users/alice/retention", Admin()).Json()["source"].get_string().value(),
            "default");
}

TEST(LifecycleHolds, SetListReleaseBadReasonsAndRestart) {
  RunningServer s(Config());
  HttpClient& c = *s.client;
  HttpResponse r = Put(c, "/api/users/carol/hold", R"({"reason":"litigation 2025-17 ✓"})", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json()["hold"], "reason"), "litigation 2025-17 ✓");
  EXPECT_EQ(Str(r.Json()["hold"], "user_id"), "carol");
  const std::string reason500(500, 'r');
  for (const std::string& body :
       {std::string(R"({"reason":""})"), R"({"reason":")" + reason500 + "r\"}", std::string("{}"),
        std::string(R"({"reason":5})"), std::string(R"({"reason":"x","y":1})")}) {
    EXPECT_EQ(Put(c, "/api/users/dave/hold", body, Admin()).status, 400) << body;
  }
  // 500 characters (not bytes) are allowed.
  std::string five_hundred;
  for (int i = 0; i < 500; ++i) five_hundred += "é";
  EXPECT_EQ(Put(c, "/api/users/erin/hold", R"({"reason":")" + five_hundred + "\"}", Admin()).status,
            200);
  s.Restart();
  HttpClient& c2 = *s.client;
  r = c2.Get("/api/holds", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<simdjson::dom::element> holds = Items(r.Json(), "holds");
  ASSERT_EQ(holds.size(), 2u) << r.body;
  EXPECT_EQ(Str(holds[0], "user_id"), "carol");
  EXPECT_EQ(Str(holds[1], "user_id"), "erin");
  EXPECT_EQ(Delete(c2, "/api/users/carol/hold", Admin()).status, 200);
  EXPECT_EQ(Delete(c2, "/api/users/carol/hold", Admin()).status, 404);
  EXPECT_EQ(Items(c2.Get("/api/holds", Admin()).Json(), "holds").size(), 1u);
}

// ---- Purging -----------------------------------------------------------------------------

// Writes interactions `days_ago` old for `user` into a JSON Lines file for `omniflow import`.
void WriteOld(std::ofstream& out, const std::string& user, int count, int days_ago) {
  static int serial = 0;
  const int64_t now = Clock::Real()->NowMicros();
  for (int i = 0; i < count; ++i) {
    const int64_t ts = now - days_ago * kDayUs - (++serial) * 1000;
    out << "{\"user_id\":\"" << user << "\",\"timestamp\":\"" << FormatTimestamp(ts)
        << "\",\"thread_id\":\"t-" << user << "\",\"user_message\":\"old " << user << " " << i
        << "\",\"assistant_response\":\"ok\"}\n";
  }
}

// A data dir holding: `kept` (fresh), `aged` (400 days old, past the 365-day default), `short`
// (20 days old, past its 10-day override) and `held` (400 days old, under a legal hold).
class LifecyclePurge : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string file = dir_.path() + "/old.jsonl";
    {
      std::ofstream out(file);
      WriteOld(out, "kept", 2, 1);
      WriteOld(out, "aged", 3, 400);
      WriteOld(out, "aged", 1, 2);
      WriteOld(out, "short", 2, 20);
      WriteOld(out, "short", 1, 2);
      WriteOld(out, "held", 2, 400);
    }
    data_ = dir_.path() + "/data";
    std::string output;
    ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", data_}, {}, &output), 0)
        << output;
  }
  // Sets the override and the hold through a server on the data dir.
  void SetPolicies(HttpClient& c) {
    ASSERT_EQ(Put(c, "/api/users/short/retention", R"({"days":10})", Admin()).status, 200);
    ASSERT_EQ(Put(c, "/api/users/held/hold", R"({"reason":"audit"})", Admin()).status, 200);
  }
  void ExpectPurged(HttpClient& c) {
    EXPECT_EQ(HistoryTotal(c, "kept"), 2);
    EXPECT_EQ(HistoryTotal(c, "aged"), 1);
    EXPECT_EQ(HistoryTotal(c, "short"), 1);
    EXPECT_EQ(HistoryTotal(c, "held"), 2);
  }
  TempDir dir_;
  std::string data_;
};

TEST_F(LifecyclePurge, RunOnDemandHonoursTheOverrideAndTheHold) {
  ServerConfig config = Config({"--retention-days", "365"});
  config.data_dir = data_;
  RunningServer s(config);
  HttpClient& c = *s.client;
  SetPolicies(c);
  HttpResponse r = c.Post("/api/retention/run", R"({"dry_run":true})", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["purged"], "interactions"), 5) << r.body;
  EXPECT_EQ(HistoryTotal(c, "aged"), 4);  // a dry run deletes nothing
  r = c.Post("/api/retention/run", "", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "status"), "success");
  EXPECT_EQ(IntAt(r.Json()["purged"], "interactions"), 5) << r.body;
  EXPECT_EQ(IntAt(r.Json()["purged"], "users"), 2) << r.body;
  EXPECT_EQ(IntAt(r.Json(), "held_users_skipped"), 1) << r.body;
  ExpectPurged(c);
  // Gone everywhere: the user list's counts and the stats too.
  r = c.Get("/api/stats?user_id=aged", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["totals"], "interactions"), 1) << r.body;
  r = c.Post("/api/retention/run", "{}", Admin());
  EXPECT_EQ(IntAt(r.Json()["purged"], "interactions"), 0) << r.body;
  EXPECT_EQ(c.Post("/api/retention/run", R"({"dry_run":"yes"})", Admin()).status, 400);
}

TEST_F(LifecyclePurge, BackgroundLoopPurgesEveryInterval) {
  ServerConfig config = Config({"--retention-interval", "1s"});
  config.env.emplace_back("OMNIFLOW_RETENTION_DAYS", "365");
  config.data_dir = data_;
  RunningServer s(config);
  HttpClient& c = *s.client;
  auto runs = [&s] {
    const std::string log = s.server->Log();
    int n = 0;
    for (size_t at = log.find("event=retention_purge "); at != std::string::npos;
         at = log.find("event=retention_purge ", at + 1)) {
      ++n;
    }
    return n;
  };
  const int before = runs();
  SetPolicies(c);
  // A run purges user after user and logs when it is through; one may have begun before the
  // policies were set, so wait for two whole runs after that.
  for (int i = 0; i < 100 && runs() < before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(runs(), before + 2) << s.server->Log();
  ExpectPurged(c);
  EXPECT_EQ(s.server->Stop(), 0);
}

TEST_F(LifecyclePurge, CliPurgeDryRunThenForReal) {
  {
    ServerConfig config = Config();
    config.data_dir = data_;
    RunningServer s(config);
    SetPolicies(*s.client);
  }
  std::string output;
  ASSERT_EQ(ServerProcess::RunCommand(
                {"purge", "--data-dir", data_, "--retention-days", "365", "--dry-run"}, {},
                &output), 0) << output;
  EXPECT_NE(output.find("dry run: would purge 5 interactions of 2 users; 1 held users skipped"),
            std::string::npos) << output;
  ASSERT_EQ(ServerProcess::RunCommand({"purge", "--data-dir", data_},
                                      {{"OMNIFLOW_RETENTION_DAYS", "365"}}, &output), 0)
      << output;
  EXPECT_NE(output.find("purged 5 interactions of 2 users; 1 held users skipped"),
            std::string::npos) << output;
  ServerConfig config = Config();
  config.data_dir = data_;
  RunningServer s(config);
  ExpectPurged(*s.client);
}

// ---- Erasure -----------------------------------------------------------------------------

struct Seeded {
  std::vector<std::string> alice_ids;
  std::string bob_id;
};

Seeded Seed(HttpClient& c) {
  Seeded seeded;
  seeded.alice_ids.push_back(SaveAs(
      c, "alice",
      R"({"user_message":"ALICE-SECRET one","assistant_response":"done","thread_id":"ta",)"
      R"("tool_calls":[{"tool_name":"add_new_data","arguments":{"x":1},"result":{"ok":true}},)"
      R"({"tool_name":"get_data","arguments":{},"result":null,"status":"error"}]})"));
  seeded.alice_ids.push_back(SaveAs(c, "alice", SaveBody("ALICE-SECRET two", "tb")));
  seeded.bob_id = SaveAs(c, "bob", SaveBody("bob keeps this", "tc"));
  HttpResponse r = c.Post("/api/interactions/" + seeded.alice_ids[0] + "/feedback",
                          R"({"score":1,"comment":"ALICE-SECRET feedback"})", Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.Post("/api/add_new_data",
             R"({"target_blob_name":"notes.json","new_entry":{"note":"ALICE-SECRET note"}})",
             AdminAs("alice"));
  EXPECT_EQ(r.status, 200) << r.body;
  return seeded;
}

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

class LifecycleErasure : public ::testing::Test {
 protected:
  LifecycleErasure() : s_(Config()) {}
  RunningServer s_;
  TempDir files_;
};

TEST_F(LifecycleErasure, EraseAnswersAReceiptThatVerifiesInCxxWithTheCliAndWithOpenssl) {
  HttpClient& c = *s_.client;
  Seeded seeded = Seed(c);
  HttpResponse r = Delete(c, "/api/users/alice", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json(), "status"), "success");
  simdjson::dom::element receipt = r.Json()["receipt"];
  EXPECT_EQ(Str(receipt, "user_id"), "alice");
  simdjson::dom::element counts = receipt["counts"];
  EXPECT_EQ(IntAt(counts, "interactions"), 2) << r.body;
  EXPECT_EQ(IntAt(counts, "tool_calls"), 2) << r.body;
  EXPECT_EQ(IntAt(counts, "feedback"), 1) << r.body;
  EXPECT_EQ(IntAt(counts, "threads"), 2) << r.body;
  EXPECT_EQ(IntAt(counts, "data_documents"), 1) << r.body;
  EXPECT_EQ(IntAt(counts, "data_entries"), 1) << r.body;
  EXPECT_EQ(IntAt(counts, "spooled"), 0) << r.body;
  EXPECT_EQ(Str(receipt, "digest"), lifecycle::InteractionDigest(seeded.alice_ids));
  int64_t erased_us = 0;
  EXPECT_TRUE(ParseTimestamp(Str(receipt, "erased_at"), &erased_us)) << r.body;
  EXPECT_EQ(Str(receipt, "erased_at").size(), 27u);  // 2025-12-11T13:05:30.123456Z
  EXPECT_EQ(Str(receipt, "receipt_id").rfind("rcpt_", 0), 0u);

  // The public key, without credentials.
  HttpResponse key = c.Get("/api/receipts/public-key");
  ASSERT_EQ(key.status, 200) << key.body;
  EXPECT_EQ(Str(key.Json(), "algorithm"), "Ed25519");
  EXPECT_EQ(Str(key.Json(), "key_id"), Str(receipt, "key_id"));
  const std::string pem = Str(key.Json(), "public_key_pem");
  ASSERT_TRUE(lifecycle::VerifyReceipt(r.body, pem).ok());

  // omniflow verify-receipt: valid, then altered.
  const std::string pem_file = WriteFile(files_.path() + "/pub.pem", pem);
  const std::string receipt_file = WriteFile(files_.path() + "/receipt.json", r.body);
  std::string output;
  EXPECT_EQ(ServerProcess::RunCommand({"verify-receipt", receipt_file, "--public-key", pem_file},
                                      {}, &output), 0) << output;
  std::string altered = r.body;
  altered.replace(altered.find("\"interactions\":2"), 16, "\"interactions\":0");
  const std::string altered_file = WriteFile(files_.path() + "/altered.json", altered);
  EXPECT_EQ(ServerProcess::RunCommand({"verify-receipt", altered_file, "--public-key", pem_file},
                                      {}, &output), 1) << output;
  EXPECT_NE(output.find("does not match"), std::string::npos) << output;

  // OpenSSL's command line: Ed25519 over the canonical JSON without "signature".
  Result<std::string> message = lifecycle::CanonicalJson(
      std::string(simdjson::minify(receipt)), "signature");
  ASSERT_TRUE(message.ok()) << message.status().message();
  std::string signature;
  ASSERT_TRUE(Base64UrlDecode(Str(receipt, "signature"), &signature));
  WriteFile(files_.path() + "/msg", *message);
  WriteFile(files_.path() + "/sig", signature);
  WriteFile(files_.path() + "/bad", *message + " ");
  const std::string verify = "openssl pkeyutl -verify -pubin -inkey " + pem_file +
                             " -rawin -sigfile " + files_.path() + "/sig -in " + files_.path();
  EXPECT_EQ(std::system((verify + "/msg >/dev/null 2>&1").c_str()), 0) << verify;
  EXPECT_NE(std::system((verify + "/bad >/dev/null 2>&1").c_str()), 0);

  // Gone everywhere; bob untouched.
  EXPECT_EQ(HistoryTotal(c, "alice"), 0);
  EXPECT_EQ(c.Get("/api/interactions/" + seeded.alice_ids[0], AdminAs("alice")).status, 404);
  r = c.Get("/api/search?q=ALICE", Admin());
  EXPECT_EQ(r.body.find("ALICE-SECRET"), std::string::npos) << r.body;
  r = c.Get("/api/list_data", AdminAs("alice"));
  EXPECT_EQ(r.body.find("notes.json"), std::string::npos) << r.body;
  EXPECT_EQ(HistoryTotal(c, "bob"), 1);
  EXPECT_EQ(c.Get("/api/interactions/" + seeded.bob_id, AdminAs("bob")).status, 200);
}

TEST_F(LifecycleErasure, SaveAfterTheReceiptIsKeptAndASecondErasureCountsOnlyIt) {
  HttpClient& c = *s_.client;
  Seed(c);
  ASSERT_EQ(Delete(c, "/api/users/alice", Bearer("alice")).status, 200);
  const std::string id = SaveAs(c, "alice", SaveBody("new life", "tn"));
  EXPECT_EQ(HistoryTotal(c, "alice"), 1);
  EXPECT_EQ(c.Get("/api/interactions/" + id, AdminAs("alice")).status, 200);
  HttpResponse r = Delete(c, "/api/users/alice", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 1) << r.body;
  // A user without data: 200 with zero counts.
  r = Delete(c, "/api/users/nobody_here", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 0);
  EXPECT_EQ(Str(r.Json()["receipt"], "digest"), lifecycle::InteractionDigest({}));
}

TEST_F(LifecycleErasure, HeldUserIs409NamingTheHoldAndNothingIsErased) {
  HttpClient& c = *s_.client;
  Seed(c);
  ASSERT_EQ(Put(c, "/api/users/alice/hold", R"({"reason":"case 42 discovery"})", Admin()).status,
            200);
  for (const Headers& who : {Admin(), Bearer("alice"),
                             Headers{{"x-functions-key", kEraseKey}, {"X-User-Id", "alice"}}}) {
    HttpResponse r = Delete(c, "/api/users/alice", who);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_NE(r.body.find("case 42 discovery"), std::string::npos) << r.body;
  }
  EXPECT_EQ(HistoryTotal(c, "alice"), 2);
  EXPECT_NE(c.Get("/api/list_data", AdminAs("alice")).body.find("notes.json"), std::string::npos);
  // Retention does not touch the held user either, and the hold released, erasure works.
  ASSERT_EQ(Delete(c, "/api/users/alice/hold", Admin()).status, 200);
  HttpResponse r = Delete(c, "/api/users/alice", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 2);
}

TEST_F(LifecycleErasure, ErasureRemovesTheRetentionOverride) {
  HttpClient& c = *s_.client;
  ASSERT_EQ(Put(c, "/api/users/alice/retention", R"({"days":7})", Admin()).status, 200);
  ASSERT_EQ(Delete(c, "/api/users/alice", Admin()).status, 200);
  EXPECT_EQ(Str(c.Get("/api/users/alice/retention", Admin()).Json(), "source"), "default");
}

// The server's log never names the erased user: the request lines show the route's pattern for
// paths holding a user id, and X-User-Id is masked.
TEST_F(LifecycleErasure, TheLogNeverNamesTheUser) {
  HttpClient& c = *s_.client;
  const std::string user = "erased_person_4711";
  SaveAs(c, user, SaveBody("hello", "thread_of_erased_person_4711"));
  ASSERT_EQ(Put(c, "/api/users/" + user + "/retention", R"({"days":7})", Admin()).status, 200);
  ASSERT_EQ(c.Get("/api/threads/thread_of_erased_person_4711?user_id=" + user, Admin()).status, 200);
  ASSERT_EQ(Delete(c, "/api/proxy_router/erase_user/" + user, Admin()).status, 200);
  ASSERT_EQ(Delete(c, "/api/users/" + user, Admin()).status, 200);
  const std::string log = s_.server->Log();
  EXPECT_EQ(log.find("erased_person_4711"), std::string::npos) << log;
  EXPECT_NE(log.find("path=\"/api/threads/{thread_id}\" status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("path=\"/api/users/{user_id}\" status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("path=\"/api/proxy_router/erase_user/{user_id}\" status=200"),
            std::string::npos) << log;
}

// ---- Who may call ---------------------------------------------------------------------------

TEST_F(LifecycleErasure, OnlyTheUserTheirKeyHolderOrTheAdminMayErase) {
  HttpClient& c = *s_.client;
  Seed(c);
  struct Case {
    std::string what, method, target;
    Headers headers;
    int status;
  };
  const std::vector<Case> refused = {
      {"no credentials", "DELETE", "/api/users/alice", {}, 401},
      {"no credentials, naming her", "DELETE", "/api/users/alice", As("alice"), 401},
      {"another user's token", "DELETE", "/api/users/alice", Bearer("bob"), 403},
      {"another user's token naming her", "DELETE", "/api/users/alice",
       {{"Authorization", "Bearer " + Token("bob")}, {"X-User-Id", "alice"}}, 403},
      {"the erase key for another user", "DELETE", "/api/users/alice",
       {{"x-functions-key", kEraseKey}, {"X-User-Id", "bob"}}, 403},
      {"the erase key without a user", "DELETE", "/api/users/alice",
       {{"x-functions-key", kEraseKey}}, 400},
      {"a wrong key", "DELETE", "/api/users/alice",
       {{"x-functions-key", "guess"}, {"X-User-Id", "alice"}}, 401},
      {"another user's token through the router", "DELETE",
       "/api/proxy_router/erase_user/alice", Bearer("bob"), 403},
      {"the erase key for another user through the router", "DELETE",
       "/api/proxy_router/erase_user/alice", {{"x-functions-key", kEraseKey}, {"X-User-Id", "bob"}},
       403},
      {"a token on an admin route", "PUT", "/api/users/alice/hold", Bearer("alice"), 403},
      {"the erase key on an admin route", "GET", "/api/holds",
       {{"x-functions-key", kEraseKey}, {"X-User-Id", "alice"}}, 401},
      {"nothing on an admin route", "POST", "/api/retention/run", {}, 401},
      {"a token on retention", "DELETE", "/api/users/alice/retention", Bearer("alice"), 403},
      {"a token on the purge", "POST", "/api/retention/run", Bearer("alice"), 403},
  };
  for (const Case& k : refused) {
    HttpResponse r = c.Request(k.method, k.target, k.headers,
                               k.method == "PUT" ? R"({"reason":"x"})" : "");
    EXPECT_EQ(r.status, k.status) << k.what << ": " << r.body;
  }
  EXPECT_EQ(HistoryTotal(c, "alice"), 2);
  EXPECT_TRUE(Items(c.Get("/api/holds", Admin()).Json(), "holds").empty());
  // Her own token through the router, then the erase key naming her.
  HttpResponse r = Delete(c, "/api/proxy_router/erase_user/alice", Bearer("alice"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 2);
  SaveAs(c, "alice", SaveBody("again", "t"));
  r = Delete(c, "/api/users/alice", {{"x-functions-key", kEraseKey}, {"X-User-Id", "alice"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(IntAt(r.Json()["receipt"]["counts"], "interactions"), 1);
  EXPECT_EQ(HistoryTotal(c, "bob"), 1);
}

// ---- The receipt key -----------------------------------------------------------------------

TEST(LifecycleReceiptKey, MadeOnceInTheDataDirWithMode0600AndKeptAcrossRestarts) {
  RunningServer s(Config());
  const std::string key_id = Str(s.client->Get("/api/receipts/public-key").Json(), "key_id");
  EXPECT_EQ(key_id.size(), 16u);
  const std::string path = s.server->data_dir() + "/receipt-key.pem";
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  s.Restart();
  EXPECT_EQ(Str(s.client->Get("/api/receipts/public-key").Json(), "key_id"), key_id);
}

TEST(LifecycleReceiptKey, ReadFromOmniflowReceiptKeyFileWhichMustExist) {
  TempDir keys;
  ServerConfig missing = Config();
  missing.env.emplace_back("OMNIFLOW_RECEIPT_KEY_FILE", keys.path() + "/none.pem");
  ServerProcess server(missing);
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_NE(error.find("none.pem"), std::string::npos) << error;

  auto key = lifecycle::ReceiptKey::LoadOrCreate(keys.path() + "/given.pem");
  ASSERT_TRUE(key.ok()) << key.status().message();
  ServerConfig given = Config();
  given.env.emplace_back("OMNIFLOW_RECEIPT_KEY_FILE", keys.path() + "/given.pem");
  RunningServer s(given);
  EXPECT_EQ(Str(s.client->Get("/api/receipts/public-key").Json(), "key_id"), (*key)->key_id());
  HttpResponse r = Delete(*s.client, "/api/users/zed", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(lifecycle::VerifyReceipt(r.body, (*key)->public_key_pem()).ok());
  EXPECT_FALSE(std::filesystem::exists(s.server->data_dir() + "/receipt-key.pem"));
}

}  // namespace
}  // namespace omniflow::testing
