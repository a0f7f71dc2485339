#include "agent/capture_transcript.h"

#include <gtest/gtest.h>

namespace omniflow::agent {
namespace {

TEST(ParseCaptureRequest, LastUserMessageThreadAndStream) {
  auto r = ParseCaptureRequest(R"({"model":"gpt-x","stream":true,"metadata":{"thread_id":"t-1"},
      "messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},
                  {"role":"assistant","content":"ok"},
                  {"role":"user","content":[{"type":"text","text":"second"},{"type":"text","text":"part"}]}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_message, "second\npart");
  EXPECT_EQ(r->thread_id, "t-1");
  EXPECT_EQ(r->model, "gpt-x");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->tool_results.empty());
}

TEST(ParseCaptureRequest, OnlyTheToolResultsAfterTheLastAssistantMessageAreNew) {
  auto r = ParseCaptureRequest(R"({"messages":[{"role":"user","content":"weather?"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"{\"temp\":3}"},
      {"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"c2","content":"Error: no clock"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->tool_results.size(), 1u);
  EXPECT_EQ(r->tool_results[0].tool_call_id, "c2");
  EXPECT_EQ(r->tool_results[0].tool_name, "get_time");
  EXPECT_EQ(r->tool_results[0].content, "Error: no clock");
}

TEST(ParseCaptureRequest, RefusesWhatIsNotAChatRequest) {
  EXPECT_FALSE(ParseCaptureRequest("not json").ok());
  EXPECT_FALSE(ParseCaptureRequest(R"({"model":"x"})").ok());
  EXPECT_FALSE(ParseCaptureRequest(R"({"messages":[{"content":"no role"}]})").ok());
  EXPECT_FALSE(ParseCaptureRequest(R"({"messages":[],"metadata":{"thread_id":"bad thread"}})").ok());
  EXPECT_FALSE(ParseCaptureRequest(R"({"messages":[{"role":"tool","content":"x"}]})").ok());
}

TEST(ParseCaptureAnswer, TextToolCallsUsageVerbatimAndErrors) {
  CaptureAnswer a = ParseCaptureAnswer(R"({"model":"m1","choices":[{"finish_reason":"tool_calls",
      "message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
      "function":{"name":"f","arguments":"{\"a\":1}"}}]}}],
      "usage":{"prompt_tokens":9,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2}}})");
  EXPECT_EQ(a.model, "m1");
  EXPECT_EQ(a.finish_reason, "tool_calls");
  ASSERT_EQ(a.tool_calls.size(), 1u);
  EXPECT_EQ(a.tool_calls[0].arguments, R"({"a":1})");
  EXPECT_EQ(a.usage, R"({"prompt_tokens":9,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2}})");
  CaptureAnswer e = ParseCaptureAnswer(R"({"error":{"message":"Rate limit reached","type":"requests"}})");
  EXPECT_EQ(e.error, "Rate limit reached");
  EXPECT_TRUE(ParseCaptureAnswer("<html>").content.empty());
}

TEST(SseAssembler, AssemblesContentToolCallsAndUsageFromPiecesCutAnywhere) {
  const std::string events =
      "data: {\"model\":\"m2\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c7\",\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"arguments\":\"{\\\"q\\\":\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"x\\\"}\"}}]}}]}\n\n"
      "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n"
      "data: [DONE]\n\n";
  for (size_t cut : {size_t{1}, size_t{7}, size_t{64}, events.size()}) {
    SseAssembler sse;
    for (size_t at = 0; at < events.size(); at += cut) sse.Feed(std::string_view(events).substr(at, cut));
    CaptureAnswer a = sse.Answer();
    EXPECT_EQ(a.content, "Hello") << cut;
    EXPECT_EQ(a.model, "m2");
    EXPECT_EQ(a.finish_reason, "tool_calls");
    ASSERT_EQ(a.tool_calls.size(), 1u);
    EXPECT_EQ(a.tool_calls[0].id, "c7");
    EXPECT_EQ(a.tool_calls[0].name, "lookup");
    EXPECT_EQ(a.tool_calls[0].arguments, R"({"q":"x"})");
    EXPECT_EQ(a.usage, R"({"prompt_tokens":5,"completion_tokens":3,"total_tokens":8})");
  }
}

TEST(ToolContentIsError, SaysSoOnlyWhenTheContentDoes) {
  EXPECT_TRUE(ToolContentIsError(R"({"error":"not found"})"));
  EXPECT_TRUE(ToolContentIsError(R"({"status":"error"})"));
  EXPECT_TRUE(ToolContentIsError("Error: timed out"));
  EXPECT_TRUE(ToolContentIsError("  error while reading"));
  EXPECT_FALSE(ToolContentIsError(R"({"error":null,"temp":3})"));
  EXPECT_FALSE(ToolContentIsError(R"({"temp":3})"));
  EXPECT_FALSE(ToolContentIsError("No errors found"));
  EXPECT_FALSE(ToolContentIsError("[1,2]"));
}

TEST(CaptureToSaveRequest, ResultsBecomeToolCallsAndRequestedCallsGoToMetadata) {
  CaptureRequest request;
  request.user_message = "weather in Oslo?";
  request.model = "asked-model";
  request.tool_results = {{"c1", "get_weather", R"({"city":"Oslo"})", R"({"temp":3})"},
                          {"c2", "get_time", "{}", "Error: no clock"}};
  CaptureAnswer answer;
  answer.content = "3 degrees";
  answer.model = "m3";
  answer.usage = R"({"prompt_tokens":1})";
  answer.tool_calls = {{"c3", "again", R"({"x":1})"}};
  CaptureInfo info;
  info.thread_id = "t9";
  info.provider_status = 200;
  info.latency_ms = 12;
  info.requested_in = {{"c1", "INT_20260101_000000_000001"}};
  SaveRequest s = CaptureToSaveRequest(request, answer, info);
  EXPECT_EQ(s.user_message, "\"weather in Oslo?\"");
  EXPECT_EQ(s.assistant_response, "\"3 degrees\"");
  EXPECT_EQ(s.thread_id, "t9");
  EXPECT_EQ(s.tool_call_count, 2);
  EXPECT_EQ(s.tool_failure_count, 1);
  EXPECT_EQ(s.tool_calls,
            R"([{"tool_name":"get_weather","arguments":{"city":"Oslo"},"result":{"temp":3},"status":"success","tool_call_id":"c1","requested_in":"INT_20260101_000000_000001"},)"
            R"({"tool_name":"get_time","arguments":{},"result":"Error: no clock","status":"error","tool_call_id":"c2"}])");
  EXPECT_EQ(s.metadata,
            R"({"source":"proxy","model":"m3","usage":{"prompt_tokens":1},"stream":false,"latency_ms":12,)"
            R"("outcome":"success","provider_status":200,"tool_calls_requested":[{"tool_name":"again","arguments":{"x":1},"tool_call_id":"c3"}]})");
}

TEST(CaptureToSaveRequest, AProviderErrorIsLoggedAsAFailure) {
  CaptureRequest request;
  request.user_message = "hi";
  CaptureAnswer answer;
  answer.error = "quota exceeded";
  CaptureInfo info;
  info.provider_status = 429;
  SaveRequest s = CaptureToSaveRequest(request, answer, info);
  EXPECT_NE(s.metadata.find(R"("outcome":"provider_error","provider_status":429,"error":"quota exceeded")"),
            std::string::npos) << s.metadata;
  CaptureInfo none;
  none.transport_error = "cannot reach the LLM provider: Couldn't connect to server";
  s = CaptureToSaveRequest(request, CaptureAnswer{}, none);
  EXPECT_NE(s.metadata.find(R"("outcome":"provider_unreachable","provider_status":0,"error":"cannot reach)"),
            std::string::npos) << s.metadata;
  CaptureInfo slow;
  slow.timed_out = true;
  slow.transport_error = "cannot reach the LLM provider: Timeout was reached";
  s = CaptureToSaveRequest(request, CaptureAnswer{}, slow);
  EXPECT_NE(s.metadata.find(R"("outcome":"provider_timeout")"), std::string::npos) << s.metadata;
  CaptureInfo broken;
  broken.provider_status = 200;
  broken.transport_error = "the LLM provider's stream broke off";
  s = CaptureToSaveRequest(request, CaptureAnswer{}, broken);
  EXPECT_NE(s.metadata.find(R"("outcome":"provider_error","provider_status":200,"error":"the LLM provider's stream broke off")"),
            std::string::npos) << s.metadata;
}

}  // namespace
}  // namespace omniflow::agent

#include "agent/recent_tool_calls.h"

namespace omniflow::agent {
namespace {

TEST(RecentToolCalls, FindsPerUserAndForgetsTheOldestBeyondItsCapacity) {
  RecentToolCalls recent(2);
  recent.Remember("ada", "c1", "INT_1");
  recent.Remember("bo", "c1", "INT_2");
  EXPECT_EQ(recent.Find("ada", "c1"), "INT_1");
  EXPECT_EQ(recent.Find("bo", "c1"), "INT_2");
  EXPECT_EQ(recent.Find("cy", "c1"), std::nullopt);  // another user's call is not found
  recent.Remember("ada", "c2", "INT_3");
  EXPECT_EQ(recent.Find("ada", "c1"), std::nullopt);  // the oldest went
  EXPECT_EQ(recent.Find("ada", "c2"), "INT_3");
}

}  // namespace
}  // namespace omniflow::agent
