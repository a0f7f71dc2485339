// tool_call_handler end to end, against a scripted OpenAI-compatible provider on loopback: the
// answer, the data tools and their isolation, the logged interaction with every field, thread
// continuity, hostile tool arguments, provider failures, and logging failures that never fail
// the request and are replayed from the spool.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/e2e.h"
#include "support/fake_llm.h"
#include "support/small_disk.h"

namespace omniflow::testing {
namespace {

using Clock = std::chrono::steady_clock;

ServerConfig WithProvider(const FakeLlm& llm, std::vector<std::pair<std::string, std::string>> extra = {}) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()},
                {"OMNIFLOW_LLM_MODEL", "fake-model"},
                {"OMNIFLOW_LLM_API_KEY", "sk-test-secret-key-123"}};
  for (auto& e : extra) config.env.push_back(std::move(e));
  return config;
}

std::string Message(const std::string& text, const std::string& thread = "") {
  std::string body = "{\"message\":\"" + text + "\"";
  if (!thread.empty()) body += ",\"thread_id\":\"" + thread + "\"";
  return body + "}";
}

// Polls the user's history until it holds at least `n` interactions (logging is asynchronous).
HttpResponse WaitForHistory(HttpClient& c, const std::string& user, int64_t n,
                            const std::string& query = "") {
  HttpResponse r;
  for (int i = 0; i < 100; ++i) {
    r = c.Get("/api/get_interaction_history?limit=100" + query, As(user));
    if (r.status == 200 && IntAt(r.Json(), "total") >= n) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "history of " << user << " never reached " << n << ": " << r.body;
  return r;
}

// Every line waiting in a spool directory (the spool file and one being replayed).
std::string SpoolContents(const std::string& dir) {
  std::string all;
  for (const char* name : {"/interactions.replaying.jsonl", "/interactions.jsonl"}) {
    std::ifstream in(dir + name);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

std::string Str(simdjson::dom::element e) {
  std::string_view v;
  if (e.get(v) != simdjson::SUCCESS) return "<not a string>";
  return std::string(v);
}

TEST(ToolCallHandler, NoProviderIs503NamingTheVariables) {
  RunningServer s;
  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("hello"), As("u1"));
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("OMNIFLOW_LLM_BASE_URL"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("OMNIFLOW_LLM_MODEL"), std::string::npos) << r.body;
}

TEST(ToolCallHandler, AnswersRunsToolsAndLogsEveryField) {
  FakeLlm llm;
  llm.PushToolCalls({{"call_1", "add_new_data",
                      R"({"target_blob_name":"tasks.json","new_entry":{"title":"Buy milk","due":"friday"}})"}});
  llm.PushText("Added \"Buy milk\" to your tasks.");
  RunningServer s(WithProvider(llm));
  HttpResponse r = s.client->Post("/api/tool_call_handler",
                                  "{\"message\":\"Add a task: buy milk\",\"user_id\":\"ada\"}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.Json();
  EXPECT_EQ(Str(j["status"]), "success");
  EXPECT_EQ(Str(j["response"]), "Added \"Buy milk\" to your tasks.");
  std::string thread = Str(j["thread_id"]);
  EXPECT_EQ(thread.rfind("thread_", 0), 0u) << thread;
  std::string id = Str(j["interaction_id"]);
  EXPECT_EQ(id.rfind("INT_", 0), 0u) << id;
  auto calls = Items(j, "tool_calls");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(Str(calls[0]["tool_name"]), "add_new_data");
  EXPECT_EQ(Str(calls[0]["status"]), "success");
  EXPECT_EQ(IntAt(calls[0]["result"], "entry_count"), 1);

  // The tool wrote the user's data; the data function reads it back.
  HttpResponse data = s.client->Get("/api/get_data?target_blob_name=tasks.json", As("ada"));
  ASSERT_EQ(data.status, 200) << data.body;
  auto entries = Items(data.Json(), "entries");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(Str(entries[0]["title"]), "Buy milk");
  EXPECT_EQ(Str(entries[0]["entry_id"]), Str(calls[0]["result"]["entry_id"]));

  // The provider got the tools, the key as a bearer token, and the tool result with its id.
  auto requests = llm.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].find("\"tools\":[{\"type\":\"function\""), std::string::npos);
  EXPECT_NE(requests[0].find("\"model\":\"fake-model\""), std::string::npos);
  EXPECT_NE(llm.request_headers()[0].find("Authorization: Bearer sk-test-secret-key-123"),
            std::string::npos);
  EXPECT_NE(requests[1].find("\"role\":\"tool\",\"tool_call_id\":\"call_1\""), std::string::npos)
      << requests[1];

  // The whole interaction is logged, with parsed arguments and metadata.
  HttpResponse history = WaitForHistory(*s.client, "ada", 1);
  auto logged = Items(history.Json());
  ASSERT_EQ(logged.size(), 1u);
  auto it = logged[0];
  EXPECT_EQ(Str(it["interaction_id"]), id);
  EXPECT_EQ(Str(it["thread_id"]), thread);
  EXPECT_EQ(Str(it["user_message"]), "Add a task: buy milk");
  EXPECT_EQ(Str(it["assistant_response"]), "Added \"Buy milk\" to your tasks.");
  auto logged_calls = Items(it, "tool_calls");
  ASSERT_EQ(logged_calls.size(), 1u);
  EXPECT_EQ(Str(logged_calls[0]["arguments"]["target_blob_name"]), "tasks.json");
  EXPECT_EQ(Str(logged_calls[0]["arguments"]["new_entry"]["title"]), "Buy milk");
  EXPECT_EQ(Str(logged_calls[0]["result"]["status"]), "success");
  EXPECT_EQ(Str(logged_calls[0]["status"]), "success");
  simdjson::dom::element meta = it["metadata"].value_unsafe();
  EXPECT_EQ(Str(meta["source"]), "tool_call_handler");
  EXPECT_EQ(Str(meta["model"]), "fake-model");
  EXPECT_EQ(Str(meta["assistant_id"]), "omniflow-fake-model");
  EXPECT_EQ(Str(meta["outcome"]), "success");
  EXPECT_GE(IntAt(meta, "latency_ms"), 0);
  EXPECT_EQ(IntAt(meta["usage"], "prompt_tokens"), 20 + 11);
  EXPECT_EQ(IntAt(meta["usage"], "completion_tokens"), 5 + 7);
  EXPECT_EQ(IntAt(meta["usage"], "total_tokens"), 25 + 18);
  // The tool round's cached and reasoning parts, in OpenAI's names, and in the stats.
  EXPECT_EQ(IntAt(meta["usage"]["prompt_tokens_details"], "cached_tokens"), 8);
  EXPECT_EQ(IntAt(meta["usage"]["completion_tokens_details"], "reasoning_tokens"), 3);
  EXPECT_EQ(IntAt(meta, "rounds"), 2);
  HttpResponse stats = s.client->Get("/api/stats", As("ada"));
  ASSERT_EQ(stats.status, 200) << stats.body;
  simdjson::dom::element tokens = stats.Json()["totals"]["tokens"].value_unsafe();
  EXPECT_EQ(IntAt(tokens, "input"), 31);
  EXPECT_EQ(IntAt(tokens, "cached_input"), 8);
  EXPECT_EQ(IntAt(tokens, "output"), 12);
  EXPECT_EQ(IntAt(tokens, "reasoning"), 3);

  // Neither the message nor the provider key reaches the server's log.
  EXPECT_EQ(s.server->Log().find("buy milk"), std::string::npos);
  EXPECT_EQ(s.server->Log().find("sk-test-secret-key-123"), std::string::npos);
}

TEST(ToolCallHandler, ThreadContinuityOldestFirstAndPerThread) {
  FakeLlm llm;
  llm.PushText("Nice to meet you, Ada.");
  llm.PushText("Your name is Ada.");
  llm.PushText("I do not know your name.");
  RunningServer s(WithProvider(llm, {{"OMNIFLOW_ASSISTANT_ID", "asst_test_1"}}));
  ASSERT_EQ(s.client->Post("/api/tool_call_handler", Message("My name is Ada", "thread_ada"), As("ada")).status, 200);
  WaitForHistory(*s.client, "ada", 1);
  HttpResponse second =
      s.client->Post("/api/tool_call_handler", Message("What is my name?", "thread_ada"), As("ada"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Str(second.Json()["thread_id"]), "thread_ada");
  ASSERT_EQ(s.client->Post("/api/tool_call_handler", Message("What is my name?", "other_thread"), As("ada")).status, 200);

  auto requests = llm.requests();
  ASSERT_EQ(requests.size(), 3u);
  const std::string& r2 = requests[1];
  size_t first_user = r2.find("My name is Ada");
  size_t first_answer = r2.find("Nice to meet you, Ada.");
  size_t new_message = r2.find("What is my name?");
  ASSERT_NE(first_user, std::string::npos) << r2;
  ASSERT_NE(first_answer, std::string::npos) << r2;
  ASSERT_NE(new_message, std::string::npos) << r2;
  EXPECT_LT(first_user, first_answer);
  EXPECT_LT(first_answer, new_message);
  // Another thread starts fresh.
  EXPECT_EQ(requests[2].find("My name is Ada"), std::string::npos) << requests[2];
  HttpResponse thread = WaitForHistory(*s.client, "ada", 2, "&thread_id=thread_ada");
  EXPECT_EQ(IntAt(thread.Json(), "total"), 2);
  EXPECT_EQ(Str(Items(thread.Json())[0]["metadata"]["assistant_id"]), "asst_test_1");
}

TEST(ToolCallHandler, MultiRoundToolUse) {
  FakeLlm llm;
  llm.PushToolCalls({{"c1", "add_new_data", R"({"target_blob_name":"notes.json","new_entry":{"text":"draft"}})"},
                     {"c2", "add_new_data", R"({"target_blob_name":"notes.json","new_entry":{"text":"second"}})"}});
  llm.PushToolCalls({{"c3", "get_data", R"({"target_blob_name":"notes.json"})"}});
  llm.PushToolCalls({{"c4", "list_data", "{}"}});
  llm.PushText("You have two notes.");
  RunningServer s(WithProvider(llm));
  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("notes?"), As("bo"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto calls = Items(r.Json(), "tool_calls");
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(IntAt(calls[2]["result"], "entry_count"), 2);
  EXPECT_EQ(Str(calls[3]["result"]["blobs"].at(0)["name"]), "notes.json");
  EXPECT_EQ(IntAt(calls[3]["result"]["blobs"].at(0), "entry_count"), 2);
  EXPECT_EQ(llm.calls(), 4);
  HttpResponse history = WaitForHistory(*s.client, "bo", 1);
  EXPECT_EQ(IntAt(Items(history.Json())[0]["metadata"], "rounds"), 4);
}

TEST(ToolCallHandler, RoundCapStopsAnEndlessToolLoop) {
  FakeLlm llm;
  llm.SetFallback({200, ToolCallsCompletion({{"loop", "list_data", "{}"}}), {}, 0});
  RunningServer s(WithProvider(llm, {{"OMNIFLOW_MAX_TOOL_ROUNDS", "3"}}));
  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("loop forever"), As("cy"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(llm.calls(), 3);
  EXPECT_NE(Str(r.Json()["response"]).find("3 tool rounds"), std::string::npos) << r.body;
  HttpResponse history = WaitForHistory(*s.client, "cy", 1);
  EXPECT_EQ(Str(Items(history.Json())[0]["metadata"]["outcome"]), "round_cap_reached");
}

TEST(ToolCallHandler, HostileToolArgumentsGiveReadableErrorsAndTouchNothing) {
  FakeLlm llm;
  llm.PushToolCalls({
      {"h1", "add_new_data", R"({"target_blob_name":"../../etc/passwd","new_entry":{"x":1}})"},
      {"h2", "get_data", R"({"target_blob_name":"x.json'; DROP TABLE data_entries; --"})"},
      {"h3", "rm_rf", R"({"path":"/"})"},
      {"h4", "add_new_data", "{{{ not json"},
      {"h5", "add_new_data", R"({"target_blob_name":"tasks.json","new_entry":"not an object"})"},
      {"h6", "update_data", R"({"target_blob_name":"tasks.json","entry_id":"E000000000000","updates":{"a":1}})"},
      {"h7", "delete_data", R"({"target_blob_name":"/abs/tasks.json","entry_id":"x"})"},
      {"h8", "get_data", R"({"target_blob_name":"tasks.json\u0000.json"})"},
  });
  llm.PushText("Sorry, I could not do that.");
  RunningServer s(WithProvider(llm));
  // Another user's entry that the hostile calls must not reach.
  HttpResponse other = s.client->Post("/api/add_new_data",
      R"({"target_blob_name":"tasks.json","new_entry":{"title":"secret of eve"}})", As("eve"));
  ASSERT_EQ(other.status, 200) << other.body;

  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("do bad things"), As("mallory"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto calls = Items(r.Json(), "tool_calls");
  ASSERT_EQ(calls.size(), 8u);
  for (auto call : calls) {
    EXPECT_EQ(Str(call["status"]), "error") << Str(call["tool_name"]);
    EXPECT_EQ(Str(call["result"]["status"]), "error");
    EXPECT_FALSE(Str(call["result"]["error"]).empty());
  }
  EXPECT_NE(Str(calls[0]["result"]["error"]).find("tasks.json"), std::string::npos);
  EXPECT_NE(Str(calls[2]["result"]["error"]).find("add_new_data"), std::string::npos);
  // The model saw each error as a tool message and could answer.
  EXPECT_EQ(Str(r.Json()["response"]), "Sorry, I could not do that.");
  EXPECT_NE(llm.requests()[1].find("\"tool_call_id\":\"h8\""), std::string::npos);

  // Nothing was created for mallory, eve's data is intact, the table still exists.
  HttpResponse list = s.client->Get("/api/list_data", As("mallory"));
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Items(list.Json(), "blobs").size(), 0u);
  HttpResponse eve = s.client->Get("/api/get_data?target_blob_name=tasks.json", As("eve"));
  ASSERT_EQ(eve.status, 200);
  EXPECT_EQ(IntAt(eve.Json(), "entry_count"), 1);
  EXPECT_FALSE(std::filesystem::exists(s.server->data_dir() + "/../../etc/passwd.json"));
  // Logged with every failure marked.
  HttpResponse history = WaitForHistory(*s.client, "mallory", 1);
  auto logged = Items(Items(history.Json())[0], "tool_calls");
  ASSERT_EQ(logged.size(), 8u);
  EXPECT_EQ(Str(logged[3]["arguments"]), "{{{ not json");  // unparseable: kept as text
  for (auto call : logged) EXPECT_EQ(Str(call["status"]), "error");
}

TEST(ToolCallHandler, ProviderDownSlowOrBrokenIs502Or504AndServerStaysHealthy) {
  FakeLlm llm;
  RunningServer s(WithProvider(llm, {{"OMNIFLOW_LLM_TIMEOUT_MS", "600"}}));
  auto& c = *s.client;

  // 5xx on every attempt: bounded retries, then 502.
  llm.SetFallback({500, R"({"error":{"message":"upstream exploded"}})", {}, 0});
  HttpResponse failed = c.Post("/api/tool_call_handler", Message("hi"), As("dee"));
  EXPECT_EQ(failed.status, 502) << failed.body;
  EXPECT_EQ(llm.calls(), 4) << "one attempt and three retries";

  // Malformed answer: 502 with a clear error.
  llm.SetFallback({200, "this is not json", {}, 0});
  HttpResponse malformed = c.Post("/api/tool_call_handler", Message("hi"), As("dee"));
  EXPECT_EQ(malformed.status, 502);
  EXPECT_NE(malformed.body.find("not valid JSON"), std::string::npos) << malformed.body;

  // Slower than the timeout: 504.
  llm.SetFallback({200, TextCompletion("late"), {}, 2000});
  HttpResponse slow = c.Post("/api/tool_call_handler", Message("hi"), As("dee"));
  EXPECT_EQ(slow.status, 504) << slow.body;

  // 429 with Retry-After is honoured, then the answer comes.
  llm.SetFallback({200, TextCompletion("after the wait"), {}, 0});
  llm.Push({429, R"({"error":{"message":"rate limited"}})", {{"Retry-After", "1"}}, 0});
  auto t0 = Clock::now();
  HttpResponse limited = c.Post("/api/tool_call_handler", Message("hi"), As("dee"));
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  EXPECT_EQ(limited.status, 200) << limited.body;
  EXPECT_EQ(Str(limited.Json()["response"]), "after the wait");
  EXPECT_GE(waited, 900) << "Retry-After: 1 was not honoured";

  EXPECT_EQ(c.Get("/healthz").status, 200);
  // Failed provider calls are logged too, marked as failures.
  HttpResponse history = WaitForHistory(c, "dee", 4);
  int failures = 0, timeouts = 0;
  for (auto it : Items(history.Json())) {
    std::string outcome = Str(it["metadata"]["outcome"]);
    failures += outcome == "provider_error";
    timeouts += outcome == "provider_timeout";
    if (outcome != "success") {
      EXPECT_FALSE(Str(it["metadata"]["error"]).empty());
    }
  }
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(timeouts, 1);
}

TEST(ToolCallHandler, ProviderUnreachableIs502) {
  uint16_t dead_port;
  {
    FakeLlm gone;  // take a free port, then close it
    dead_port = static_cast<uint16_t>(std::stoi(gone.base_url().substr(17, 5)));
  }
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", "http://127.0.0.1:" + std::to_string(dead_port) + "/v1"},
                {"OMNIFLOW_LLM_MODEL", "m"}};
  RunningServer s(config);
  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("hi"), As("eli"));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("cannot reach the LLM provider"), std::string::npos) << r.body;
  EXPECT_EQ(s.client->Get("/healthz").status, 200);
}

TEST(ToolCallHandler, SpeaksAzureOpenAiWithApiKeyAndApiVersion) {
  FakeLlm llm;
  llm.PushText("from azure");
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url() + "/openai/deployments/my-gpt"},
                {"OMNIFLOW_LLM_API_VERSION", "2024-10-21"},
                {"OMNIFLOW_LLM_API_KEY", "azure-key-42"}};
  RunningServer s(config);
  HttpResponse r = s.client->Post("/api/tool_call_handler", Message("hi"), As("az"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json()["response"]), "from azure");
  ASSERT_EQ(llm.request_headers().size(), 1u);
  const std::string head = llm.request_headers()[0];
  EXPECT_EQ(head.rfind("POST /v1/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21 HTTP/1.1", 0), 0u) << head;
  EXPECT_NE(head.find("api-key: azure-key-42"), std::string::npos) << head;
  EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
  EXPECT_EQ(llm.requests()[0].find("\"model\""), std::string::npos) << "the deployment names the model";
}

TEST(ToolCallHandler, ValidatesTheRequest) {
  FakeLlm llm;
  RunningServer s(WithProvider(llm));
  auto& c = *s.client;
  EXPECT_EQ(c.Post("/api/tool_call_handler", "{}", As("u")).status, 400);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":""})", As("u")).status, 400);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":42})", As("u")).status, 400);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":"x","thread_id":"../etc"})", As("u")).status, 400);
  HttpResponse unknown = c.Post("/api/tool_call_handler", R"({"message":"x","colour":"red"})", As("u"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("colour"), std::string::npos);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":"x","user_id":"a"})", As("b")).status, 400);
  EXPECT_EQ(c.Post("/api/tool_call_handler", R"({"message":"x"})").status, 400);  // no user at all
  EXPECT_EQ(c.Post("/api/tool_call_handler", "not json", As("u")).status, 400);
  EXPECT_EQ(c.Get("/api/tool_call_handler", As("u")).status, 405);
  EXPECT_EQ(llm.calls(), 0);
}

TEST(DataFunctions, CrudIsolatedPerUser) {
  RunningServer s;
  auto& c = *s.client;
  HttpResponse added = c.Post("/api/add_new_data",
      R"({"target_blob_name":"events.json","new_entry":{"title":"Dentist","at":"2025-12-12T09:00"}})", As("ann"));
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(IntAt(added.Json(), "entry_count"), 1);
  std::string entry = Str(added.Json()["entry_id"]);
  ASSERT_FALSE(entry.empty());

  // Bob sees nothing of Ann's and cannot change or delete her entry.
  EXPECT_EQ(IntAt(c.Get("/api/get_data?target_blob_name=events.json", As("bob")).Json(), "entry_count"), 0);
  EXPECT_EQ(Items(c.Get("/api/list_data", As("bob")).Json(), "blobs").size(), 0u);
  std::string update = R"({"target_blob_name":"events.json","entry_id":")" + entry + R"(","updates":{"title":"hacked"}})";
  EXPECT_EQ(c.Post("/api/update_data", update, As("bob")).status, 404);
  std::string del = R"({"target_blob_name":"events.json","entry_id":")" + entry + R"("})";
  EXPECT_EQ(c.Post("/api/delete_data", del, As("bob")).status, 404);

  // Ann updates (shallow merge, id kept) and deletes.
  HttpResponse updated = c.Post("/api/update_data", update, As("ann"));
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Str(updated.Json()["entry"]["title"]), "hacked");
  EXPECT_EQ(Str(updated.Json()["entry"]["at"]), "2025-12-12T09:00");
  EXPECT_EQ(Str(updated.Json()["entry"]["entry_id"]), entry);
  HttpResponse got = c.Get("/api/get_data?target_blob_name=events.json", As("ann"));
  EXPECT_EQ(Str(Items(got.Json(), "entries")[0]["title"]), "hacked");
  HttpResponse deleted = c.Post("/api/delete_data", del, As("ann"));
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(IntAt(deleted.Json(), "entry_count"), 0);
  EXPECT_EQ(c.Post("/api/delete_data", del, As("ann")).status, 404);
}

TEST(DataFunctions, RejectsBadInput) {
  RunningServer s;
  auto& c = *s.client;
  for (const char* name : {"../x.json", "tasks", "tasks.JSON", ".json", "a/b.json", "%2e%2e.json",
                           "tasks.json%00", "tasks%0A.json"}) {
    HttpResponse r = c.Get(std::string("/api/get_data?target_blob_name=") + name, As("u"));
    EXPECT_EQ(r.status, 400) << name << " " << r.body;
  }
  EXPECT_EQ(c.Get("/api/get_data", As("u")).status, 400);
  EXPECT_EQ(c.Post("/api/add_new_data", R"({"target_blob_name":"t.json"})", As("u")).status, 400);
  EXPECT_EQ(c.Post("/api/add_new_data", "[1,2]", As("u")).status, 400);
  EXPECT_EQ(c.Request("POST", "/api/add_new_data", {{"X-User-Id", "u"}, {"Content-Type", "application/x-www-form-urlencoded"}}, "x=1", false).status, 415);
  EXPECT_EQ(c.Get("/api/get_data?target_blob_name=t.json").status, 400);  // no user
}

TEST(DataFunctions, NeedTheirFunctionKeysWhenSet) {
  ServerConfig config;
  config.env = {{"FUNCTION_CODE_GET_DATA", "gd-key-1"}, {"FUNCTION_CODE_ADD_NEW_DATA", "ad-key-1"}};
  RunningServer s(config);
  auto& c = *s.client;
  std::string body = R"({"target_blob_name":"t.json","new_entry":{"a":1}})";
  EXPECT_EQ(c.Post("/api/add_new_data", body, As("u")).status, 401);
  EXPECT_EQ(c.Post("/api/add_new_data", body, {{"X-User-Id", "u"}, {"x-functions-key", "gd-key-1"}}).status, 401);
  EXPECT_EQ(c.Post("/api/add_new_data", body, {{"X-User-Id", "u"}, {"x-functions-key", "ad-key-1"}}).status, 200);
  EXPECT_EQ(c.Get("/api/get_data?target_blob_name=t.json&code=gd-key-1", As("u")).status, 200);
  EXPECT_EQ(c.Get("/api/get_data?target_blob_name=t.json", As("u")).status, 401);
}

// SQLite only: the store's disk is a small tmpfs under the data dir, where a PostgreSQL store
// does not live; ctest's PostgreSQL pass leaves it out (TEST_FILTER in CMakeLists.txt).
TEST(ToolCallHandler, LoggingFailureNeverFailsTheAnswerAndTheSpoolIsReplayed) {
  // Room for an empty store (its schema alone is about 1 MB in 8 KiB pages and their WAL
  // copies), then filled to the last byte below.
  SmallDisk disk("8m");
  REQUIRE_SMALL_DISK(disk);
  TempDir spool;
  FakeLlm llm;
  llm.SetFallback({200, TextCompletion("answered while the disk was full"), {}, 0});
  ServerConfig config = WithProvider(llm);
  config.data_dir = disk.path() + "/data";
  config.args = {"--spool-dir", spool.path()};
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  // Fill the store's disk to the last byte.
  {
    std::ofstream filler(disk.path() + "/filler", std::ios::binary);
    std::string block(64 << 10, 'f');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  {
    std::ofstream tail(disk.path() + "/filler-tail", std::ios::binary);
    while (tail.put('f')) tail.flush();
  }
  std::vector<std::string> answered;
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = s.client->Post("/api/tool_call_handler",
                                    Message("while full " + std::to_string(i), "full_thread"), As("fay"));
    ASSERT_EQ(r.status, 200) << r.body;
    answered.push_back(Str(r.Json()["interaction_id"]));
  }
  // They wait in the spool, fsynced.
  std::string spooled;
  for (int i = 0; i < 100; ++i) {
    spooled = SpoolContents(spool.path());
    if (std::count(spooled.begin(), spooled.end(), '\n') >= 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (const std::string& id : answered) EXPECT_NE(spooled.find(id), std::string::npos) << id;
  EXPECT_NE(s.server->Log().find("event=interaction_spooled"), std::string::npos);


  // Space returns: the replay loop moves them into the store by itself.
  // The fillers go and the disk grows: the store and its WAL (which the search indexer also
  // writes to) need more than the 256 KiB /healthz keeps as a floor on a 1 MiB disk.
  std::filesystem::remove(disk.path() + "/filler");
  std::filesystem::remove(disk.path() + "/filler-tail");
  ASSERT_TRUE(disk.Resize("64m"));
  HttpResponse history = WaitForHistory(*s.client, "fay", 3);
  for (const std::string& id : answered) {
    EXPECT_EQ(s.client->Get("/api/interactions/" + id, As("fay")).status, 200) << id;
  }
  EXPECT_EQ(IntAt(history.Json(), "total"), 3) << "replayed exactly once";
  HttpResponse health = s.client->Get("/healthz");
  ASSERT_EQ(health.status, 200) << health.body;
  EXPECT_EQ(IntAt(health.Json()["assistant_log"], "spooled"), 3) << health.body;
  EXPECT_EQ(IntAt(health.Json()["assistant_log"], "lost"), 0) << health.body;
  for (int i = 0; i < 100 && !SpoolContents(spool.path()).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(SpoolContents(spool.path()), "");
  EXPECT_EQ(s.server->Stop(), 0);
}

TEST(ToolCallHandler, SpoolLeftByACrashIsReplayedAtStart) {
  FakeLlm llm;
  TempDir data;
  std::filesystem::create_directories(data.path() + "/spool");
  // What a previous process left: one complete line and a torn one.
  {
    std::ofstream out(data.path() + "/spool/interactions.jsonl");
    out << R"({"user_id":"gus","ts_us":1765458330123456,"interaction_id":"INT_20251211_130530_123456",)"
        << R"("thread_id":"t1","tool_calls":0,"tool_failures":0,"body":{"interaction_id":"INT_20251211_130530_123456",)"
        << R"("timestamp":"2025-12-11T13:05:30.123456Z","user_id":"gus","thread_id":"t1","user_message":"hi",)"
        << R"("assistant_response":"hello","tool_calls":[],"metadata":{"source":"tool_call_handler"}}})" << "\n"
        << R"({"user_id":"gus","ts_us":17654583)";
  }
  ServerConfig config = WithProvider(llm);
  config.data_dir = data.path();
  RunningServer s(config);
  HttpResponse r = s.client->Get("/api/interactions/INT_20251211_130530_123456", As("gus"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Str(r.Json()["interaction"]["assistant_response"]), "hello");
  EXPECT_EQ(SpoolContents(data.path() + "/spool"), "");
}

}  // namespace
}  // namespace omniflow::testing
