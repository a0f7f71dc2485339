// The OpenAI-compatible capture proxy (POST /v1/chat/completions) end to end, against a scripted
// provider on loopback: the provider's answer passed through unchanged, plain and streamed (the
// stream starts before the provider has finished), the logged interaction with every field, a
// two-round tool loop whose results are attached to the logged calls, an Azure deployment, a
// provider error passed through and logged as a failure, and attacks on the route.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "support/e2e.h"
#include "support/fake_llm.h"

namespace omniflow::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kSecret[] = "capture-jwt-secret-0123456789abcdef";
constexpr char kCaptureKey[] = "capture-key-0123456789";
constexpr char kAdminKey[] = "capture-admin-key-0123456789";
constexpr char kSaveKey[] = "save-key-0123456789";
constexpr char kProviderKey[] = "sk-server-provider-key-42";

std::string Token(const std::string& sub) { return SignedToken(sub, kSecret); }

Headers Bearer(const std::string& value) { return {{"Authorization", "Bearer " + value}}; }

ServerConfig WithProvider(const FakeLlm& llm,
                          std::vector<std::pair<std::string, std::string>> extra = {}) {
  ServerConfig config;
  config.env = {{"OMNIFLOW_LLM_BASE_URL", llm.base_url()},
                {"OMNIFLOW_LLM_MODEL", "fake-model"},
                {"OMNIFLOW_LLM_API_KEY", kProviderKey},
                {"OMNIFLOW_JWT_SECRET", kSecret},
                {"OMNIFLOW_ADMIN_KEY", kAdminKey},
                {"FUNCTION_CODE_CAPTURE", kCaptureKey},
                {"FUNCTION_CODE_SAVE_INTERACTION", kSaveKey}};
  for (auto& e : extra) config.env.push_back(std::move(e));
  return config;
}

std::string Chat(const std::string& text, const std::string& extra = "") {
  return R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"be brief"},)"
         R"({"role":"user","content":")" + text + "\"}]" + extra + "}";
}

std::string Str(simdjson::dom::element e) {
  std::string_view v;
  if (e.get(v) != simdjson::SUCCESS) return "<not a string>";
  return std::string(v);
}

// Polls `user`'s history (with the admin key) until it holds at least `n` interactions.
HttpResponse WaitForHistory(HttpClient& c, const std::string& user, int64_t n) {
  HttpResponse r;
  for (int i = 0; i < 100; ++i) {
    r = c.Get("/api/get_interaction_history?limit=100",
              {{"x-functions-key", kAdminKey}, {"X-User-Id", user}});
    if (r.status == 200 && IntAt(r.Json(), "total") >= n) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "history of " << user << " never reached " << n << ": " << r.body;
  return r;
}

int64_t HistoryTotal(HttpClient& c, const std::string& user) {
  HttpResponse r = c.Get("/api/get_interaction_history",
                         {{"x-functions-key", kAdminKey}, {"X-User-Id", user}});
  return IntAt(r.Json(), "total");
}

TEST(Capture, PlainAnswerIsPassedThroughUnchangedAndLogged) {
  FakeLlm llm;
  const std::string answer = TextCompletion("Paris is the capital.", "gpt-4o-mini-2024", 11, 7);
  llm.Push({200, answer, {{"X-Provider-Trace", "t1"}}, 0});
  RunningServer s(WithProvider(llm));
  const std::string body = Chat("Capital of France?", R"(,"user":"ada")");
  Headers h = Bearer(kCaptureKey);
  h.emplace_back("X-Thread-Id", "trip-1");
  HttpResponse r = s.client->Post("/v1/chat/completions", body, h);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, answer);  // byte for byte
  EXPECT_EQ(r.Header("content-type"), "application/json");

  // The provider got the client's request as sent, with the server's key and not the client's.
  ASSERT_EQ(llm.calls(), 1);
  EXPECT_EQ(llm.requests()[0], body);
  EXPECT_EQ(llm.request_targets()[0], "/v1/chat/completions");
  const std::string head = llm.request_headers()[0];
  EXPECT_NE(head.find(std::string("Authorization: Bearer ") + kProviderKey), std::string::npos) << head;
  EXPECT_EQ(head.find(kCaptureKey), std::string::npos) << head;

  HttpResponse history = WaitForHistory(*s.client, "ada", 1);
  auto items = Items(history.Json());
  ASSERT_EQ(items.size(), 1u);
  auto it = items[0];
  EXPECT_EQ(Str(it["user_message"]), "Capital of France?");
  EXPECT_EQ(Str(it["assistant_response"]), "Paris is the capital.");
  EXPECT_EQ(Str(it["thread_id"]), "trip-1");
  simdjson::dom::element meta = it["metadata"].value_unsafe();
  EXPECT_EQ(Str(meta["source"]), "proxy");
  EXPECT_EQ(Str(meta["model"]), "gpt-4o-mini-2024");
  EXPECT_EQ(Str(meta["outcome"]), "success");
  EXPECT_EQ(IntAt(meta["usage"], "prompt_tokens"), 11);
  EXPECT_EQ(IntAt(meta["usage"], "completion_tokens"), 7);
  EXPECT_EQ(IntAt(meta["usage"], "total_tokens"), 18);
  EXPECT_EQ(IntAt(meta, "provider_status"), 200);

  // A user's own token works too, with the thread in metadata.thread_id.
  llm.PushText("Berlin.");
  r = s.client->Post("/v1/chat/completions",
                     Chat("Capital of Germany?", R"(,"metadata":{"thread_id":"trip-2"})"),
                     Bearer(Token("ada")));
  ASSERT_EQ(r.status, 200) << r.body;
  history = WaitForHistory(*s.client, "ada", 2);
  EXPECT_EQ(Str(Items(history.Json())[0]["thread_id"]), "trip-2");

  // The metrics count them as captured by the proxy.
  std::string metrics;
  for (int i = 0; i < 50 && metrics.find(R"(source="proxy"} 2)") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    metrics = s.client->Get("/metrics", {{"x-functions-key", kAdminKey}}).body;
  }
  EXPECT_NE(metrics.find(R"(omniflow_interactions_captured_total{source="proxy"} 2)"),
            std::string::npos) << metrics.substr(0, 2000);

  // Neither messages nor keys reach the server's log.
  const std::string log = s.server->Log();
  EXPECT_EQ(log.find("Capital of"), std::string::npos);
  EXPECT_EQ(log.find(kProviderKey), std::string::npos);
  EXPECT_EQ(log.find(kCaptureKey), std::string::npos);
}

// Sends `body` on a fresh connection and reads the response as it comes: when its first
// server-sent event arrived and when it ended, and everything received.
struct Timed {
  std::string raw;
  double first_event_ms = -1;
  double end_ms = -1;
};

Timed StreamRequest(HttpClient& c, const std::string& body, const Headers& headers) {
  Timed t;
  int fd = c.Connect();
  if (fd < 0) return t;
  std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  request += "\r\n" + body;
  const auto sent = SteadyClock::now();
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  char buffer[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) break;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    t.raw.append(buffer, static_cast<size_t>(n));
    if (t.first_event_ms < 0 && t.raw.find("data: ") != std::string::npos) {
      t.first_event_ms =
          std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count();
    }
  }
  t.end_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count();
  ::close(fd);
  return t;
}

TEST(Capture, StreamIsPassedThroughAsItArrivesAndAssembledForTheLog) {
  FakeLlm llm;
  FakeReply stream;
  stream.events = TextStream({"The ", "answer ", "is ", "42."});
  stream.event_gap_ms = 300;
  llm.Push(stream);
  RunningServer s(WithProvider(llm));
  Headers h = Bearer(Token("bo"));
  h.emplace_back("X-Thread-Id", "stream-thread");
  Timed t = StreamRequest(
      *s.client,
      Chat("What is the answer?", R"(,"stream":true,"stream_options":{"include_usage":true})"), h);
  ASSERT_NE(t.raw.find("HTTP/1.1 200"), std::string::npos) << t.raw;
  EXPECT_NE(t.raw.find("text/event-stream"), std::string::npos) << t.raw;
  // Every event arrives, in order, and the stream ends with [DONE].
  size_t at = 0;
  for (const char* piece : {"\"The \"", "\"answer \"", "\"is \"", "\"42.\"", "cached_tokens", "[DONE]"}) {
    size_t found = t.raw.find(piece, at);
    ASSERT_NE(found, std::string::npos) << piece << " in " << t.raw;
    at = found;
  }
  // Not buffered: the first event came long before the provider finished (6 gaps of 300 ms).
  EXPECT_GE(t.end_ms, 1500) << t.end_ms;
  EXPECT_LT(t.first_event_ms, 250) << t.first_event_ms;

  HttpResponse history = WaitForHistory(*s.client, "bo", 1);
  auto it = Items(history.Json())[0];
  EXPECT_EQ(Str(it["user_message"]), "What is the answer?");
  EXPECT_EQ(Str(it["assistant_response"]), "The answer is 42.");
  EXPECT_EQ(Str(it["thread_id"]), "stream-thread");
  simdjson::dom::element meta = it["metadata"].value_unsafe();
  EXPECT_EQ(Str(meta["source"]), "proxy");
  EXPECT_EQ(Str(meta["model"]), "fake-model");
  EXPECT_EQ(IntAt(meta["usage"], "prompt_tokens"), 13);
  EXPECT_EQ(IntAt(meta["usage"]["prompt_tokens_details"], "cached_tokens"), 8);
  EXPECT_EQ(IntAt(meta["usage"]["completion_tokens_details"], "reasoning_tokens"), 1);
  bool streamed = false;
  EXPECT_EQ(meta["stream"].get(streamed), simdjson::SUCCESS);
  EXPECT_TRUE(streamed);

  // The token accounting reads the usage the proxy logged, cached and reasoning tokens apart.
  HttpResponse stats = s.client->Get("/api/stats?user_id=bo", {{"x-functions-key", kAdminKey}});
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_NE(stats.body.find(R"("tokens":{"input":13,"cached_input":8,"output":4,"reasoning":1})"),
            std::string::npos) << stats.body.substr(0, 600);
}

TEST(Capture, AClientLeavingMidStreamStopsTheProviderAndIsLoggedAsSuch) {
  FakeLlm llm;
  FakeReply stream;
  std::vector<std::string> pieces(40, "word ");
  stream.events = TextStream(pieces);
  stream.event_gap_ms = 100;
  llm.Push(stream);
  RunningServer s(WithProvider(llm));
  int fd = s.client->Connect();
  ASSERT_GE(fd, 0);
  const std::string body = Chat("long answer please", R"(,"stream":true)");
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/json\r\nAuthorization: Bearer " +
                              Token("hal") + "\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\n\r\n" + body;
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string seen;
  char buffer[4096];
  while (seen.find("word") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    ASSERT_GT(::poll(&p, 1, 5000), 0) << seen;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    ASSERT_GT(n, 0);
    seen.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);  // gone after the first words
  const auto left = SteadyClock::now();
  HttpResponse history = WaitForHistory(*s.client, "hal", 1);
  // Logged once the provider's transfer was cut, long before its 4 s of events were over.
  EXPECT_LT(SteadyClock::now() - left, std::chrono::milliseconds(2500));
  auto it = Items(history.Json())[0];
  EXPECT_EQ(Str(it["metadata"]["outcome"]), "client_gone") << history.body;
  const std::string partial = Str(it["assistant_response"]);
  EXPECT_EQ(partial.rfind("word ", 0), 0u) << partial;
  EXPECT_LT(partial.size(), 40u * 5) << partial;
  EXPECT_EQ(s.client->Get("/healthz").status, 200);
}

TEST(Capture, TwoRoundToolLoopAttachesResultsToTheLoggedCallsAndTheChainVerifies) {
  FakeLlm llm;
  FakeReply round1;
  round1.events = ToolCallsStream({{"call_w", "get_weather", R"({"city":"Oslo"})"},
                                   {"call_t", "get_time", R"({"tz":"CET"})"}});
  llm.Push(round1);
  llm.PushText("It is 3 degrees in Oslo; the clock failed.");
  RunningServer s(WithProvider(llm));
  Headers h = Bearer(kCaptureKey);
  h.emplace_back("X-User-Id", "cy");
  h.emplace_back("X-Thread-Id", "loop-1");
  const std::string user = R"({"role":"user","content":"Weather and time in Oslo?"})";
  Timed first = StreamRequest(*s.client,
                              R"({"model":"m","stream":true,"messages":[)" + user + "]}", h);
  ASSERT_NE(first.raw.find("HTTP/1.1 200"), std::string::npos) << first.raw;
  ASSERT_NE(first.raw.find("call_w"), std::string::npos);
  HttpResponse history = WaitForHistory(*s.client, "cy", 1);
  const std::string first_id = Str(Items(history.Json())[0]["interaction_id"]);
  auto asked = Items(Items(history.Json())[0]["metadata"], "tool_calls_requested");
  ASSERT_EQ(asked.size(), 2u) << history.body;
  EXPECT_EQ(Str(asked[0]["tool_name"]), "get_weather");
  EXPECT_EQ(Str(asked[0]["arguments"]["city"]), "Oslo");  // assembled from two deltas, parsed
  EXPECT_EQ(Str(asked[0]["tool_call_id"]), "call_w");
  EXPECT_EQ(Str(asked[1]["tool_call_id"]), "call_t");

  // Round two carries the tool results, as an OpenAI client's tool loop sends them.
  const std::string round2 =
      R"({"model":"m","messages":[)" + user +
      R"(,{"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"call_w","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}},)"
      R"({"id":"call_t","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},)"
      R"({"role":"tool","tool_call_id":"call_w","content":"{\"temp_c\":3}"},)"
      R"({"role":"tool","tool_call_id":"call_t","content":"Error: clock unavailable"}]})";
  HttpResponse r = s.client->Post("/v1/chat/completions", round2, h);
  ASSERT_EQ(r.status, 200) << r.body;
  history = WaitForHistory(*s.client, "cy", 2);
  auto second = Items(history.Json())[0];
  EXPECT_EQ(Str(second["assistant_response"]), "It is 3 degrees in Oslo; the clock failed.");
  EXPECT_EQ(Str(second["user_message"]), "Weather and time in Oslo?");
  auto calls = Items(second, "tool_calls");
  ASSERT_EQ(calls.size(), 2u) << history.body;
  EXPECT_EQ(Str(calls[0]["tool_name"]), "get_weather");
  EXPECT_EQ(Str(calls[0]["arguments"]["city"]), "Oslo");
  EXPECT_EQ(IntAt(calls[0]["result"], "temp_c"), 3);
  EXPECT_EQ(Str(calls[0]["status"]), "success");
  EXPECT_EQ(Str(calls[0]["tool_call_id"]), "call_w");
  EXPECT_EQ(Str(calls[0]["requested_in"]), first_id);
  EXPECT_EQ(Str(calls[1]["tool_name"]), "get_time");
  EXPECT_EQ(Str(calls[1]["status"]), "error");
  EXPECT_EQ(Str(calls[1]["result"]), "Error: clock unavailable");
  EXPECT_EQ(Str(calls[1]["requested_in"]), first_id);

  // The statistics count each call once, with its outcome.
  HttpResponse stats = s.client->Get("/api/stats", {{"x-functions-key", kAdminKey}});
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_NE(stats.body.find(R"("tool_calls":2)"), std::string::npos) << stats.body;

  // Nothing was rewritten: the hash chain still verifies.
  const std::string data_dir = s.server->data_dir();
  ASSERT_EQ(s.server->Stop(), 0);
  std::string output;
  EXPECT_EQ(ServerProcess::RunCommand({"verify", "--data-dir", data_dir}, {}, &output), 0) << output;
}

// The result of `call_id` (asked for by `name`) sent back, as round two of a tool loop.
std::string ToolResultRound(const std::string& call_id, const std::string& name) {
  return R"({"model":"m","messages":[{"role":"user","content":"go"},)"
         R"({"role":"assistant","content":null,"tool_calls":[{"id":")" + call_id +
         R"(","type":"function","function":{"name":")" + name + R"(","arguments":"{}"}}]},)"
         R"({"role":"tool","tool_call_id":")" + call_id + R"(","content":"done"}]})";
}

// Regression: a client that sends the results at once (before the asking interaction is
// committed) got no requested_in; and after a restart the link comes from the stored log.
TEST(Capture, ToolResultsFindTheAskingInteractionAtOnceAndAfterARestart) {
  FakeLlm llm;
  llm.PushToolCalls({{"call_fast", "ping", "{}"}});
  llm.PushText("pinged");
  llm.PushToolCalls({{"call_later", "pong", "{}"}});
  llm.PushText("ponged");
  RunningServer s(WithProvider(llm));
  Headers h = Bearer(Token("gus"));
  ASSERT_EQ(s.client->Post("/v1/chat/completions", Chat("go"), h).status, 200);
  ASSERT_EQ(s.client->Post("/v1/chat/completions", ToolResultRound("call_fast", "ping"), h).status,
            200);  // at once
  HttpResponse history = WaitForHistory(*s.client, "gus", 2);  // owns the items' document
  auto items = Items(history.Json());
  EXPECT_EQ(Str(Items(items[0], "tool_calls")[0]["requested_in"]), Str(items[1]["interaction_id"]));

  ASSERT_EQ(s.client->Post("/v1/chat/completions", Chat("go"), h).status, 200);
  history = WaitForHistory(*s.client, "gus", 3);
  items = Items(history.Json());
  const std::string asking = Str(items[0]["interaction_id"]);
  s.Restart();  // nothing remembered: the link must come from the log
  ASSERT_EQ(s.client->Post("/v1/chat/completions", ToolResultRound("call_later", "pong"), h).status,
            200);
  history = WaitForHistory(*s.client, "gus", 4);
  items = Items(history.Json());
  auto calls = Items(items[0], "tool_calls");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(Str(calls[0]["tool_name"]), "pong");
  EXPECT_EQ(Str(calls[0]["requested_in"]), asking);
}

TEST(Capture, AzureDeploymentGetsTheApiKeyHeaderAndApiVersion) {
  FakeLlm llm;
  llm.PushText("Azure says hi");
  ServerConfig config = WithProvider(llm);
  for (auto& [name, value] : config.env) {
    if (name == "OMNIFLOW_LLM_BASE_URL") value = llm.origin() + "/openai/deployments/gpt4o-prod";
    if (name == "OMNIFLOW_LLM_MODEL") value = "";
  }
  config.env.emplace_back("OMNIFLOW_LLM_API_VERSION", "2024-10-21");
  RunningServer s(config);
  HttpResponse r = s.client->Post("/v1/chat/completions", Chat("hi azure", R"(,"user":"di")"),
                                  Bearer(kCaptureKey));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("Azure says hi"), std::string::npos);
  ASSERT_EQ(llm.calls(), 1);
  EXPECT_EQ(llm.request_targets()[0],
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  const std::string head = llm.request_headers()[0];
  EXPECT_NE(head.find(std::string("api-key: ") + kProviderKey), std::string::npos) << head;
  EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
  WaitForHistory(*s.client, "di", 1);

  // An Azure OpenAI client pointed at omniflow: its deployment path, its api-key header (a key
  // or a user's token); the configured provider answers whatever the deployment's name.
  llm.PushText("Azure via its own client shape");
  const std::string di_token = Token("di");
  r = s.client->Post("/openai/deployments/any-name.v2/chat/completions?api-version=2024-10-21",
                     Chat("hi from AzureOpenAI"), {{"api-key", di_token}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("Azure via its own client shape"), std::string::npos);
  EXPECT_EQ(llm.request_targets()[1],
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(llm.request_headers()[1].find(di_token), std::string::npos);
  WaitForHistory(*s.client, "di", 2);
  EXPECT_EQ(s.client->Post("/openai/deployments/x/chat/completions", Chat("k", R"(,"user":"di")"),
                           {{"api-key", kCaptureKey}}).status, 200);
  EXPECT_EQ(s.client->Post("/openai/deployments/x/chat/completions", Chat("k", R"(,"user":"di")"),
                           {{"api-key", "guess"}}).status, 401);
  EXPECT_EQ(s.client->Post("/openai/deployments/bad%20name/chat/completions",
                           Chat("k", R"(,"user":"di")"), {{"api-key", kCaptureKey}}).status, 400);
}

TEST(Capture, ProviderErrorsArePassedThroughAndLoggedAsFailures) {
  FakeLlm llm;
  const std::string limited = R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})";
  llm.Push({429, limited, {{"Retry-After", "7"}}, 0});
  FakeReply bad;
  bad.status = 400;
  bad.body = R"({"error":{"message":"Unknown parameter: 'foo'","type":"invalid_request_error"}})";
  llm.Push(bad);
  RunningServer s(WithProvider(llm));
  HttpResponse r = s.client->Post("/v1/chat/completions", Chat("limited?"), Bearer(Token("ed")));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, limited);
  EXPECT_EQ(r.Header("retry-after"), "7");
  EXPECT_EQ(llm.calls(), 1);  // passed through, not retried: the client decides
  // A streamed request answered with an error gets the error, whole.
  r = s.client->Post("/v1/chat/completions", Chat("bad?", R"(,"stream":true)"), Bearer(Token("ed")));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, bad.body);

  HttpResponse history = WaitForHistory(*s.client, "ed", 2);
  auto items = Items(history.Json());
  ASSERT_EQ(items.size(), 2u);
  simdjson::dom::element streamed = items[0]["metadata"].value_unsafe();
  simdjson::dom::element plain = items[1]["metadata"].value_unsafe();
  EXPECT_EQ(Str(plain["outcome"]), "provider_error");
  EXPECT_EQ(IntAt(plain, "provider_status"), 429);
  EXPECT_EQ(Str(plain["error"]), "Rate limit reached for requests");
  EXPECT_EQ(Str(streamed["outcome"]), "provider_error");
  EXPECT_EQ(IntAt(streamed, "provider_status"), 400);
  EXPECT_EQ(Str(items[1]["user_message"]), "limited?");

  // An unreachable provider is a 502 in OpenAI's error shape, logged too.
  int dead_port;
  {
    FakeLlm gone;
    dead_port = std::stoi(gone.origin().substr(gone.origin().rfind(':') + 1));
  }
  ServerConfig config = WithProvider(llm);
  for (auto& [name, value] : config.env) {
    if (name == "OMNIFLOW_LLM_BASE_URL") value = "http://127.0.0.1:" + std::to_string(dead_port) + "/v1";
  }
  RunningServer down(config);
  r = down.client->Post("/v1/chat/completions", Chat("anyone?"), Bearer(Token("ed")));
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find(R"("error":{"message":"cannot reach the LLM provider)"), std::string::npos)
      << r.body;
  history = WaitForHistory(*down.client, "ed", 1);
  EXPECT_EQ(Str(Items(history.Json())[0]["metadata"]["outcome"]), "provider_unreachable");

  // A provider slower than OMNIFLOW_LLM_TIMEOUT_MS: 504, logged as a timeout.
  FakeLlm slow_llm;
  slow_llm.Push({200, TextCompletion("too late"), {}, 1500});
  RunningServer slow(WithProvider(slow_llm, {{"OMNIFLOW_LLM_TIMEOUT_MS", "300"}}));
  r = slow.client->Post("/v1/chat/completions", Chat("hurry?"), Bearer(Token("ed")));
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find(R"("type":"provider_timeout")"), std::string::npos) << r.body;
  history = WaitForHistory(*slow.client, "ed", 1);
  EXPECT_EQ(Str(Items(history.Json())[0]["metadata"]["outcome"]), "provider_timeout");
}

TEST(Capture, UnconfiguredProviderIsAClear503InOpenAisErrorShape) {
  ServerConfig config;
  config.env = {{"FUNCTION_CODE_CAPTURE", kCaptureKey}};
  RunningServer s(config);
  HttpResponse r = s.client->Post("/v1/chat/completions", Chat("hi", R"(,"user":"fy")"),
                                  Bearer(kCaptureKey));
  EXPECT_EQ(r.status, 503);
  std::string_view message, type;
  ASSERT_EQ(r.Json()["error"]["message"].get(message), simdjson::SUCCESS) << r.body;
  EXPECT_NE(message.find("OMNIFLOW_LLM_BASE_URL"), std::string_view::npos);
  ASSERT_EQ(r.Json()["error"]["type"].get(type), simdjson::SUCCESS);
  EXPECT_EQ(type, "provider_not_configured");
}

TEST(Capture, AttacksAreRefusedAndReachNeitherTheProviderNorTheVictimsLog) {
  FakeLlm llm;
  RunningServer s(WithProvider(llm));
  HttpClient& c = *s.client;
  struct Attack {
    std::string name;
    std::string target;
    std::string body;
    Headers headers;
    int status;
  };
  const std::string naming_victim = Chat("steal", R"(,"user":"victim")");
  const std::vector<Attack> attacks = {
      {"no credentials", "/v1/chat/completions", naming_victim, {}, 401},
      {"no credentials, X-User-Id", "/v1/chat/completions", Chat("steal"), As("victim"), 401},
      {"wrong key as bearer", "/v1/chat/completions", naming_victim, Bearer("sk-guess"), 401},
      {"wrong x-functions-key", "/v1/chat/completions", naming_victim,
       {{"x-functions-key", "guess"}}, 401},
      {"another function's key as bearer", "/v1/chat/completions", naming_victim,
       Bearer(kSaveKey), 401},
      {"the provider's key as bearer", "/v1/chat/completions", naming_victim,
       Bearer(kProviderKey), 401},
      {"own token naming the victim in user", "/v1/chat/completions", naming_victim,
       Bearer(Token("mallory")), 403},
      {"own token as api-key naming the victim", "/openai/deployments/d/chat/completions",
       naming_victim, {{"api-key", Token("mallory")}}, 403},
      {"wrong api-key", "/openai/deployments/d/chat/completions", naming_victim,
       {{"api-key", "guess"}}, 401},
      {"api-key elsewhere", "/api/save_interaction", SaveBody("x"),
       {{"api-key", kSaveKey}, {"X-User-Id", "victim"}}, 401},
      {"own token naming the victim in X-User-Id", "/v1/chat/completions", Chat("steal"),
       {{"Authorization", "Bearer " + Token("mallory")}, {"X-User-Id", "victim"}}, 403},
      {"key with user and X-User-Id differing", "/v1/chat/completions", naming_victim,
       {{"Authorization", std::string("Bearer ") + kCaptureKey}, {"X-User-Id", "mallory"}}, 400},
      {"key without a user", "/v1/chat/completions", Chat("steal"), Bearer(kCaptureKey), 400},
      {"through proxy_router", "/api/proxy_router/capture", naming_victim, Bearer(kCaptureKey), 404},
      {"percent-encoded path", "/v1/chat%2Fcompletions", naming_victim, Bearer(kCaptureKey), 404},
      {"percent-encoded segment", "/v1/%63hat/completions", naming_victim, Bearer(kCaptureKey), 404},
  };
  for (const Attack& a : attacks) {
    HttpResponse r = c.Request("POST", a.target, a.headers, a.body);
    EXPECT_EQ(r.status, a.status) << a.name << ": " << r.body;
  }
  EXPECT_EQ(llm.calls(), 0) << "no refused request may reach the provider";
  EXPECT_LE(HistoryTotal(c, "victim"), 0);
  // The victim's own token is served (so the checks above could have failed).
  HttpResponse own = c.Post("/v1/chat/completions", naming_victim, Bearer(Token("victim")));
  EXPECT_EQ(own.status, 200) << own.body;
  WaitForHistory(c, "victim", 1);
}

}  // namespace
}  // namespace omniflow::testing
