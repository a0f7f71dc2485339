// The hash chain over real sockets and the real binary (issue 14), on SQLite and, in the pg.
// pass, on PostgreSQL: the head moves with every save and is for the admin only; `omniflow
// verify` passes on an untouched store, after an erasure and after a purge, and names the
// record when its message, a tool-call argument or result, its metadata, timestamp or user id
// was changed, when it was deleted or moved, directly in the database behind the server's back;
// an anchor read from the head must stay part of the chain.
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "core/ids.h"
#include "store/postgres/pg_conn.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kAdmin[] = "chain-admin-key-0123456789";
constexpr char kSaveKey[] = "chain-save-key-0123456789";
constexpr int64_t kDayUs = 86'400'000'000;

Headers Admin() { return {{"x-functions-key", kAdmin}}; }
// Saves with the function's own key: not audit entries, so the tests know the saves' seqs.
Headers SaverAs(const std::string& user) { return {{"x-functions-key", kSaveKey}, {"X-User-Id", user}}; }

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

ServerConfig Config(const std::string& data_dir, std::vector<std::string> args = {}) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin}, {"FUNCTION_CODE_SAVE_INTERACTION", kSaveKey}};
  config.data_dir = data_dir;
  config.args = std::move(args);
  return config;
}

// Runs `sql` on the store of `data_dir` as its owner would, not through omniflow: SQLite's file
// directly, or PostgreSQL as the superuser (row-level security does not apply).
void Tamper(const std::string& data_dir, const std::string& sql) {
  if (TestingPostgres()) {
    const std::string store = TestStoreUrl(data_dir);
    const std::string admin = TestAdminUrl();
    const std::string url = admin.substr(0, admin.rfind('/') + 1) + store.substr(store.rfind('/') + 1);
    Result<pg::Conn> conn = pg::Conn::Connect(url);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    Result<pg::Res> done = conn->Exec(sql);
    ASSERT_TRUE(done.ok()) << sql << ": " << done.status().message();
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir + "/omniflow.db").c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << sql << ": " << message;
}

// The column holding an interaction's place in the chain.
std::string SeqColumn() { return TestingPostgres() ? "chain_seq" : "seq"; }

struct Verified {
  int status = -1;
  std::string output;
};

Verified Verify(const std::string& data_dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify", "--data-dir", data_dir};
  args.insert(args.end(), extra.begin(), extra.end());
  Verified v;
  v.status = ServerProcess::RunCommand(args, {}, &v.output);
  return v;
}

std::string SaveBody(const std::string& mark, const std::string& thread) {
  return R"({"user_message":"message )" + mark + R"(","assistant_response":"answer )" + mark +
         R"(","thread_id":")" + thread +
         R"(","tool_calls":[{"tool_name":"get_weather","arguments":{"city":"city )" + mark +
         R"("},"result":{"forecast":"result )" + mark + R"("}}],"metadata":{"model":"meta )" + mark +
         R"("}})";
}

class ChainE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<RunningServer>(Config(data_.path()));
    ASSERT_TRUE(server_->started);
  }
  std::string Save(const std::string& user, const std::string& mark, const std::string& thread = "t1") {
    HttpResponse r = server_->client->Post("/api/save_interaction", SaveBody(mark, thread), SaverAs(user));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Str(r.Json(), "interaction_id") : "";
  }
  TempDir data_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(ChainE2e, TheHeadMovesWithEverySaveAndIsForTheAdminOnly) {
  HttpResponse empty = server_->client->Get("/api/chain/head", Admin());
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(IntAt(empty.Json(), "seq"), 0);
  EXPECT_EQ(Str(empty.Json(), "hash"), "sha256:" + std::string(64, '0'));
  // Each read of the head is itself an audit entry, chained after the answer was made: a save
  // and the previous read's entry come between two reads.
  std::string last;
  for (int i = 0; i < 5; ++i) {
    Save("alice", "m" + std::to_string(i));
    HttpResponse head = server_->client->Get("/api/chain/head", Admin());
    ASSERT_EQ(head.status, 200);
    EXPECT_EQ(IntAt(head.Json(), "seq"), 2 * i + 2);
    const std::string hash = Str(head.Json(), "hash");
    EXPECT_EQ(hash.size(), 7u + 64u);
    EXPECT_NE(hash, last);
    last = hash;
  }
  // Not for users, function keys or anonymous callers, not through the router either.
  EXPECT_EQ(server_->client->Get("/api/chain/head", {{"X-User-Id", "alice"}}).status, 401);
  EXPECT_EQ(server_->client->Get("/api/chain/head").status, 401);
  EXPECT_EQ(server_->client->Get("/api/proxy_router/chain/head", Admin()).status, 404);
  EXPECT_EQ(server_->client->Get("/api/chain/%68ead", Admin()).status, 404);
  // 5 saves, 6 reads of the head, 2 refused reads (audited as auth_failed).
  Verified v = Verify(data_.path());
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_NE(v.output.find("verified 13 records; head seq 13"), std::string::npos) << v.output;
  Verified anchored = Verify(data_.path(), {"--expect-head", last});
  EXPECT_EQ(anchored.status, 0) << anchored.output;
}

TEST_F(ChainE2e, TamperingBehindTheServersBackIsFoundAndNamed) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Save(i % 2 ? "bob" : "alice", "mark" + std::to_string(i)));
  const std::string victim = ids[2];  // alice's second, "mark2"
  ASSERT_EQ(Verify(data_.path()).status, 0);
  const std::string where = " WHERE interaction_id = '" + victim + "'";
  struct Change {
    const char* what;
    std::string sql;
    std::string undo;
  };
  const std::vector<Change> changes = {
      {"message", "UPDATE interactions SET body = replace(body, 'message mark2', 'message mark9')" + where,
       "UPDATE interactions SET body = replace(body, 'message mark9', 'message mark2')" + where},
      {"tool-call argument", "UPDATE interactions SET body = replace(body, 'city mark2', 'city mark9')" + where,
       "UPDATE interactions SET body = replace(body, 'city mark9', 'city mark2')" + where},
      {"tool-call result", "UPDATE interactions SET body = replace(body, 'result mark2', 'result mark9')" + where,
       "UPDATE interactions SET body = replace(body, 'result mark9', 'result mark2')" + where},
      {"metadata", "UPDATE interactions SET body = replace(body, 'meta mark2', 'meta mark9')" + where,
       "UPDATE interactions SET body = replace(body, 'meta mark9', 'meta mark2')" + where},
      {"timestamp", "UPDATE interactions SET ts_us = ts_us - 1000000" + where,
       "UPDATE interactions SET ts_us = ts_us + 1000000" + where},
      {"user id", "UPDATE interactions SET user_id = 'mallory'" + where,
       "UPDATE interactions SET user_id = 'alice'" + where},
  };
  for (const Change& change : changes) {
    Tamper(data_.path(), change.sql);
    Verified v = Verify(data_.path());
    EXPECT_EQ(v.status, 1) << change.what << ": " << v.output;
    EXPECT_NE(v.output.find("interaction " + victim), std::string::npos) << change.what << ": " << v.output;
    EXPECT_NE(v.output.find("content changed"), std::string::npos) << change.what << ": " << v.output;
    Tamper(data_.path(), change.undo);
    Verified again = Verify(data_.path());
    EXPECT_EQ(again.status, 0) << "after undoing the " << change.what << " change: " << again.output;
  }
  // Two rows swap places in the chain.
  const std::string seq = SeqColumn();
  Tamper(data_.path(), "UPDATE interactions SET " + seq + " = -1 WHERE interaction_id = '" + ids[3] + "'; " +
                           "UPDATE interactions SET " + seq + " = 4 WHERE interaction_id = '" + ids[4] + "'; " +
                           "UPDATE interactions SET " + seq + " = 5 WHERE " + seq + " = -1");
  Verified moved = Verify(data_.path());
  EXPECT_EQ(moved.status, 1) << moved.output;
  EXPECT_NE(moved.output.find("order changed"), std::string::npos) << moved.output;
  EXPECT_NE(moved.output.find("interaction " + ids[4]), std::string::npos) << moved.output;
  Tamper(data_.path(), "UPDATE interactions SET " + seq + " = -1 WHERE interaction_id = '" + ids[3] + "'; " +
                           "UPDATE interactions SET " + seq + " = 5 WHERE interaction_id = '" + ids[4] + "'; " +
                           "UPDATE interactions SET " + seq + " = 4 WHERE " + seq + " = -1");
  ASSERT_EQ(Verify(data_.path()).status, 0);
  // A row deleted: its seq is missing.
  Tamper(data_.path(), "DELETE FROM interactions" + where);
  Verified missing = Verify(data_.path());
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("record missing"), std::string::npos) << missing.output;
  EXPECT_NE(missing.output.find("seq 3"), std::string::npos) << missing.output;
  // The newest row deleted: the recorded head names it.
  HttpResponse head = server_->client->Get("/api/chain/head", Admin());
  EXPECT_EQ(IntAt(head.Json(), "seq"), 6);
}

TEST_F(ChainE2e, AuditEntriesAreLinksAndTheirTamperingIsNamed) {
  Save("alice", "a0");                                                            // seq 1
  ASSERT_EQ(server_->client->Get("/api/holds", Admin()).status, 200);              // seq 2
  Save("alice", "a1");                                                            // seq 3
  HttpResponse audit = server_->client->Get("/api/audit?action=holds_list", Admin());  // seq 4
  ASSERT_EQ(audit.status, 200) << audit.body;
  ASSERT_NE(audit.body.find("\"seq\":2,"), std::string::npos) << audit.body;
  ASSERT_EQ(Verify(data_.path()).status, 0);
  Tamper(data_.path(), "UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 2");
  Verified changed = Verify(data_.path());
  EXPECT_EQ(changed.status, 1) << changed.output;
  EXPECT_NE(changed.output.find("chain broken at seq 2 (audit entry 2): content changed"),
            std::string::npos) << changed.output;
  Tamper(data_.path(), "UPDATE audit_log SET actor = 'admin' WHERE seq = 2");
  ASSERT_EQ(Verify(data_.path()).status, 0);
  Tamper(data_.path(), "DELETE FROM audit_log WHERE seq = 2");
  Verified missing = Verify(data_.path());
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_NE(missing.output.find("record missing: nothing has seq 2"), std::string::npos)
      << missing.output;
}

TEST_F(ChainE2e, ErasureAndRetentionLeaveTombstonesAndTheChainVerifies) {
  // Old interactions of carol, to be purged by a 30-day retention.
  const int64_t old_us = Clock::Real()->NowMicros() - 90 * kDayUs;
  std::string lines;
  for (int i = 0; i < 4; ++i) {
    const int64_t ts = old_us + i * 1000000;
    lines += R"({"user_id":"carol","timestamp":")" + FormatTimestamp(ts) +
             R"(","user_message":"old )" + std::to_string(i) + R"(","assistant_response":"a"})" + "\n";
  }
  server_->client.reset();
  ASSERT_EQ(server_->server->Stop(), 0);
  const std::string file = data_.path() + "/old.jsonl";
  {
    std::ofstream out(file);
    out << lines;
  }
  std::string output;
  ASSERT_EQ(ServerProcess::RunCommand({"import", file, "--data-dir", data_.path()}, {}, &output), 0) << output;
  server_ = std::make_unique<RunningServer>(Config(data_.path(), {"--retention-days", "30"}));
  ASSERT_TRUE(server_->started);
  for (int i = 0; i < 3; ++i) Save("alice", "a" + std::to_string(i));
  for (int i = 0; i < 3; ++i) Save("dave", "d" + std::to_string(i));
  HttpResponse anchor = server_->client->Get("/api/chain/head", Admin());
  ASSERT_EQ(anchor.status, 200);
  const std::string anchored = Str(anchor.Json(), "hash");
  HttpResponse erased = server_->client->Request("DELETE", "/api/users/dave", Admin(), "", false);
  ASSERT_EQ(erased.status, 200) << erased.body;
  HttpResponse purged = server_->client->Post("/api/retention/run", "{}", Admin());
  ASSERT_EQ(purged.status, 200) << purged.body;
  EXPECT_NE(purged.body.find("\"interactions\":4"), std::string::npos) << purged.body;
  for (int i = 3; i < 5; ++i) Save("alice", "a" + std::to_string(i));
  // 4 imported (1-4), 6 saved (5-10), the anchor's read (11), the erasure (12) and the retention
  // run (13) as audit entries, 2 saved (14-15); 7 of them tombstones now.
  Verified v = Verify(data_.path(), {"--expect-head", anchored});
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_NE(v.output.find("verified 15 records"), std::string::npos) << v.output;
  // The anchor was dave's last save (seq 10), erased since: its tombstone keeps the hash, and a
  // verification that starts after it cannot vouch for it.
  Verified later = Verify(data_.path(), {"--from-seq", "11", "--expect-head", anchored});
  EXPECT_EQ(later.status, 1) << later.output;
  EXPECT_NE(later.output.find("is the hash of none of them"), std::string::npos) << later.output;
  EXPECT_EQ(Verify(data_.path(), {"--expect-head", "sha256:abc"}).status, 2);
  // A tombstone's hash changed: the chain breaks at the next record with content (the audit
  // entry of the anchor's read).
  Tamper(data_.path(), "UPDATE chain_tombstones SET hash = " +
                           std::string(TestingPostgres() ? "decode(repeat('11', 32), 'hex')"
                                                         : "zeroblob(32)") +
                           " WHERE seq = 10");
  Verified broken = Verify(data_.path());
  EXPECT_EQ(broken.status, 1) << broken.output;
  EXPECT_NE(broken.output.find("chain broken at seq 11"), std::string::npos) << broken.output;
}

}  // namespace
}  // namespace omniflow::testing
