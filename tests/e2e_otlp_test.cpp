// POST /v1/traces end to end, on the real binary (both engines: the pg. pass runs it against
// PostgreSQL): a GenAI agent trace sent in several exports, children first, in protobuf and
// JSON, gzip and chunked, becomes one interaction read back through the history; retries store
// nothing twice; a token writes only its own user; hostile bodies get 400/413/415; erasure
// takes the spans still held.
#include <zlib.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "auth/jwt.h"
#include "otlp_trace.pb.h"
#include "support/e2e.h"

namespace omniflow::testing {
namespace {

namespace pb = otlp::pb;

constexpr char kKey[] = "otlp-key-0123456789";
constexpr char kAdmin[] = "otlp-admin-key-0123456789";
constexpr char kSecret[] = "otlp-secret-0123456789abcdef";
constexpr char kProtobuf[] = "application/x-protobuf";

std::string Token(const std::string& sub) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  return SignHs256("{\"sub\":\"" + sub + "\",\"exp\":" + std::to_string(now + 600) + "}", kSecret);
}

ServerConfig Config(const std::string& quiet_ms = "300") {
  ServerConfig config;
  config.env = {{"FUNCTION_CODE_OTLP", kKey},
                {"OMNIFLOW_ADMIN_KEY", kAdmin},
                {"OMNIFLOW_JWT_SECRET", kSecret},
                {"OMNIFLOW_OTLP_QUIET_MS", quiet_ms}};
  return config;
}

std::string Id(int seed, size_t bytes) {
  std::string id(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) id[i] = static_cast<char>(seed + static_cast<int>(i) + 1);
  return id;
}

void Attr(pb::Span* span, const std::string& key, const std::string& value) {
  pb::KeyValue* kv = span->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void IntAttr(pb::Span* span, const std::string& key, int64_t value) {
  pb::KeyValue* kv = span->add_attributes();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

constexpr uint64_t kStartNs = 1764547200123456000ull;  // 2025-12-01T00:00:00.123456Z

// The spans of one agent trace: invoke_agent > chat > execute_tool x2, by index 0..3.
pb::Span AgentSpan(int trace_seed, int which) {
  pb::Span span;
  span.set_trace_id(Id(trace_seed, 16));
  const int span_seeds[] = {100, 110, 120, 130};
  span.set_span_id(Id(span_seeds[which], 8));
  if (which == 1) span.set_parent_span_id(Id(span_seeds[0], 8));
  if (which >= 2) span.set_parent_span_id(Id(span_seeds[1], 8));
  span.set_start_time_unix_nano(kStartNs + static_cast<uint64_t>(which) * 1000000);
  span.set_end_time_unix_nano(kStartNs + 900000000);
  switch (which) {
    case 0:
      span.set_name("invoke_agent Planner");
      Attr(&span, "gen_ai.operation.name", "invoke_agent");
      Attr(&span, "gen_ai.agent.id", "asst_planner");
      Attr(&span, "gen_ai.conversation.id", "conv-42");
      break;
    case 1:
      span.set_name("chat gpt-4o");
      Attr(&span, "gen_ai.operation.name", "chat");
      Attr(&span, "gen_ai.request.model", "gpt-4o");
      Attr(&span, "gen_ai.response.model", "gpt-4o-2024-08-06");
      IntAttr(&span, "gen_ai.usage.input_tokens", 120);
      IntAttr(&span, "gen_ai.usage.output_tokens", 30);
      IntAttr(&span, "gen_ai.usage.cache_read.input_tokens", 100);
      Attr(&span, "gen_ai.input.messages",
           R"([{"role":"user","parts":[{"type":"text","content":"Plan my trip to Rome"}]}])");
      Attr(&span, "gen_ai.output.messages",
           R"([{"role":"assistant","parts":[{"type":"text","content":"Flights booked, hotel found."}]}])");
      break;
    case 2:
      span.set_name("execute_tool book_flight");
      Attr(&span, "gen_ai.operation.name", "execute_tool");
      Attr(&span, "gen_ai.tool.name", "book_flight");
      Attr(&span, "gen_ai.tool.call.id", "call_a");
      Attr(&span, "gen_ai.tool.call.arguments", R"({"to":"FCO"})");
      Attr(&span, "gen_ai.tool.call.result", R"({"pnr":"XYZ"})");
      span.mutable_status()->set_code(pb::Status::STATUS_CODE_OK);
      break;
    case 3:
      span.set_name("execute_tool find_hotel");
      Attr(&span, "gen_ai.operation.name", "execute_tool");
      Attr(&span, "gen_ai.tool.name", "find_hotel");
      Attr(&span, "gen_ai.tool.call.id", "call_b");
      span.mutable_status()->set_code(pb::Status::STATUS_CODE_ERROR);
      span.mutable_status()->set_message("no rooms");
      break;
  }
  return span;
}

// The chat span of that trace as the outermost span of its trace (no parent to wait for).
pb::Span TopChatSpan(int trace_seed) {
  pb::Span span = AgentSpan(trace_seed, 1);
  span.clear_parent_span_id();
  return span;
}

// An export of `spans` from a resource naming `user` (none when empty).
std::string Export(const std::vector<pb::Span>& spans, const std::string& user) {
  pb::ExportTraceServiceRequest request;
  pb::ResourceSpans* rs = request.add_resource_spans();
  if (!user.empty()) {
    pb::KeyValue* kv = rs->mutable_resource()->add_attributes();
    kv->set_key("user.id");
    kv->mutable_value()->set_string_value(user);
  }
  pb::ScopeSpans* scope = rs->add_scope_spans();
  for (const pb::Span& span : spans) *scope->add_spans() = span;
  return request.SerializeAsString();
}

std::string Gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Headers KeyHeaders(const std::string& type = kProtobuf) {
  return {{"x-functions-key", kKey}, {"Content-Type", type}};
}

Headers AdminAs(const std::string& user) { return {{"x-functions-key", kAdmin}, {"X-User-Id", user}}; }

// The user's history once it holds `count` interactions (waiting for the assembler), or the
// last answer after `seconds`.
HttpResponse HistoryWhen(HttpClient& c, const std::string& user, size_t count, int seconds = 15) {
  HttpResponse r;
  for (int i = 0; i < seconds * 10; ++i) {
    r = c.Get("/api/get_interaction_history", AdminAs(user));
    if (r.status == 200 && Items(r.Json()).size() >= count) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return r;
}

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "<missing>";
  return std::string(v);
}

TEST(OtlpIngest, AgentTraceInSeveralExportsChildrenFirstBecomesOneInteraction) {
  RunningServer s(Config("1500"));
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  // Tool spans first, then the chat (gzip), then the agent span: three exports.
  HttpResponse r = c.Post("/v1/traces", Export({AgentSpan(1, 3), AgentSpan(1, 2)}, "alice"), KeyHeaders());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), kProtobuf);
  pb::ExportTraceServiceResponse answer;
  ASSERT_TRUE(answer.ParseFromString(r.body));
  EXPECT_FALSE(answer.has_partial_success());
  Headers gzip = KeyHeaders();
  gzip.emplace_back("Content-Encoding", "gzip");
  r = c.Post("/v1/traces", Gzip(Export({AgentSpan(1, 1)}, "alice")), gzip);
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Post("/v1/traces", Export({AgentSpan(1, 0)}, "alice"), KeyHeaders());
  ASSERT_EQ(r.status, 200) << r.body;
  // Nothing yet: the trace has not been quiet long enough.
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("alice")).Json()).empty());

  HttpResponse history = HistoryWhen(c, "alice", 1);
  ASSERT_EQ(history.status, 200) << history.body;
  std::vector<simdjson::dom::element> items = Items(history.Json());
  ASSERT_EQ(items.size(), 1u) << history.body;
  simdjson::dom::element it = items[0];
  EXPECT_EQ(Str(it, "user_message"), "Plan my trip to Rome");
  EXPECT_EQ(Str(it, "assistant_response"), "Flights booked, hotel found.");
  EXPECT_EQ(Str(it, "thread_id"), "conv-42");
  EXPECT_EQ(Str(it, "timestamp"), "2025-12-01T00:00:00.123456Z");
  const std::string id = Str(it, "interaction_id");
  EXPECT_EQ(id.rfind("INT_20251201_000000_123456_", 0), 0u) << id;
  EXPECT_EQ(id.size(), 43u) << id;
  std::vector<simdjson::dom::element> tools = Items(it, "tool_calls");
  ASSERT_EQ(tools.size(), 2u) << history.body;
  EXPECT_EQ(Str(tools[0], "tool_name"), "book_flight");
  EXPECT_EQ(Str(tools[0], "status"), "success");
  EXPECT_EQ(Str(tools[0], "tool_call_id"), "call_a");
  EXPECT_EQ(Str(tools[0]["arguments"].value(), "to"), "FCO");
  EXPECT_EQ(Str(tools[0]["result"].value(), "pnr"), "XYZ");
  EXPECT_EQ(Str(tools[1], "tool_name"), "find_hotel");
  EXPECT_EQ(Str(tools[1], "status"), "error");
  simdjson::dom::element meta = it["metadata"].value();
  EXPECT_EQ(Str(meta, "source"), "otlp");
  EXPECT_EQ(Str(meta, "trace_id"), "02030405060708090a0b0c0d0e0f1011");
  EXPECT_EQ(Str(meta, "span_id"), "65666768696a6b6c");
  EXPECT_EQ(Str(meta, "model"), "gpt-4o-2024-08-06");
  EXPECT_EQ(Str(meta, "assistant_id"), "asst_planner");
  simdjson::dom::element usage = meta["usage"].value();
  EXPECT_EQ(IntAt(usage, "input_tokens"), 120);
  EXPECT_EQ(IntAt(usage, "output_tokens"), 30);
  EXPECT_EQ(IntAt(usage, "cached_input_tokens"), 100);

  // The exporter retries everything: still one interaction.
  std::vector<pb::Span> all = {AgentSpan(1, 0), AgentSpan(1, 1), AgentSpan(1, 2), AgentSpan(1, 3)};
  ASSERT_EQ(c.Post("/v1/traces", Export(all, "alice"), KeyHeaders()).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  EXPECT_EQ(Items(c.Get("/api/get_interaction_history", AdminAs("alice")).Json()).size(), 1u);

  // The metrics count the spans and the captured interaction.
  HttpResponse metrics = c.Get("/metrics", {{"x-functions-key", kAdmin}});
  EXPECT_NE(metrics.body.find("omniflow_interactions_captured_total{source=\"otlp\"} 1"),
            std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("omniflow_spans_received_total{source=\"otlp\",outcome=\"accepted\"} 8"),
            std::string::npos);
}

TEST(OtlpIngest, JsonWithATokenWritesOnlyItsOwnUserAndCountsTheRest) {
  RunningServer s(Config());
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  const std::string body = R"({"resourceSpans":[{"resource":{"attributes":[]},"scopeSpans":[{"spans":[
    {"traceId":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1","spanId":"00000000000000a1","name":"chat",
     "startTimeUnixNano":"1764547200000000000","endTimeUnixNano":"1764547201000000000",
     "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
       {"key":"gen_ai.prompt","value":{"stringValue":"hi from bob's token"}},
       {"key":"gen_ai.completion","value":{"stringValue":"hello bob"}},
       {"key":"gen_ai.usage.input_tokens","value":{"intValue":"7"}}]},
    {"traceId":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2","spanId":"00000000000000a2","name":"chat",
     "startTimeUnixNano":1764547200000000000,
     "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
       {"key":"user.id","value":{"stringValue":"carol"}},
       {"key":"gen_ai.prompt","value":{"stringValue":"written as carol"}}]}]}]}]})";
  HttpResponse r = c.Post("/v1/traces", body,
                          {{"Authorization", "Bearer " + Token("bob")},
                           {"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  simdjson::dom::element partial = r.Json()["partialSuccess"].value();
  EXPECT_EQ(Str(partial, "rejectedSpans"), "1");
  EXPECT_NE(Str(partial, "errorMessage").find("another user"), std::string::npos);
  HttpResponse history = HistoryWhen(c, "bob", 1);
  std::vector<simdjson::dom::element> items = Items(history.Json());
  ASSERT_EQ(items.size(), 1u) << history.body;
  EXPECT_EQ(Str(items[0], "user_message"), "hi from bob's token");
  EXPECT_EQ(Str(items[0], "assistant_response"), "hello bob");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("carol")).Json()).empty());

  // A key with X-User-Id is bound to that user the same way.
  Headers bound = KeyHeaders();
  bound.emplace_back("X-User-Id", "dave");
  pb::ExportTraceServiceResponse answer;
  r = c.Post("/v1/traces", Export({AgentSpan(2, 0)}, "erin"), bound);
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(answer.ParseFromString(r.body));
  EXPECT_EQ(answer.partial_success().rejected_spans(), 1);
  // A key without X-User-Id and a span naming no user: refused, not stored for anyone.
  r = c.Post("/v1/traces", Export({AgentSpan(3, 0)}, ""), KeyHeaders());
  ASSERT_TRUE(answer.ParseFromString(r.body));
  EXPECT_EQ(answer.partial_success().rejected_spans(), 1);
  EXPECT_NE(answer.partial_success().error_message().find("no user"), std::string::npos);
}

TEST(OtlpIngest, ChunkedBodyWithoutContentLengthIsAccepted) {
  RunningServer s(Config());
  ASSERT_TRUE(s.started);
  const std::string body = Export({TopChatSpan(4)}, "frank");
  auto hex = [](size_t n) {
    std::ostringstream out;
    out << std::hex << n;
    return out.str();
  };
  const std::string size = hex(body.size() / 2);
  const std::string rest = hex(body.size() - body.size() / 2);
  const std::string raw = std::string("POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n") +
                          "x-functions-key: " + kKey + "\r\nContent-Type: application/x-protobuf\r\n"
                          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + size + "\r\n" +
                          body.substr(0, body.size() / 2) + "\r\n" + rest + "\r\n" +
                          body.substr(body.size() / 2) + "\r\n0\r\n\r\n";
  HttpResponse r = s.client->Raw(raw);
  EXPECT_EQ(r.status, 200) << r.body;
  HttpResponse history = HistoryWhen(*s.client, "frank", 1);
  EXPECT_EQ(Items(history.Json()).size(), 1u) << history.body;
}

TEST(OtlpIngest, HostileBodiesAreRefusedInTheRequestsEncoding) {
  RunningServer s(Config());
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  HttpResponse r = c.Post("/v1/traces", "\xff\xff\xff\xff not protobuf", KeyHeaders());
  EXPECT_EQ(r.status, 400);
  pb::RpcStatus status;
  ASSERT_TRUE(status.ParseFromString(r.body)) << r.body;
  EXPECT_EQ(status.code(), 3);
  EXPECT_NE(status.message().find("ExportTraceServiceRequest"), std::string::npos);
  r = c.Post("/v1/traces", "{\"resourceSpans\":", KeyHeaders("application/json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("JSON"), std::string::npos) << r.body;
  // A gzip bomb: 64 MiB of zeros in ~64 KB.
  Headers gzip = KeyHeaders();
  gzip.emplace_back("Content-Encoding", "gzip");
  r = c.Post("/v1/traces", Gzip(std::string(64u << 20, '\0')), gzip);
  EXPECT_EQ(r.status, 413) << r.body;
  r = c.Post("/v1/traces", "not gzip", gzip);
  EXPECT_EQ(r.status, 400) << r.body;
  Headers brotli = KeyHeaders();
  brotli.emplace_back("Content-Encoding", "br");
  EXPECT_EQ(c.Post("/v1/traces", "x", brotli).status, 415);
  EXPECT_EQ(c.Post("/v1/traces", "x", KeyHeaders("text/plain")).status, 415);
  EXPECT_EQ(c.Post("/v1/traces", Export({AgentSpan(5, 0)}, "gina"), {{"Content-Type", kProtobuf}}).status, 401);
  EXPECT_EQ(c.Post("/v1/traces", Export({AgentSpan(5, 0)}, "gina"),
                   {{"x-functions-key", "wrong"}, {"Content-Type", kProtobuf}}).status, 401);
  // Not forwarded by proxy_router.
  EXPECT_EQ(c.Post("/api/proxy_router/otlp", Export({AgentSpan(5, 0)}, "gina"), KeyHeaders()).status, 404);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("gina")).Json()).empty());
}

// Spans without a chat / invoke_agent span wait for one (here 1.5 s, past the quiet time), and
// are joined when it comes; past OMNIFLOW_OTLP_EXPIRE_MS they are dropped instead.
TEST(OtlpIngest, ToolSpansWaitForTheirRootUntilTheyExpire) {
  for (const bool expire : {false, true}) {
    ServerConfig config = Config("200");
    if (expire) config.env.emplace_back("OMNIFLOW_OTLP_EXPIRE_MS", "500");
    RunningServer s(config);
    ASSERT_TRUE(s.started);
    HttpClient& c = *s.client;
    ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(7, 2)}, "jack"), KeyHeaders()).status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ASSERT_EQ(c.Post("/v1/traces", Export({TopChatSpan(7)}, "jack"), KeyHeaders()).status, 200);
    HttpResponse history = HistoryWhen(c, "jack", 1);
    std::vector<simdjson::dom::element> items = Items(history.Json());
    ASSERT_EQ(items.size(), 1u) << history.body;
    EXPECT_EQ(Items(items[0], "tool_calls").size(), expire ? 0u : 1u)
        << (expire ? "expired" : "waiting") << ": " << history.body;
  }
}

// Issue 15: an agent turn longer than the quiet time. The chat span and its tools are exported
// as they end; the invoke_agent span only when the whole turn ends, after the trace has been
// quiet for longer than OMNIFLOW_OTLP_QUIET_MS. One interaction, the agent's, with the chat's
// messages and tool calls; the same with a span without gen_ai.* attributes (an HTTP server
// span) between the agent and the chat.
TEST(OtlpIngest, LongAgentTurnExportedChatFirstIsOneInteraction) {
  RunningServer s(Config("300"));
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  const std::string http_id = Id(140, 8);
  pb::Span http;
  http.set_trace_id(Id(11, 16));
  http.set_span_id(http_id);
  http.set_parent_span_id(AgentSpan(11, 0).span_id());
  http.set_name("POST /chat");
  Attr(&http, "http.request.method", "POST");
  pb::Span chat_under_http = AgentSpan(11, 1);
  chat_under_http.set_parent_span_id(http_id);
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(10, 2), AgentSpan(10, 3)}, "kate"), KeyHeaders()).status, 200);
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(10, 1)}, "kate"), KeyHeaders()).status, 200);
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(11, 2), chat_under_http, http}, "liam"),
                   KeyHeaders()).status, 200);
  // Five times the quiet time: without the wait for the parent, the chats were written here.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("kate")).Json()).empty());
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("liam")).Json()).empty());
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(10, 0)}, "kate"), KeyHeaders()).status, 200);
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(11, 0)}, "liam"), KeyHeaders()).status, 200);
  const std::vector<std::pair<std::string, size_t>> users = {{"kate", 2}, {"liam", 1}};
  for (const auto& [user, tools] : users) {
    ASSERT_EQ(HistoryWhen(c, user, 1).status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    HttpResponse history = c.Get("/api/get_interaction_history", AdminAs(user));
    std::vector<simdjson::dom::element> items = Items(history.Json());
    ASSERT_EQ(items.size(), 1u) << user << ": " << history.body;
    EXPECT_EQ(Str(items[0], "user_message"), "Plan my trip to Rome") << user;
    EXPECT_EQ(Str(items[0], "assistant_response"), "Flights booked, hotel found.") << user;
    EXPECT_EQ(Items(items[0], "tool_calls").size(), tools) << user << ": " << history.body;
    simdjson::dom::element meta = items[0]["metadata"].value();
    EXPECT_EQ(Str(meta, "span_id"), "65666768696a6b6c") << user;  // the agent span's
    EXPECT_EQ(Str(meta, "operation"), "invoke_agent") << user;
    EXPECT_EQ(Str(meta, "assistant_id"), "asst_planner") << user;
  }
}

// A chat span whose parent never arrives is written on its own after
// OMNIFLOW_OTLP_PARENT_WAIT_MS; one whose parent is flagged remote (Span.flags) after the
// quiet time only.
TEST(OtlpIngest, ChatSpanWaitsForAMissingParentButNotForARemoteOne) {
  ServerConfig config = Config("200");
  config.env.emplace_back("OMNIFLOW_OTLP_PARENT_WAIT_MS", "2500");
  RunningServer s(config);
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  pb::Span remote = AgentSpan(13, 1);
  remote.set_flags(0x300 | 0x01);  // parent known to be remote, and sampled
  ASSERT_EQ(c.Post("/v1/traces", Export({AgentSpan(12, 1)}, "mona"), KeyHeaders()).status, 200);
  ASSERT_EQ(c.Post("/v1/traces", Export({remote}, "nick"), KeyHeaders()).status, 200);
  const auto sent = std::chrono::steady_clock::now();
  HttpResponse nick = HistoryWhen(c, "nick", 1, 2);
  EXPECT_EQ(Items(nick.Json()).size(), 1u) << nick.body;
  EXPECT_TRUE(Items(c.Get("/api/get_interaction_history", AdminAs("mona")).Json()).empty())
      << "written before the parent wait";
  HttpResponse mona = HistoryWhen(c, "mona", 1);
  const auto waited = std::chrono::steady_clock::now() - sent;
  std::vector<simdjson::dom::element> items = Items(mona.Json());
  ASSERT_EQ(items.size(), 1u) << mona.body;
  EXPECT_GE(waited, std::chrono::milliseconds(2500));
  EXPECT_EQ(Str(items[0]["metadata"].value(), "span_id"), "6f70717273747576");
}

TEST(OtlpIngest, ErasureTakesTheSpansStillHeld) {
  ServerConfig slow = Config("600000");  // the trace stays held for 10 minutes
  RunningServer s(slow);
  ASSERT_TRUE(s.started);
  HttpClient& c = *s.client;
  std::vector<pb::Span> all = {AgentSpan(6, 0), AgentSpan(6, 1)};
  ASSERT_EQ(c.Post("/v1/traces", Export(all, "henry"), KeyHeaders()).status, 200);
  ASSERT_EQ(c.Post("/v1/traces", Export(all, "ivy"), KeyHeaders()).status, 200);
  HttpResponse erased = c.Request("DELETE", "/api/users/henry", {{"x-functions-key", kAdmin}});
  ASSERT_EQ(erased.status, 200) << erased.body;
  // The same store with a short quiet time: ivy's trace is written, henry's is gone.
  const std::string data_dir = s.server->data_dir();
  s.client.reset();
  ASSERT_EQ(s.server->Stop(), 0);
  ServerConfig quick = Config("100");
  quick.data_dir = data_dir;
  RunningServer again(quick);
  ASSERT_TRUE(again.started);
  EXPECT_EQ(Items(HistoryWhen(*again.client, "ivy", 1).Json()).size(), 1u);
  EXPECT_TRUE(Items(again.client->Get("/api/get_interaction_history", AdminAs("henry")).Json()).empty());
}

}  // namespace
}  // namespace omniflow::testing
