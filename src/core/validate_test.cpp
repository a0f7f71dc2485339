#include "core/validate.h"

#include <gtest/gtest.h>
#include <simdjson.h>

namespace omniflow {
namespace {

Result<SaveRequest> Parse(const std::string& body) { return ParseSaveRequest(body); }

TEST(Validate, UserIdRules) {
  EXPECT_TRUE(IsValidUserId("test_user_123"));
  EXPECT_TRUE(IsValidUserId("a.b-c@d+e"));
  EXPECT_TRUE(IsValidUserId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidUserId(std::string(129, 'a')));
  for (const char* bad : {"", ".hidden", "../etc", "a/b", "a b", "a:b", "a'b", "a\"b", "é"}) {
    EXPECT_FALSE(IsValidUserId(bad)) << bad;
  }
}

TEST(Validate, ThreadIdAllowsColon) {
  EXPECT_TRUE(IsValidThreadId("thread:abc"));
  EXPECT_TRUE(IsValidThreadId(std::string(256, 't')));
  EXPECT_FALSE(IsValidThreadId(std::string(257, 't')));
  EXPECT_FALSE(IsValidThreadId(".x"));
  EXPECT_FALSE(IsValidThreadId("a/../b"));
}

TEST(Validate, MinimalBodyGetsDefaults) {
  auto r = Parse(R"({"user_message":"hi","assistant_response":"hello"})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->user_message, "\"hi\"");
  EXPECT_EQ(r->tool_calls, "[]");
  EXPECT_EQ(r->metadata, "{}");
  EXPECT_FALSE(r->thread_id);
}

TEST(Validate, ToolCallsAreCanonicalisedWithDefaults) {
  auto r = Parse(R"({"user_message":"u","assistant_response":"a","tool_calls":[
      {"tool_name":"add_new_data","arguments":"{\"target_blob_name\":\"tasks.json\"}"},
      {"tool_name":"get_data","arguments":"not json","result":{"x":1},"status":"error","id":"c1"}]})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->tool_calls,
            R"([{"tool_name":"add_new_data","arguments":{"target_blob_name":"tasks.json"},"result":null,"status":"success"},)"
            R"({"tool_name":"get_data","arguments":"not json","result":{"x":1},"status":"error","id":"c1"}])");
  EXPECT_EQ(r->tool_call_count, 2);
  EXPECT_EQ(r->tool_failure_count, 1);
}

TEST(Validate, RejectsUnknownFieldByName) {
  auto r = Parse(R"({"user_message":"u","assistant_response":"a","colour":"red"})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"colour\""), std::string::npos);
}

TEST(Validate, RejectsBadBodies) {
  const char* bad[] = {
      "",
      "[]",
      "\"text\"",
      "{",
      R"({"assistant_response":"a"})",
      R"({"user_message":"u"})",
      R"({"user_message":1,"assistant_response":"a"})",
      R"({"user_message":"u","assistant_response":null})",
      R"({"user_message":"u","assistant_response":"a","thread_id":5})",
      R"({"user_message":"u","assistant_response":"a","thread_id":"../x"})",
      R"({"user_message":"u","assistant_response":"a","tool_calls":{}})",
      R"({"user_message":"u","assistant_response":"a","tool_calls":[1]})",
      R"({"user_message":"u","assistant_response":"a","tool_calls":[{}]})",
      R"({"user_message":"u","assistant_response":"a","tool_calls":[{"tool_name":""}]})",
      R"({"user_message":"u","assistant_response":"a","tool_calls":[{"tool_name":"x","status":1}]})",
      R"({"user_message":"u","assistant_response":"a","metadata":[]})",
      R"({"user_message":"u","user_message":"v","assistant_response":"a"})",
      R"({"user_message":"u","assistant_response":"a","n":1e999})",
  };
  for (const char* body : bad) {
    auto r = Parse(body);
    EXPECT_FALSE(r.ok()) << body;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << body;
    }
  }
}

TEST(Validate, RejectsInvalidUtf8) {
  std::string body = "{\"user_message\":\"\xff\xfe\",\"assistant_response\":\"a\"}";
  auto r = Parse(body);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("UTF-8"), std::string::npos);
}

TEST(Validate, RejectsNestingDeeperThanLimit) {
  std::string deep = "{\"user_message\":\"u\",\"assistant_response\":\"a\",\"metadata\":";
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  deep += "}";
  auto r = Parse(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested"), std::string::npos);
}

TEST(Validate, BuildInteractionIsValidJsonInDocumentedOrder) {
  auto r = Parse(R"({"user_message":"Zeile \"1\"\n日本語","assistant_response":"ok","thread_id":"t1","metadata":{"k":[1,2]}})");
  ASSERT_TRUE(r.ok());
  Stamp stamp{1765458330123456, "INT_20251211_130530_123456", "2025-12-11T13:05:30.123456Z"};
  InteractionRecord rec = BuildInteraction(stamp, "user_1", std::move(*r), {});
  EXPECT_EQ(rec.json,
            R"({"interaction_id":"INT_20251211_130530_123456","timestamp":"2025-12-11T13:05:30.123456Z",)"
            R"("user_id":"user_1","thread_id":"t1","user_message":"Zeile \"1\"\n日本語",)"
            R"("assistant_response":"ok","tool_calls":[],"metadata":{"k":[1,2]}})");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(rec.json).get(doc));
  EXPECT_EQ(std::string_view(doc["user_message"].get_string().value()), "Zeile \"1\"\n日本語");
}

TEST(Validate, NulAndControlCharactersRoundTripEscaped) {
  auto r = Parse(R"({"user_message":"a\u0000b\u001f","assistant_response":"x"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->user_message, R"("a\u0000b\u001f")");
}

TEST(Validate, ImportFieldsOnlyWhenImporting) {
  const char* body = R"({"user_id":"u1","timestamp":"2025-12-01T00:00:00.000000Z","user_message":"m","assistant_response":"a"})";
  EXPECT_FALSE(ParseSaveRequest(body).ok());
  ImportFields fields;
  auto r = ParseSaveRequest(body, &fields);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fields.user_id, "u1");
  EXPECT_EQ(*fields.timestamp, "2025-12-01T00:00:00.000000Z");
}

}  // namespace
}  // namespace omniflow

namespace omniflow {
namespace {

TEST(Validate, InteractionIdsAreTheServersShapeOnly) {
  for (const char* good : {"INT_20251201_000000_123456", "INT_20251201_000000_123456_2", "INT_A"}) {
    EXPECT_TRUE(IsValidInteractionId(good)) << good;
  }
  for (const std::string& bad : {std::string(""), std::string("INT_"), std::string("int_1"),
                                std::string("INT_1/feedback"), std::string("INT_..%2F"),
                                std::string("INT_a"), "INT_" + std::string(61, '1')}) {
    EXPECT_FALSE(IsValidInteractionId(bad)) << bad;
  }
}

}  // namespace
}  // namespace omniflow

namespace omniflow {
namespace {

const PriceTable& TestPrices() {
  static const PriceTable table = *PriceTable::Parse(
      R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":2,"output":10}}})", "t");
  return table;
}

TEST(BuildInteraction, PricesTheUsageOfTheMetadataAndLeavesTheJsonAsSent) {
  const std::string body =
      R"({"user_message":"hi","assistant_response":"ok","metadata":{"model":"m",)"
      R"("usage":{"prompt_tokens":1000,"completion_tokens":100}}})";
  Result<SaveRequest> request = ParseSaveRequest(body);
  ASSERT_TRUE(request.ok());
  Stamp stamp{1765458330000000, "INT_20251211_130530_000000", "2025-12-11T13:05:30.000000Z"};
  InteractionRecord priced =
      BuildInteraction(stamp, "u", *request, BuildOptions{nullptr, &TestPrices()});
  ASSERT_TRUE(priced.usage);
  EXPECT_EQ(priced.usage->model, "m");
  EXPECT_EQ(priced.usage->tokens, (TokenUsage{1000, 0, 100, 0}));
  EXPECT_EQ(priced.usage->cost_nanos, 3'000'000);  // 1000*2 + 100*10 per 1e6 tokens = $0.003
  InteractionRecord unpriced = BuildInteraction(stamp, "u", *request, {});
  ASSERT_TRUE(unpriced.usage);
  EXPECT_FALSE(unpriced.usage->cost_nanos);
  EXPECT_EQ(priced.json, unpriced.json);
  EXPECT_EQ(priced.json.find("cost"), std::string::npos);
  EXPECT_FALSE(
      BuildInteraction(stamp, "u",
                       *ParseSaveRequest(R"({"user_message":"a","assistant_response":"b"})"), {})
          .usage);
}

TEST(BuildInteraction, ReadsUsageFromTheMetadataOfARequestBuiltByHand) {
  SaveRequest request;
  request.user_message = "\"a\"";
  request.assistant_response = "\"b\"";
  request.metadata = R"({"model":"m","usage":{"input_tokens":10,"output_tokens":1}})";
  Stamp stamp{1765458330000000, "INT_20251211_130530_000000", "2025-12-11T13:05:30.000000Z"};
  InteractionRecord r = BuildInteraction(stamp, "u", request, BuildOptions{nullptr, &TestPrices()});
  ASSERT_TRUE(r.usage);
  EXPECT_EQ(r.usage->tokens, (TokenUsage{10, 0, 1, 0}));
  EXPECT_EQ(r.usage->cost_nanos, 30'000);
}

}  // namespace
}  // namespace omniflow
