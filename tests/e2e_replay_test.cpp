// Replays end to end (issue 16), on the real binary with the scripted OpenAI-compatible
// provider, on whichever engine the pass runs: a candidate that fixes a failing tool call and
// one that breaks a passing one, a provider outage in the middle, a restart in the middle
// (resumed, no item redone), the user's documents byte-identical afterwards and nothing logged
// as an interaction, erasure, validation, who may call the routes, and tokens and cost before and
// after, priced by the server's --prices table.
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "auth/jwt.h"
#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

constexpr char kAdmin[] = "replay-admin-key-0123456789";
constexpr char kSecret[] = "replay-secret-0123456789abcdef";
const Headers kAsAdmin = {{"x-functions-key", kAdmin}};

// The admin key acting for `user` (the server is not in the open mode).
Headers AsUser(const std::string& user) {
  return {{"x-functions-key", kAdmin}, {"X-User-Id", user}};
}

std::string Str(simdjson::dom::element e) {
  std::string_view v;
  if (e.get(v) != simdjson::SUCCESS) return "<not a string>";
  return std::string(v);
}

ServerConfig Config(const FakeLlm& llm) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()},
                {"OMNIFLOW_LLM_MODEL", "fake-model"},
                {"OMNIFLOW_LLM_API_KEY", "sk-replay-secret-key"},
                {"OMNIFLOW_ADMIN_KEY", kAdmin},
                {"OMNIFLOW_JWT_SECRET", kSecret},
                {"FUNCTION_CODE_SAVE_INTERACTION", "key-save"}};
  return config;
}

// Saves an interaction of `user` with one tool call of `tool` that succeeded or failed.
void SaveWithTool(HttpClient& c, const std::string& user, const std::string& message,
                  const std::string& answer, const std::string& tool, bool ok,
                  const std::string& thread = "t1") {
  const std::string body =
      R"({"user_message":")" + message + R"(","assistant_response":")" + answer +
      R"(","thread_id":")" + thread + R"(","tool_calls":[{"tool_name":")" + tool +
      R"(","arguments":{"target_blob_name":"tasks.json"},"result":{"status":")" +
      (ok ? "success" : "error") + R"("},"status":")" + (ok ? "success" : "error") + R"("}],)" +
      R"("metadata":{"latency_ms":40,"usage":{"total_tokens":50},"outcome":"success"}})";
  HttpResponse r = c.Post("/api/save_interaction", body, AsUser(user));
  ASSERT_EQ(r.status, 201) << r.body;
}

// The user message of a chat-completions request: the last "user" message's content.
std::string LastUserMessage(const std::string& request) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(request).get(doc)) return "";
  std::string last;
  for (simdjson::dom::element m : doc["messages"].get_array()) {
    if (Str(m["role"]) == "user") last = Str(m["content"]);
  }
  return last;
}

FakeReply Ok(std::string body) { return FakeReply{200, std::move(body), {}, 0}; }

bool HasToolAnswer(const std::string& request) {
  return request.find("\"role\":\"tool\"") != std::string::npos;
}

// Polls the replay until its state is `state` (or 30 s pass); returns its last answer.
HttpResponse WaitFor(HttpClient& c, const std::string& id, const std::string& state = "done") {
  HttpResponse r;
  for (int i = 0; i < 600; ++i) {
    r = c.Get("/api/replays/" + id, kAsAdmin);
    if (r.status == 200 && Str(r.Json()["state"]) == state) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "replay " << id << " never reached " << state << ": " << r.body;
  return r;
}

std::string StartReplay(HttpClient& c, const std::string& body) {
  HttpResponse r = c.Post("/api/replays", body, kAsAdmin);
  EXPECT_EQ(r.status, 202) << r.body;
  if (r.status != 202) return "";
  return Str(r.Json()["replay_id"]);
}

// The results, every page, keyed by the original's user message.
std::map<std::string, std::string> Results(HttpClient& c, const std::string& id,
                                           const std::string& extra = "") {
  std::map<std::string, std::string> out;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    HttpResponse r = c.Get("/api/replays/" + id + "/results?limit=2" + extra +
                               (cursor.empty() ? "" : "&cursor=" + cursor),
                           kAsAdmin);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    auto j = r.Json();
    for (auto item : Items(j, "items")) {
      std::string message = Str(item["original"]["user_message"]);
      EXPECT_EQ(out.count(message), 0u) << "an item came twice: " << message;
      out[message] = std::string(simdjson::minify(item));
    }
    if (j["next_cursor"].is_null()) break;
    cursor = Str(j["next_cursor"]);
  }
  return out;
}

TEST(Replay, FixesOneBreaksOneNeverTouchesTheUsersDataAndIsNotLogged) {
  FakeLlm llm;
  // The candidate: reads tasks for "show", updates a missing entry for "rename", adds for
  // "add"; then answers in text.
  llm.SetResponder([](const std::string& request) {
    const std::string message = LastUserMessage(request);
    if (HasToolAnswer(request)) {
      return Ok(TextCompletion(message == "add bread" ? "Added." : "Done: " + message));
    }
    if (message == "show tasks") {
      return Ok(ToolCallsCompletion({{"c1", "get_data", R"({"target_blob_name":"tasks.json"})"}}));
    }
    if (message == "rename milk") {
      return Ok(ToolCallsCompletion(
          {{"c1", "update_data",
            R"({"target_blob_name":"tasks.json","entry_id":"Enope00","updates":{"title":"x"}})"}}));
    }
    return Ok(ToolCallsCompletion(
        {{"c1", "add_new_data",
          R"({"target_blob_name":"tasks.json","new_entry":{"title":"bread"}})"}}));
  });
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  ASSERT_EQ(
      c.Post("/api/add_new_data",
             R"({"target_blob_name":"tasks.json","new_entry":{"title":"milk"}})", AsUser("ada"))
          .status,
      200);
  SaveWithTool(c, "ada", "show tasks", "Sorry, that failed.", "get_data", false);
  SaveWithTool(c, "ada", "rename milk", "Renamed.", "update_data", true);
  SaveWithTool(c, "ada", "add bread", "Added.", "add_new_data", true);
  SaveWithTool(c, "bob", "show tasks", "Sorry.", "get_data", false);  // outside the filter
  const std::string documents =
      c.Get("/api/get_data?target_blob_name=tasks.json", AsUser("ada")).body;
  const std::string history = c.Get("/api/get_interaction_history?limit=100", AsUser("ada")).body;

  const std::string id = StartReplay(
      c, R"({"name":"prompt v2","filter":{"user_id":"ada"},"limit":10,"sample":"newest",)"
         R"("candidate":{"model":"cand-model","system_prompt":"Be exact."},"concurrency":2})");
  ASSERT_FALSE(id.empty());
  HttpResponse done = WaitFor(c, id);
  auto j = done.Json();
  EXPECT_EQ(IntAt(j["progress"], "done"), 3);
  EXPECT_EQ(IntAt(j["progress"], "total"), 3);
  EXPECT_EQ(Str(j["actor"]), "admin");
  EXPECT_EQ(Str(j["name"]), "prompt v2");
  EXPECT_EQ(IntAt(j["summary"], "failures_fixed"), 1) << done.body;
  EXPECT_EQ(IntAt(j["summary"], "failures_introduced"), 1) << done.body;
  EXPECT_EQ(IntAt(j["summary"], "errors"), 0) << done.body;
  EXPECT_EQ(IntAt(j["summary"], "changed"), 2) << done.body;
  EXPECT_EQ(IntAt(j["summary"]["tokens"], "original"), 150) << done.body;

  std::map<std::string, std::string> results = Results(c, id);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_NE(results["show tasks"].find(R"("failure":"fixed")"), std::string::npos)
      << results["show tasks"];
  EXPECT_NE(results["show tasks"].find(R"("title":"milk")"), std::string::npos)
      << "the sandbox holds the user's documents: " << results["show tasks"];
  EXPECT_NE(results["rename milk"].find(R"("failure":"introduced")"), std::string::npos)
      << results["rename milk"];
  EXPECT_NE(results["add bread"].find(R"("changed":false)"), std::string::npos)
      << results["add bread"];
  EXPECT_NE(results["add bread"].find(R"("tool_sequence":"same")"), std::string::npos);
  std::map<std::string, std::string> changed = Results(c, id, "&changed=true");
  EXPECT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed.count("add bread"), 0u);

  // The candidate's settings reached the provider, with the key of the server's own provider.
  bool saw_model = false, saw_prompt = false;
  for (const std::string& request : llm.requests()) {
    saw_model |= request.find(R"("model":"cand-model")") != std::string::npos;
    saw_prompt |= request.find(R"("content":"Be exact.")") != std::string::npos;
  }
  EXPECT_TRUE(saw_model);
  EXPECT_TRUE(saw_prompt);
  EXPECT_NE(llm.request_headers()[0].find("Bearer sk-replay-secret-key"), std::string::npos);

  // The replay wrote only to its sandbox and logged nothing.
  EXPECT_EQ(c.Get("/api/get_data?target_blob_name=tasks.json", AsUser("ada")).body, documents);
  EXPECT_EQ(c.Get("/api/get_interaction_history?limit=100", AsUser("ada")).body, history);

  HttpResponse list = c.Get("/api/replays", kAsAdmin);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Items(list.Json(), "replays").size(), 1u);

  // Erasing ada removes her items from the replay's results.
  ASSERT_EQ(c.Request("DELETE", "/api/users/ada", kAsAdmin).status, 200);
  EXPECT_TRUE(Results(c, id).empty());
  HttpResponse erased = c.Get("/api/replays/" + id, kAsAdmin);
  EXPECT_EQ(IntAt(erased.Json()["progress"], "total"), 0) << erased.body;

  // Removed: gone everywhere.
  EXPECT_EQ(c.Request("DELETE", "/api/replays/" + id, kAsAdmin).status, 200);
  EXPECT_EQ(c.Get("/api/replays/" + id, kAsAdmin).status, 404);
  EXPECT_EQ(c.Get("/api/replays/" + id + "/results", kAsAdmin).status, 404);
  EXPECT_EQ(c.Request("DELETE", "/api/replays/" + id, kAsAdmin).status, 404);
}

// Per million tokens. The originals were answered by gpt-old, the candidate's provider reports
// gpt-new under a dated snapshot name (priced as gpt-new).
constexpr char kPrices[] = R"({"as_of":"2026-12-01","currency":"USD","models":{
    "gpt-old":{"input":2,"cached_input":1,"output":10},
    "gpt-new":{"input":1,"cached_input":0.5,"output":4,"reasoning":8}}})";

// A text answer from `model` with usage: 500 prompt tokens (100 cached), 80 completion tokens
// (30 reasoning). Priced as gpt-new: 400*1 + 100*0.5 + 50*4 + 30*8 = 890 per million = $0.00089.
std::string PricedAnswer(const std::string& text, const std::string& model) {
  return R"({"id":"c","object":"chat.completion","model":")" + model +
         R"(","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",)"
         R"("content":")" +
         text +
         R"("}}],"usage":{"prompt_tokens":500,"completion_tokens":80,)"
         R"("total_tokens":580,"prompt_tokens_details":{"cached_tokens":100},)"
         R"("completion_tokens_details":{"reasoning_tokens":30}}})";
}

// The item of `results` (a results page's body) whose original's user message is `message`.
simdjson::dom::element ItemOf(simdjson::dom::element results, const std::string& message) {
  for (simdjson::dom::element item : Items(results, "items")) {
    if (Str(item["original"]["user_message"]) == message) return item;
  }
  ADD_FAILURE() << "no result for " << message;
  return simdjson::dom::element();
}

double CostAt(simdjson::dom::element e) {
  double v = -1;
  if (e["cost_usd"].get(v) != simdjson::SUCCESS) return -1;
  return v;
}

// "input cached_input output reasoning" of e.tokens.
std::string TokensAt(simdjson::dom::element e) {
  simdjson::dom::element t = MemberAt(e, "tokens");
  return std::to_string(IntAt(t, "input")) + " " + std::to_string(IntAt(t, "cached_input")) + " " +
         std::to_string(IntAt(t, "output")) + " " + std::to_string(IntAt(t, "reasoning"));
}

TEST(Replay, TokensAndCostBeforeAndAfterArePricedByTheServersTable) {
  FakeLlm llm;
  llm.SetResponder([](const std::string& request) {
    const std::string message = LastUserMessage(request);
    // For "four", the provider answers with a model the table has no price for.
    return Ok(
        PricedAnswer("new " + message, message == "four" ? "unknown-model" : "gpt-new-2026-01-01"));
  });
  TempDir files;
  const std::string prices = files.path() + "/prices.json";
  std::ofstream(prices) << kPrices;
  ServerConfig config = Config(llm);
  config.args = {"--prices", prices};
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  const auto save = [&c](const std::string& message, const std::string& metadata) {
    HttpResponse r = c.Post("/api/save_interaction",
                            R"({"user_message":")" + message +
                                R"(","assistant_response":"old","metadata":)" + metadata + "}",
                            AsUser("ada"));
    ASSERT_EQ(r.status, 201) << r.body;
  };
  // (1000-400)*2 + 400*1 + 200*10 = 3600 per million: $0.0036.
  save("one", R"({"model":"gpt-old","usage":{"prompt_tokens":1000,"completion_tokens":200,)"
              R"("prompt_tokens_details":{"cached_tokens":400}}})");
  // 100*2 + 50*10 = 700: $0.0007.
  save("two", R"({"model":"gpt-old","usage":{"input_tokens":100,"output_tokens":50}})");
  save("three", R"({"model":"gpt-old"})");  // no usage: nothing known, not zero
  save("four", R"({"model":"mystery","usage":{"input_tokens":10,"output_tokens":5}})");

  const std::string id = StartReplay(
      c, R"({"filter":{"user_id":"ada"},"candidate":{"model":"cand-model"},"concurrency":2})");
  ASSERT_FALSE(id.empty());
  HttpResponse done = WaitFor(c, id);
  simdjson::dom::element summary = done.Json()["summary"];
  ASSERT_EQ(summary["usage"].error(), simdjson::SUCCESS) << "no usage: " << done.body;
  // Before: three originals had usage, two of them priced; after: four, three priced.
  simdjson::dom::element before = summary["usage"]["original"];
  EXPECT_EQ(IntAt(before, "items"), 3) << done.body;
  EXPECT_EQ(IntAt(before, "priced_items"), 2) << done.body;
  EXPECT_EQ(IntAt(before, "unpriced_items"), 1) << done.body;
  EXPECT_EQ(TokensAt(before), "1110 400 255 0") << done.body;
  EXPECT_DOUBLE_EQ(CostAt(before), 0.0043) << done.body;
  simdjson::dom::element after = summary["usage"]["replay"];
  EXPECT_EQ(IntAt(after, "items"), 4) << done.body;
  EXPECT_EQ(IntAt(after, "priced_items"), 3) << done.body;
  EXPECT_EQ(IntAt(after, "unpriced_items"), 1) << done.body;
  EXPECT_EQ(TokensAt(after), "2000 400 320 120") << done.body;
  EXPECT_DOUBLE_EQ(CostAt(after), 0.00267) << done.body;
  // The numbers as /api/stats writes them: exact decimals.
  EXPECT_NE(done.body.find(R"("cost":{"original":0.0043,"replay":0.00267})"), std::string::npos)
      << done.body;

  HttpResponse page = c.Get("/api/replays/" + id + "/results?limit=10", kAsAdmin);
  ASSERT_EQ(page.status, 200) << page.body;
  simdjson::dom::element results = page.Json();
  for (simdjson::dom::element item : Items(results, "items")) {
    ASSERT_EQ(item["usage"].error(), simdjson::SUCCESS) << "no usage: " << page.body;
  }
  simdjson::dom::element one = ItemOf(results, "one")["usage"];
  EXPECT_EQ(Str(one["original"]["model"]), "gpt-old");
  EXPECT_EQ(TokensAt(one["original"]), "1000 400 200 0");
  EXPECT_DOUBLE_EQ(CostAt(one["original"]), 0.0036);
  EXPECT_EQ(Str(one["replay"]["model"]), "gpt-new-2026-01-01");
  EXPECT_EQ(TokensAt(one["replay"]), "500 100 80 30");
  EXPECT_DOUBLE_EQ(CostAt(one["replay"]), 0.00089);
  EXPECT_NE(page.body.find(R"("cost_usd":0.00089})"), std::string::npos) << page.body;
  simdjson::dom::element two = ItemOf(results, "two")["usage"];
  EXPECT_DOUBLE_EQ(CostAt(two["original"]), 0.0007);
  simdjson::dom::element three = ItemOf(results, "three")["usage"];
  EXPECT_TRUE(three["original"].is_null()) << simdjson::minify(three);
  EXPECT_DOUBLE_EQ(CostAt(three["replay"]), 0.00089);
  // An unpriced model: tokens shown, no cost (null, not 0), on both sides.
  simdjson::dom::element four = ItemOf(results, "four")["usage"];
  EXPECT_EQ(TokensAt(four["original"]), "10 0 5 0");
  EXPECT_TRUE(four["original"]["cost_usd"].is_null()) << simdjson::minify(four);
  EXPECT_EQ(Str(four["replay"]["model"]), "unknown-model");
  EXPECT_TRUE(four["replay"]["cost_usd"].is_null()) << simdjson::minify(four);

  // The command line prices with its --prices and prints the cost before and after.
  const std::string dir = s.server->data_dir();
  s.client.reset();
  ASSERT_EQ(s.server->Stop(), 0);
  const std::vector<std::pair<std::string, std::string>> env = {
      {"OMNIFLOW_LLM_BASE_URL", llm.base_url()}, {"OMNIFLOW_LLM_MODEL", "fake-model"}};
  std::string out;
  EXPECT_EQ(ServerProcess::RunCommand({"replay", "--data-dir", dir, "--filter", "user_id=ada",
                                       "--model", "cand-model", "--prices", prices},
                                      env, &out),
            0)
      << out;
  EXPECT_NE(out.find(R"("cost":{"original":0.0043,"replay":0.00267})"), std::string::npos) << out;

  // Erasing ada takes her items, their tokens and their cost out of the summary.
  std::string error;
  ASSERT_TRUE(s.server->Start(&error)) << error;
  s.client = std::make_unique<HttpClient>(s.server->port());
  ASSERT_EQ(s.client->Request("DELETE", "/api/users/ada", kAsAdmin).status, 200);
  HttpResponse erased = s.client->Get("/api/replays/" + id, kAsAdmin);
  ASSERT_EQ(erased.status, 200) << erased.body;
  EXPECT_NE(erased.body.find(R"("cost":{"original":0,"replay":0})"), std::string::npos)
      << erased.body;
  EXPECT_EQ(IntAt(erased.Json()["summary"]["usage"]["replay"], "items"), 0) << erased.body;
}

TEST(Replay, AProviderOutageInTheMiddleIsRecordedAndTheReplayFinishes) {
  FakeLlm llm;
  llm.SetResponder([](const std::string& request) {
    const std::string message = LastUserMessage(request);
    if (message.rfind("down", 0) == 0) {
      return FakeReply{503, R"({"error":{"message":"overloaded"}})", {{"Retry-After", "0"}}, 0};
    }
    return Ok(TextCompletion("ok " + message));
  });
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  for (const char* m : {"up 1", "down 2", "down 3", "up 4"}) {
    ASSERT_EQ(c.Post("/api/save_interaction", SaveBody(m, "t1"), AsUser("ada")).status, 201);
  }
  const std::string id =
      StartReplay(c, R"({"filter":{},"candidate":{"model":"m2"},"concurrency":1})");
  ASSERT_FALSE(id.empty());
  HttpResponse done = WaitFor(c, id);
  auto j = done.Json();
  EXPECT_EQ(IntAt(j["progress"], "done"), 4);
  EXPECT_EQ(IntAt(j["summary"], "errors"), 2);
  EXPECT_EQ(IntAt(j["summary"], "failures_introduced"), 0);
  std::map<std::string, std::string> results = Results(c, id);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_NE(results["down 2"].find(R"("outcome":"provider_error")"), std::string::npos)
      << results["down 2"];
  EXPECT_NE(results["down 2"].find(R"("failure":"error")"), std::string::npos);
  EXPECT_NE(results["up 4"].find(R"("response":"ok up 4")"), std::string::npos) << results["up 4"];
  // A provider that never answered reported no usage: null, not 0 tokens at $0.
  EXPECT_NE(results["down 2"].find(R"("usage":{"original":null,"replay":null})"), std::string::npos)
      << results["down 2"];
  EXPECT_NE(results["up 4"].find(R"("replay":{"model":"fake-model","tokens":{"input":11,)"),
            std::string::npos)
      << results["up 4"];
  EXPECT_EQ(IntAt(j["summary"]["usage"]["replay"], "items"), 2) << done.body;
  // The earlier turns of the thread as logged reached the provider: "up 1" and its answer
  // precede "down 2", and nothing after it.
  bool saw_history = false;
  for (const std::string& request : llm.requests()) {
    if (LastUserMessage(request) != "up 4") continue;
    saw_history = request.find("re: down 3") != std::string::npos &&
                  request.find("\"content\":\"up 1\"") != std::string::npos;
  }
  EXPECT_TRUE(saw_history);
}

TEST(Replay, ARestartInTheMiddleResumesWithoutRedoingItems) {
  FakeLlm llm;
  llm.SetResponder([](const std::string& request) {
    FakeReply reply = Ok(TextCompletion("again " + LastUserMessage(request)));
    reply.delay_ms = 250;
    return reply;
  });
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(
        s.client->Post("/api/save_interaction", SaveBody("m" + std::to_string(i)), AsUser("ada"))
            .status,
        201);
  }
  const std::string id = StartReplay(
      *s.client, R"({"filter":{"user_id":"ada"},"candidate":{"model":"m2"},"concurrency":1})");
  ASSERT_FALSE(id.empty());
  int64_t before = 0;
  for (int i = 0; i < 200 && before < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    HttpResponse r = s.client->Get("/api/replays/" + id, kAsAdmin);
    before = IntAt(r.Json()["progress"], "done");
  }
  ASSERT_GE(before, 3);
  ASSERT_LT(before, 8);
  s.client.reset();
  s.server->Kill();  // mid-item: the in-flight one is lost, the finished ones are kept
  std::string error;
  ASSERT_TRUE(s.server->Start(&error)) << error;
  s.client = std::make_unique<HttpClient>(s.server->port());
  HttpResponse done = WaitFor(*s.client, id);
  auto j = done.Json();
  EXPECT_EQ(IntAt(j["progress"], "done"), 8);
  EXPECT_EQ(IntAt(j["summary"], "replayed"), 8);
  std::map<std::string, std::string> results = Results(*s.client, id);
  EXPECT_EQ(results.size(), 8u);
  // One call per item, plus at most the one in flight when the server was killed.
  EXPECT_LE(llm.calls(), 9);
  EXPECT_GE(llm.calls(), 8);
}

// A replay resumed after a restart runs on the documents as they were when it started, not
// on the user's documents at the restart (the copy taken at the start is kept with the replay).
TEST(Replay, AResumedReplayRunsOnTheDocumentsTakenAtItsStart) {
  FakeLlm llm;
  llm.SetResponder([](const std::string& request) {
    if (HasToolAnswer(request)) return FakeReply{200, TextCompletion("Done."), {}, 120};
    return FakeReply{
        200,
        ToolCallsCompletion({{"c1", "get_data", R"({"target_blob_name":"tasks.json"})"}}),
        {},
        120};
  });
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  ASSERT_EQ(
      s.client
          ->Post("/api/add_new_data",
                 R"({"target_blob_name":"tasks.json","new_entry":{"title":"milk"}})", AsUser("ada"))
          .status,
      200);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(
        s.client->Post("/api/save_interaction", SaveBody("m" + std::to_string(i)), AsUser("ada"))
            .status,
        201);
  }
  const std::string id = StartReplay(
      *s.client, R"({"filter":{"user_id":"ada"},"candidate":{"model":"m2"},"concurrency":1})");
  ASSERT_FALSE(id.empty());
  int64_t before = 0;
  for (int i = 0; i < 400 && before < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    before = IntAt(s.client->Get("/api/replays/" + id, kAsAdmin).Json()["progress"], "done");
  }
  ASSERT_GE(before, 2);
  // The user's documents change while the replay runs, and the server dies before it ends.
  ASSERT_EQ(s.client
                ->Post("/api/add_new_data",
                       R"({"target_blob_name":"tasks.json","new_entry":{"title":"bread"}})",
                       AsUser("ada"))
                .status,
            200);
  s.client.reset();
  s.server->Kill();
  std::string error;
  ASSERT_TRUE(s.server->Start(&error)) << error;
  s.client = std::make_unique<HttpClient>(s.server->port());
  HttpResponse done = WaitFor(*s.client, id);
  EXPECT_EQ(IntAt(done.Json()["progress"], "done"), 8) << done.body;
  std::map<std::string, std::string> results = Results(*s.client, id);
  ASSERT_EQ(results.size(), 8u);
  ASSERT_LT(before, 8) << "the replay ended before the restart: nothing was resumed";
  for (const auto& [message, item] : results) {
    EXPECT_NE(item.find(R"("title":"milk")"), std::string::npos) << message << ": " << item;
    EXPECT_EQ(item.find("bread"), std::string::npos)
        << message << " ran on the documents of the restart: " << item;
  }
}

TEST(Replay, ACandidateOnAnotherProviderNeverGetsTheServersKey) {
  FakeLlm server_llm;
  FakeLlm other_llm;
  other_llm.SetFallback(Ok(TextCompletion("from elsewhere")));
  RunningServer s(Config(server_llm));
  ASSERT_TRUE(s.started);
  ASSERT_EQ(s.client->Post("/api/save_interaction", SaveBody("hello"), AsUser("ada")).status, 201);
  const std::string id = StartReplay(
      *s.client, R"({"candidate":{"model":"m","base_url":")" + other_llm.base_url() + R"("}})");
  ASSERT_FALSE(id.empty());
  HttpResponse done = WaitFor(*s.client, id);
  EXPECT_EQ(IntAt(done.Json()["summary"], "replayed"), 1) << done.body;
  EXPECT_EQ(server_llm.calls(), 0);
  ASSERT_EQ(other_llm.calls(), 1);
  EXPECT_EQ(other_llm.request_headers()[0].find("sk-replay-secret-key"), std::string::npos)
      << other_llm.request_headers()[0];
  EXPECT_EQ(other_llm.request_headers()[0].find("Authorization"), std::string::npos)
      << other_llm.request_headers()[0];
}

TEST(Replay, BodiesAreValidatedWithClearErrors) {
  FakeLlm llm;
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "candidate is required"},
      {R"({"candidate":{}})", "a model or a system_prompt"},
      {R"({"candidate":{"model":"m"},"limit":0})", "limit must be an integer from 1 to 10000"},
      {R"({"candidate":{"model":"m"},"limit":10001})", "limit must be"},
      {R"({"candidate":{"model":"m"},"concurrency":17})",
       "concurrency must be an integer from 1 to 16"},
      {R"({"candidate":{"model":"m"},"sample":"oldest"})", "sample must be"},
      {R"({"candidate":{"model":"m"},"mystery":1})", "unknown field"},
      {R"({"candidate":{"model":"m","temperature":1}})", "unknown candidate field"},
      {R"({"candidate":{"model":"m","base_url":"file:///etc/passwd"}})", "http:// or https://"},
      {R"({"candidate":{"model":"m"},"filter":{"status":"weird"}})", "filter: status must be"},
      {R"({"candidate":{"model":"m"},"filter":{"from":"yesterday"}})", "filter: "},
      {R"({"candidate":{"model":"m"},"filter":{"color":"red"}})", "unknown filter field"},
      {R"({"candidate":{"model":"m"},"filter":{"user_id":"bad user!"}})", "filter: "},
      {R"({"candidate":{"model":7}})", "candidate.model must be a string"},
      {R"([1])", "JSON object"},
  };
  for (const auto& [body, expected] : cases) {
    HttpResponse r = s.client->Post("/api/replays", body, kAsAdmin);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_NE(r.body.find(expected), std::string::npos) << body << " -> " << r.body;
  }
  EXPECT_EQ(s.client->Get("/api/replays/rp_nothex", kAsAdmin).status, 404);
  EXPECT_EQ(s.client->Get("/api/replays/rp_000000000000000000000000", kAsAdmin).status, 404);
  EXPECT_EQ(
      s.client->Get("/api/replays/rp_000000000000000000000000/results?limit=0", kAsAdmin).status,
      400);
  EXPECT_EQ(Items(s.client->Get("/api/replays", kAsAdmin).Json(), "replays").size(), 0u);
}

TEST(Replay, OnlyTheAdminKeyReachesTheRoutes) {
  FakeLlm llm;
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  ASSERT_EQ(c.Post("/api/save_interaction", SaveBody("hello"), AsUser("ada")).status, 201);
  const std::string id = StartReplay(c, R"({"candidate":{"model":"m"}})");
  ASSERT_FALSE(id.empty());
  WaitFor(c, id);
  const std::string body = R"({"candidate":{"model":"m"}})";
  const std::vector<std::pair<std::string, Headers>> intruders = {
      {"no credentials", {}},
      {"a user's token",
       {{"Authorization", "Bearer " + SignHs256(R"({"sub":"ada","exp":4102444800})", kSecret)}}},
      {"a function key naming a user", {{"x-functions-key", "key-save"}, {"X-User-Id", "ada"}}},
      {"a wrong admin key", {{"x-functions-key", "guess"}}},
      {"the admin key as ?code=", {}},
  };
  for (const auto& [who, headers] : intruders) {
    const std::string code = who == "the admin key as ?code=" ? "?code=wrong" : "";
    for (HttpResponse r :
         {c.Post("/api/replays" + code, body, headers), c.Get("/api/replays" + code, headers),
          c.Get("/api/replays/" + id + code, headers),
          c.Get("/api/replays/" + id + "/results" + code, headers),
          c.Request("DELETE", "/api/replays/" + id + code, headers)}) {
      EXPECT_TRUE(r.status == 401 || r.status == 403) << who << ": " << r.status << " " << r.body;
    }
  }
  // Not forwarded by proxy_router, percent-encoded or not.
  EXPECT_EQ(c.Get("/api/proxy_router/replays", kAsAdmin).status, 404);
  EXPECT_EQ(c.Get("/api/replays/rp%5F000000000000000000000000", kAsAdmin).status, 404);
  EXPECT_EQ(c.Get("/api/replays/" + id, kAsAdmin).status, 200);  // still there
  // Each admin request is audited under the route's action.
  HttpResponse audit = c.Get("/api/audit?action=replay_start", kAsAdmin);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find(R"("actor":"admin")"), std::string::npos) << audit.body;
}

TEST(Replay, TheCommandLinePrintsTheSummaryAndExitsOneWhenItIntroducedFailures) {
  FakeLlm llm;
  // The candidate reads a document under a hostile name: every tool call fails.
  llm.SetResponder([](const std::string& request) {
    if (HasToolAnswer(request)) return Ok(TextCompletion("Here."));
    return Ok(ToolCallsCompletion({{"c1", "get_data", R"({"target_blob_name":"../etc"})"}}));
  });
  RunningServer s(Config(llm));
  ASSERT_TRUE(s.started);
  SaveWithTool(*s.client, "ada", "show tasks", "Here.", "get_data", true);
  SaveWithTool(*s.client, "bob", "show tasks", "Here.", "get_data", true);
  const std::string dir = s.server->data_dir();
  s.client.reset();
  ASSERT_EQ(s.server->Stop(), 0);
  const std::vector<std::pair<std::string, std::string>> env = {
      {"OMNIFLOW_LLM_BASE_URL", llm.base_url()}, {"OMNIFLOW_LLM_MODEL", "fake-model"}};
  std::string out;
  EXPECT_EQ(ServerProcess::RunCommand(
                {"replay", "--data-dir", dir, "--filter", "user_id=ada", "--model", "cand-model"},
                env, &out),
            1)
      << out;
  EXPECT_NE(out.find(R"("failures_introduced":1)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("done":1,"total":1)"), std::string::npos) << out;
  EXPECT_EQ(
      ServerProcess::RunCommand(
          {"replay", "--data-dir", dir, "--filter", "status=weird", "--model", "m"}, env, &out),
      2);
  EXPECT_NE(out.find("status must be"), std::string::npos) << out;
  // A candidate that calls no tool introduces no failure: exit 0.
  llm.SetResponder([](const std::string&) { return Ok(TextCompletion("Fine.")); });
  EXPECT_EQ(ServerProcess::RunCommand({"replay", "--data-dir", dir, "--model", "m"}, env, &out), 0)
      << out;
  EXPECT_NE(out.find(R"("replayed":2)"), std::string::npos) << out;
}

}  // namespace
}  // namespace omniflow::testing
