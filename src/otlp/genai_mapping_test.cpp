#include "otlp/genai_mapping.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/json.h"
#include "core/validate.h"
#include "otlp/decode.h"

namespace omniflow::otlp {
namespace {

constexpr char kTrace[] = "0102030405060708090a0b0c0d0e0f10";

// A span in the form DecodeExport keeps: `attributes` is a JSON object's members.
std::string SpanJson(std::string_view id, std::string_view parent, int64_t start_us,
                     std::string_view attributes, int status = 0, std::string_view events = "") {
  return std::string("{\"trace_id\":\"") + kTrace + "\",\"span_id\":\"" + std::string(id) +
         "\",\"parent_span_id\":\"" + std::string(parent) + "\",\"name\":\"s\",\"start_us\":" +
         std::to_string(start_us) + ",\"end_us\":" + std::to_string(start_us + 10) +
         ",\"status_code\":" + std::to_string(status) + ",\"status_message\":\"" +
         (status == 2 ? "tool failed" : "") + "\",\"attributes\":{" + std::string(attributes) +
         "},\"events\":[" + std::string(events) + "]}";
}

std::string Quoted(std::string_view json) { return JsonString(json); }

// A span without gen_ai.* attributes as the store keeps it: its ids only.
std::string Link(std::string_view id, std::string_view parent, bool parent_remote = false) {
  DecodedSpan d;
  d.trace_id = kTrace;
  d.span_id = std::string(id);
  d.parent_span_id = std::string(parent);
  d.parent_remote = parent_remote;
  return LinkJson(d);
}

TEST(GenAiMapping, AgentTraceBecomesOneInteractionWithItsToolCalls) {
  const std::string input = Quoted(
      R"([{"role":"system","parts":[{"type":"text","content":"be brief"}]},)"
      R"({"role":"user","parts":[{"type":"text","content":"What is the weather in Paris?"}]}])");
  const std::string output = Quoted(
      R"([{"role":"assistant","parts":[{"type":"text","content":"Sunny, 21 C."}],"finish_reason":"stop"}])");
  std::vector<std::string> spans = {
      // Children first, as the exporters send them.
      SpanJson("0000000000000003", "0000000000000002", 1100,
               R"("gen_ai.operation.name":"execute_tool","gen_ai.tool.name":"weather",)"
               R"("gen_ai.tool.call.id":"call_1","gen_ai.tool.call.arguments":"{\"city\":\"Paris\"}",)"
               R"("gen_ai.tool.call.result":"{\"temp\":21}")"),
      SpanJson("0000000000000004", "0000000000000002", 1200,
               R"("gen_ai.operation.name":"execute_tool","gen_ai.tool.name":"news")", 2),
      SpanJson("0000000000000002", "0000000000000001", 1050,
               R"("gen_ai.operation.name":"chat","gen_ai.request.model":"gpt-4o",)"
               R"("gen_ai.response.model":"gpt-4o-2024-08-06","gen_ai.usage.input_tokens":100,)"
               R"("gen_ai.usage.output_tokens":20,"gen_ai.usage.cache_read.input_tokens":60,)"
               R"("gen_ai.usage.reasoning.output_tokens":5,"gen_ai.input.messages":)" + input +
               R"(,"gen_ai.output.messages":)" + output),
      SpanJson("0000000000000001", "", 1000,
               R"("gen_ai.operation.name":"invoke_agent","gen_ai.agent.id":"asst_7",)"
               R"("gen_ai.agent.name":"Weather","gen_ai.conversation.id":"conv-9")"),
  };
  spans.push_back(spans[0]);  // a re-sent span counts once
  std::vector<MappedInteraction> out = MapTrace(spans);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].trace_id, kTrace);
  EXPECT_EQ(out[0].span_id, "0000000000000001");
  EXPECT_EQ(out[0].start_us, 1000);
  EXPECT_EQ(out[0].save_body,
            std::string(R"({"user_message":"What is the weather in Paris?","assistant_response":"Sunny, 21 C.",)") +
                R"("thread_id":"conv-9","tool_calls":[)"
                R"({"tool_name":"weather","tool_call_id":"call_1","arguments":{"city":"Paris"},"result":{"temp":21},"status":"success"},)"
                R"({"tool_name":"news","arguments":null,"result":null,"status":"error","error":"tool failed"}],)"
                R"("metadata":{"source":"otlp","trace_id":")" + kTrace +
                R"(","span_id":"0000000000000001","model":"gpt-4o-2024-08-06",)"
                R"("usage":{"input_tokens":100,"output_tokens":20,"cached_input_tokens":60,"reasoning_tokens":5},)"
                R"("assistant_id":"asst_7","agent_name":"Weather","operation":"invoke_agent"}})");
  // What the mapping makes is a valid save body.
  Result<SaveRequest> parsed = ParseSaveRequest(out[0].save_body);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->tool_call_count, 2);
  EXPECT_EQ(parsed->tool_failure_count, 1);
}

TEST(GenAiMapping, OlderPromptCompletionAttributesAndEvents) {
  std::vector<std::string> spans = {
      SpanJson("0000000000000001", "", 5, R"("gen_ai.operation.name":"chat","gen_ai.prompt":"hello there")"),
      SpanJson("0000000000000009", "", 50,
               R"("gen_ai.operation.name":"chat","gen_ai.usage.prompt_tokens":3)", 0,
               R"({"name":"gen_ai.user.message","time_us":0,"attributes":{"content":"second question"}},)"
               R"({"name":"gen_ai.choice","time_us":0,"attributes":{"index":0,"message":{"content":"second answer"}}})"),
  };
  spans[0].replace(spans[0].find("\"gen_ai.prompt\""), 0, "\"gen_ai.completion\":\"general kenobi\",");
  std::vector<MappedInteraction> out = MapTrace(spans);
  ASSERT_EQ(out.size(), 2u);  // two top-level chats: two interactions, in time order
  EXPECT_NE(out[0].save_body.find(R"("user_message":"hello there","assistant_response":"general kenobi")"),
            std::string::npos) << out[0].save_body;
  EXPECT_NE(out[1].save_body.find(R"("user_message":"second question","assistant_response":"second answer")"),
            std::string::npos) << out[1].save_body;
  EXPECT_NE(out[1].save_body.find(R"("usage":{"input_tokens":3})"), std::string::npos);
}

TEST(GenAiMapping, ToolCallsFromMessagesWhenThereAreNoToolSpans) {
  const std::string output1 = Quoted(
      R"([{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"lookup","arguments":{"q":"x"}}]}])");
  const std::string input2 = Quoted(
      R"([{"role":"user","parts":[{"type":"text","content":"find x"}]},)"
      R"({"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"found"}]}])");
  const std::string output2 = Quoted(R"([{"role":"assistant","parts":[{"type":"text","content":"x is found"}]}])");
  std::vector<std::string> spans = {
      SpanJson("0000000000000001", "", 1, R"("gen_ai.operation.name":"invoke_agent")"),
      SpanJson("0000000000000002", "0000000000000001", 2,
               R"("gen_ai.operation.name":"chat","gen_ai.output.messages":)" + output1 +
                   R"(,"gen_ai.usage.input_tokens":10)"),
      SpanJson("0000000000000003", "0000000000000001", 3,
               R"("gen_ai.operation.name":"chat","gen_ai.input.messages":)" + input2 +
                   R"(,"gen_ai.output.messages":)" + output2 + R"(,"gen_ai.usage.input_tokens":15)"),
  };
  std::vector<MappedInteraction> out = MapTrace(spans);
  ASSERT_EQ(out.size(), 1u);
  const std::string& body = out[0].save_body;
  EXPECT_NE(body.find(R"("user_message":"find x","assistant_response":"x is found")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("tool_calls":[{"tool_name":"lookup","tool_call_id":"c1","arguments":{"q":"x"},"result":"found","status":"success"}])"),
            std::string::npos) << body;
  // The agent span reports no usage: its chats' are summed, each once.
  EXPECT_NE(body.find(R"("usage":{"input_tokens":25})"), std::string::npos) << body;
}

TEST(GenAiMapping, TraceWithoutAnInteractionSpanMakesNothing) {
  std::vector<std::string> spans = {
      SpanJson("0000000000000003", "0000000000000002", 1, R"("gen_ai.operation.name":"execute_tool")"),
      "not json",
  };
  EXPECT_TRUE(MapTrace(spans).empty());
  EXPECT_FALSE(IsInteractionSpan(spans[0]));
  EXPECT_TRUE(IsInteractionSpan(SpanJson("0000000000000001", "", 1, R"("gen_ai.operation.name":"chat")")));
}

// invoke_agent > GET /tools (a span without gen_ai.*, kept for its ids) > chat: the chat is
// the agent's, not an interaction of its own.
TEST(GenAiMapping, ChatUnderAnAgentThroughANonGenAiSpanIsJoinedToTheAgent) {
  const std::string input = Quoted(R"([{"role":"user","parts":[{"type":"text","content":"hi"}]}])");
  std::vector<std::string> spans = {
      SpanJson("0000000000000003", "0000000000000002", 3,
               R"("gen_ai.operation.name":"chat","gen_ai.input.messages":)" + input),
      Link("0000000000000002", "0000000000000001"),
      SpanJson("0000000000000001", "", 1, R"("gen_ai.operation.name":"invoke_agent")"),
  };
  std::vector<MappedInteraction> out = MapTrace(spans);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].span_id, "0000000000000001");
  EXPECT_NE(out[0].save_body.find(R"("user_message":"hi")"), std::string::npos) << out[0].save_body;
  EXPECT_TRUE(AncestryComplete(spans));
}

TEST(GenAiMapping, AncestryIsCompleteAtARootOrARemoteParentNotAtAMissingSpan) {
  const std::string chat = R"("gen_ai.operation.name":"chat")";
  // The chat's parent has not arrived: it may be an agent span still running.
  EXPECT_FALSE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "0000000000000001", 3, chat)}));
  // Nor has the parent of the non-GenAI span between.
  EXPECT_FALSE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "0000000000000002", 3, chat),
      Link("0000000000000002", "0000000000000001")}));
  // A non-GenAI root above it arrived: complete.
  EXPECT_TRUE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "0000000000000002", 3, chat),
      Link("0000000000000002", "")}));
  // A parent in another process (Span.flags): complete, whether on the chat or above it.
  std::string remote = SpanJson("0000000000000003", "0000000000000001", 3, chat);
  remote.replace(remote.find("\"name\""), 0, "\"parent_remote\":true,");
  EXPECT_TRUE(AncestryComplete(std::vector<std::string>{remote}));
  EXPECT_TRUE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "0000000000000002", 3, chat),
      Link("0000000000000002", "0000000000000001", true)}));
  // Only an outermost root's ancestry counts: a tool span's missing parent does not.
  EXPECT_TRUE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "", 3, chat),
      SpanJson("0000000000000009", "0000000000000008", 9, R"("gen_ai.operation.name":"execute_tool")")}));
  // A cycle can never be completed by a later span: complete.
  EXPECT_TRUE(AncestryComplete(std::vector<std::string>{
      SpanJson("0000000000000003", "0000000000000002", 3, chat),
      Link("0000000000000002", "0000000000000004"), Link("0000000000000004", "0000000000000002")}));
}

TEST(GenAiMapping, AnInvalidConversationIdIsLeftOut) {
  std::vector<std::string> spans = {SpanJson(
      "0000000000000001", "", 1, R"("gen_ai.operation.name":"chat","gen_ai.conversation.id":"bad id/..")")};
  std::vector<MappedInteraction> out = MapTrace(spans);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].save_body.find("thread_id"), std::string::npos);
}

}  // namespace
}  // namespace omniflow::otlp
