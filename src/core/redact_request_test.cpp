#include "core/redact_request.h"

#include <gtest/gtest.h>

namespace omniflow {
namespace {

// Replaces every "secret" with "[X]": enough to see which strings are scanned.
class WordRedactor : public TextRedactor {
 public:
  using TextRedactor::Redact;
  bool Redact(std::string_view text, std::string* out, RedactBudget*) const override {
    size_t at = text.find("secret");
    if (at == std::string_view::npos) return false;
    size_t from = 0;
    while (at != std::string_view::npos) {
      out->append(text.substr(from, at - from)).append("[X]");
      from = at + 6;
      at = text.find("secret", from);
    }
    out->append(text.substr(from));
    return true;
  }
};

TEST(RedactRequest, EveryStringOfMessagesToolCallsAndMetadataAtAnyDepth) {
  Result<SaveRequest> r = ParseSaveRequest(R"({"user_message":"my secret","assistant_response":"a \"secret\"\n",
    "thread_id":"secret-thread",
    "tool_calls":[{"tool_name":"secret_tool","arguments":{"q":"secret","deep":[{"x":["secret",1,true,null]}]},
                   "result":"the secret","status":"secret","id":"call_secret"}],
    "metadata":{"secret":"secret","n":{"m":"no secret here"},"k":2.5}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  SaveRequest req = std::move(*r);
  RedactSaveRequest(WordRedactor(), &req);
  EXPECT_EQ(req.user_message, R"("my [X]")");
  EXPECT_EQ(req.assistant_response, R"("a \"[X]\"\n")");
  EXPECT_EQ(req.thread_id, "secret-thread");
  EXPECT_EQ(req.tool_calls,
            R"([{"tool_name":"secret_tool","arguments":{"q":"[X]","deep":[{"x":["[X]",1,true,null]}]},)"
            R"("result":"the [X]","status":"secret","id":"call_[X]"}])");
  // Keys are kept; values redacted.
  EXPECT_EQ(req.metadata, R"({"secret":"[X]","n":{"m":"no [X] here"},"k":2.5})");
}

TEST(RedactRequest, AJsonDocumentInsideAStringIsScannedAsThatString) {
  Result<SaveRequest> r = ParseSaveRequest(
      R"({"user_message":"x","assistant_response":"y","tool_calls":[{"tool_name":"t","arguments":"[\"secret\"]"}]})");
  ASSERT_TRUE(r.ok());
  SaveRequest req = std::move(*r);
  RedactSaveRequest(WordRedactor(), &req);
  EXPECT_EQ(req.tool_calls, R"([{"tool_name":"t","arguments":"[\"[X]\"]","result":null,"status":"success"}])");
}

TEST(RedactRequest, BuildInteractionLeavesIdsThreadAndTimestampAlone) {
  Result<SaveRequest> r = ParseSaveRequest(
      R"({"user_message":"secret","assistant_response":"ok","thread_id":"secret"})");
  ASSERT_TRUE(r.ok());
  Stamp stamp{1765458330123456, "INT_20251211_130530_123456", "2025-12-11T13:05:30.123456Z"};
  WordRedactor redactor;
  InteractionRecord rec = BuildInteraction(stamp, "secret", std::move(*r), {&redactor});
  EXPECT_EQ(rec.json,
            R"({"interaction_id":"INT_20251211_130530_123456","timestamp":"2025-12-11T13:05:30.123456Z",)"
            R"("user_id":"secret","thread_id":"secret","user_message":"[X]","assistant_response":"ok",)"
            R"("tool_calls":[],"metadata":{}})");
}

TEST(RedactRequest, NothingFoundLeavesThePartsByteForByte) {
  Result<SaveRequest> r = ParseSaveRequest(
      R"({"user_message":"hello","assistant_response":"hi","metadata":{"a":[1,2,{"b":"c"}]}})");
  ASSERT_TRUE(r.ok());
  SaveRequest before = *r;
  SaveRequest req = std::move(*r);
  RedactSaveRequest(WordRedactor(), &req);
  EXPECT_EQ(req.user_message, before.user_message);
  EXPECT_EQ(req.metadata, before.metadata);
}

}  // namespace
}  // namespace omniflow
