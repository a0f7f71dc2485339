#include "agent/provider.h"

#include <gtest/gtest.h>

namespace omniflow::agent {
namespace {

TEST(ParseCompletion, TextAnswerWithUsage) {
  auto r = ParseCompletion(R"({"model":"gpt-x","choices":[{"message":{"role":"assistant","content":"Hi there"}}],
                               "usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->content, "Hi there");
  EXPECT_EQ(r->model, "gpt-x");
  EXPECT_EQ(r->total_tokens, 5);
  EXPECT_TRUE(r->tool_calls.empty());
  EXPECT_EQ(r->message_json, R"({"role":"assistant","content":"Hi there"})");
}

TEST(ParseCompletion, ReadsCachedAndReasoningTokens) {
  auto r =
      ParseCompletion(R"({"model":"o1","choices":[{"message":{"role":"assistant","content":"x"}}],
      "usage":{"prompt_tokens":30,"completion_tokens":20,"total_tokens":50,
               "prompt_tokens_details":{"cached_tokens":12},
               "completion_tokens_details":{"reasoning_tokens":15}}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->prompt_tokens, 30);
  EXPECT_EQ(r->cached_tokens, 12);
  EXPECT_EQ(r->completion_tokens, 20);
  EXPECT_EQ(r->reasoning_tokens, 15);
}

TEST(ParseCompletion, ToolCallsAreEchoedBackAsTheAssistantMessage) {
  auto r = ParseCompletion(R"({"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[
      {"id":"call_9","type":"function","function":{"name":"get_data","arguments":"{\"target_blob_name\":\"t.json\"}"}}]}}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->tool_calls.size(), 1u);
  EXPECT_EQ(r->tool_calls[0].id, "call_9");
  EXPECT_EQ(r->tool_calls[0].name, "get_data");
  EXPECT_EQ(r->tool_calls[0].arguments, R"({"target_blob_name":"t.json"})");
  EXPECT_NE(r->message_json.find(R"("content":null,"tool_calls":[{"id":"call_9")"), std::string::npos)
      << r->message_json;
}

TEST(ParseCompletion, MalformedAnswersAreBadGateway) {
  for (const char* body : {"", "not json", "{}", R"({"choices":[]})", R"({"choices":[{"message":5}]})",
                           R"({"choices":[{"message":{"tool_calls":[{"function":{"name":"x"}}]}}]})"}) {
    auto r = ParseCompletion(body);
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Status::Code::kUpstreamFailed) << body;
  }
}

TEST(ProviderOptions, AzureNeedsNoModelOthersDo) {
  ProviderOptions o;
  EXPECT_FALSE(o.Configured());
  o.base_url = "http://x/v1";
  EXPECT_FALSE(o.Configured());
  o.model = "m";
  EXPECT_TRUE(o.Configured());
  o.model.clear();
  o.api_version = "2024-10-21";
  EXPECT_TRUE(o.Configured());
}

}  // namespace
}  // namespace omniflow::agent
