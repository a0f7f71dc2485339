// End-to-end tests of tokens and cost (docs/cost.md) over HTTP against the real binary, on both
// engines: usage saved in metadata.usage under either provider's names reaches GET /api/stats
// totals, days, models and users; the cost is priced once, at save, by --prices, so a restart
// with other prices leaves stored costs alone; a bad price file stops the server at start; an
// erased user's tokens leave the stats.
#include <algorithm>
#include <fstream>

#include "support/e2e.h"

namespace omniflow::testing {
namespace {

constexpr char kAdmin[] = "cost-admin-key-0001";

// Per million tokens: cached input at half, reasoning dearer than plain output.
constexpr char kPrices[] = R"({"as_of":"2026-12-01","currency":"USD","models":{
    "gpt-test":{"input":2,"cached_input":1,"output":10,"reasoning":30}}})";
constexpr char kPricesTimesTen[] = R"({"as_of":"2027-01-01","currency":"USD","models":{
    "gpt-test":{"input":20,"cached_input":10,"output":100,"reasoning":300},
    "mystery":{"input":1,"output":1}}})";

// OpenAI chat names, a dated snapshot: (1000-400)*2 + 400*1 + (300-100)*10 + 100*30 = 6600 per
// million tokens = $0.0066.
constexpr char kChatSave[] = R"({"user_message":"a","assistant_response":"b","metadata":{
    "model":"gpt-test-2025-01-01","usage":{"prompt_tokens":1000,"completion_tokens":300,
    "total_tokens":1300,"prompt_tokens_details":{"cached_tokens":400},
    "completion_tokens_details":{"reasoning_tokens":100}}}})";
// Responses / GenAI names: (100-50)*2 + 50*1 + (20-10)*10 + 10*30 = 550 -> $0.00055.
constexpr char kResponsesSave[] = R"({"user_message":"c","assistant_response":"d","metadata":{
    "model":"gpt-test","usage":{"input_tokens":100,"output_tokens":20,
    "input_tokens_details":{"cached_tokens":50},"output_tokens_details":{"reasoning_tokens":10}}}})";
// A model the table does not price: tokens counted, no cost.
constexpr char kUnpricedSave[] = R"({"user_message":"e","assistant_response":"f","metadata":{
    "model":"mystery","usage":{"input_tokens":7,"output_tokens":3,"cached_input_tokens":2,
    "reasoning_tokens":1}}})";

double Cost(simdjson::dom::element e) {
  double v = -1;
  if (e["cost_usd"].get(v) != simdjson::SUCCESS) return -1;
  return v;
}

// "input cached_input output reasoning" of e.tokens.
std::string Tokens(simdjson::dom::element e) {
  simdjson::dom::element t = MemberAt(e, "tokens");
  return std::to_string(IntAt(t, "input")) + " " + std::to_string(IntAt(t, "cached_input")) + " " +
         std::to_string(IntAt(t, "output")) + " " + std::to_string(IntAt(t, "reasoning"));
}

std::string WriteFile(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

ServerConfig Config(const std::string& data_dir, const std::string& prices) {
  ServerConfig config;
  config.data_dir = data_dir;
  config.args = {"--prices", prices};
  config.env = {{"OMNIFLOW_ADMIN_KEY", kAdmin}};
  return config;
}

Headers AdminAs(const std::string& user) {
  return {{"x-functions-key", kAdmin}, {"X-User-Id", user}};
}
Headers Admin() { return {{"x-functions-key", kAdmin}}; }

void Save(HttpClient& c, const std::string& user, const std::string& body) {
  HttpResponse r = c.Post("/api/save_interaction", body, AdminAs(user));
  EXPECT_EQ(r.status, 201) << r.body;
}

HttpResponse Stats(HttpClient& c, const std::string& query = "") {
  HttpResponse r = c.Get("/api/stats" + query, Admin());
  EXPECT_EQ(r.status, 200) << r.body;
  return r;
}

TEST(CostApi, StatsSumTokensAndCostInTotalsDaysModelsAndUsers) {
  TempDir dir, files;
  RunningServer s(Config(dir.path(), WriteFile(files, "prices.json", kPrices)));
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  Save(c, "alice", kChatSave);
  Save(c, "alice", kUnpricedSave);
  Save(c, "bob", kResponsesSave);
  Save(c, "bob", R"({"user_message":"g","assistant_response":"h"})");  // no usage

  HttpResponse r = Stats(c);
  simdjson::dom::element totals = MemberAt(r.Json(), "totals");
  EXPECT_EQ(IntAt(totals, "interactions"), 4);
  EXPECT_EQ(IntAt(totals, "usage_interactions"), 3);
  // Cached tokens are part of input and reasoning part of output: never added on top.
  EXPECT_EQ(Tokens(totals), "1107 452 323 111");
  EXPECT_DOUBLE_EQ(Cost(totals), 0.00715);
  EXPECT_NE(r.body.find("\"cost_usd\":0.00715"), std::string::npos) << r.body;
  EXPECT_EQ(IntAt(totals, "unpriced_interactions"), 1);
  auto days = Items(r.Json(), "per_day");
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(Tokens(days[0]), "1107 452 323 111");
  EXPECT_DOUBLE_EQ(Cost(days[0]), 0.00715);

  auto models = Items(r.Json(), "usage_by_model");  // most cost first
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(StrAt(models[0], "model"), "gpt-test-2025-01-01");
  EXPECT_DOUBLE_EQ(Cost(models[0]), 0.0066);
  EXPECT_EQ(StrAt(models[1], "model"), "gpt-test");
  EXPECT_DOUBLE_EQ(Cost(models[1]), 0.00055);
  EXPECT_EQ(Tokens(models[1]), "100 50 20 10");
  EXPECT_EQ(StrAt(models[2], "model"), "mystery");
  EXPECT_EQ(Cost(models[2]), 0);
  EXPECT_EQ(IntAt(models[2], "unpriced_interactions"), 1);

  auto users = Items(r.Json(), "usage_by_user");
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(StrAt(users[0], "user_id"), "alice");
  EXPECT_EQ(Tokens(users[0]), "1007 402 303 101");
  EXPECT_DOUBLE_EQ(Cost(users[0]), 0.0066);
  EXPECT_EQ(StrAt(users[1], "user_id"), "bob");
  EXPECT_EQ(IntAt(users[1], "interactions"), 1);

  r = Stats(c, "?user_id=bob");
  totals = MemberAt(r.Json(), "totals");
  EXPECT_EQ(Tokens(totals), "100 50 20 10");
  EXPECT_DOUBLE_EQ(Cost(totals), 0.00055);
  ASSERT_EQ(Items(r.Json(), "usage_by_user").size(), 1u);

  // The stored interaction is served exactly as sent: usage is kept beside it, not added.
  r = c.Get("/api/get_interaction_history?limit=10", AdminAs("bob"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("cost"), std::string::npos) << r.body;
}

TEST(CostApi, APriceChangeAfterIngestLeavesStoredCostsAlone) {
  TempDir dir, files;
  const std::string cheap = WriteFile(files, "cheap.json", kPrices);
  const std::string dear = WriteFile(files, "dear.json", kPricesTimesTen);
  {
    RunningServer s(Config(dir.path(), cheap));
    ASSERT_TRUE(s.started);
    Save(*s.client, "alice", kChatSave);
    Save(*s.client, "alice", kUnpricedSave);
    EXPECT_DOUBLE_EQ(Cost(MemberAt(Stats(*s.client).Json(), "totals")), 0.0066);
    EXPECT_EQ(s.server->Stop(), 0);
  }
  RunningServer s(Config(dir.path(), dear));
  ASSERT_TRUE(s.started);
  HttpResponse stats = Stats(*s.client);  // owns the document `totals` points into
  simdjson::dom::element totals = MemberAt(stats.Json(), "totals");
  EXPECT_DOUBLE_EQ(Cost(totals), 0.0066);                // not 0.066: priced when saved
  EXPECT_EQ(IntAt(totals, "unpriced_interactions"), 1);  // mystery now has a price; not re-priced
  // New saves take the new prices.
  Save(*s.client, "alice", kChatSave);
  EXPECT_DOUBLE_EQ(Cost(MemberAt(Stats(*s.client).Json(), "totals")), 0.0066 + 0.066);
}

TEST(CostApi, AnInvalidPriceFileStopsTheServerSayingWhy) {
  TempDir dir, files;
  const std::string bad = WriteFile(
      files, "bad.json",
      R"({"as_of":"2026-12-01","currency":"USD","models":{"gpt-test":{"input":-1,"output":2}}})");
  ServerProcess server(Config(dir.path(), bad));
  std::string error;
  EXPECT_FALSE(server.Start(&error));
  EXPECT_NE(error.find(bad + ": models.gpt-test.input: must be a number"), std::string::npos)
      << error;
  ServerProcess missing(Config(dir.path(), files.path() + "/absent.json"));
  EXPECT_FALSE(missing.Start(&error));
  EXPECT_NE(error.find("absent.json: cannot be read"), std::string::npos) << error;
}

TEST(CostApi, ImportPricesUsageByItsOwnPriceFile) {
  TempDir dir, files;
  std::string line = kChatSave;
  line.erase(std::remove(line.begin(), line.end(), '\n'), line.end());
  line.insert(1, R"("user_id":"alice","timestamp":"2025-12-01T10:00:00Z",)");
  const std::string jsonl = WriteFile(files, "in.jsonl", line + "\n");
  std::string out;
  ASSERT_EQ(ServerProcess::RunCommand({"import", jsonl, "--data-dir", dir.path(), "--prices",
                                       WriteFile(files, "prices.json", kPrices)},
                                      {}, &out),
            0)
      << out;
  // Served by a server with other prices: the import's cost stands.
  RunningServer s(Config(dir.path(), WriteFile(files, "dear.json", kPricesTimesTen)));
  ASSERT_TRUE(s.started);
  HttpResponse stats = Stats(*s.client);  // owns the document `totals` points into
  simdjson::dom::element totals = MemberAt(stats.Json(), "totals");
  EXPECT_EQ(Tokens(totals), "1000 400 300 100");
  EXPECT_DOUBLE_EQ(Cost(totals), 0.0066);
}

TEST(CostApi, ErasureRemovesTheUsersTokensAndCostFromStats) {
  TempDir dir, files;
  RunningServer s(Config(dir.path(), WriteFile(files, "prices.json", kPrices)));
  ASSERT_TRUE(s.started);
  auto& c = *s.client;
  Save(c, "alice", kChatSave);
  Save(c, "bob", kResponsesSave);
  HttpResponse r = c.Request("DELETE", "/api/users/alice", Admin());
  ASSERT_EQ(r.status, 200) << r.body;
  r = Stats(c);
  simdjson::dom::element totals = MemberAt(r.Json(), "totals");
  EXPECT_EQ(Tokens(totals), "100 50 20 10");
  EXPECT_DOUBLE_EQ(Cost(totals), 0.00055);
  EXPECT_EQ(Items(r.Json(), "usage_by_user").size(), 1u);
  EXPECT_EQ(StrAt(Items(r.Json(), "usage_by_user")[0], "user_id"), "bob");
  EXPECT_EQ(Items(r.Json(), "usage_by_model").size(), 1u);
  // And after a restart (the aggregates are durable, not rebuilt from memory).
  s.Restart();
  EXPECT_EQ(Tokens(MemberAt(Stats(*s.client).Json(), "totals")), "100 50 20 10");
}

}  // namespace
}  // namespace omniflow::testing
