#include "replay/compare.h"

#include <gtest/gtest.h>

namespace omniflow::replay {
namespace {

constexpr char kFailedOriginal[] =
    R"({"user_id":"ada","user_message":"show tasks","assistant_response":"Sorry.","thread_id":"t1",)"
    R"("tool_calls":[{"tool_name":"get_data","arguments":{},"result":{},"status":"error"}],)"
    R"("metadata":{"latency_ms":40,"usage":{"total_tokens":50},"outcome":"success"},)"
    R"("feedback":{"score":-1,"comment":""}})";

agent::AgentOutcome Outcome(std::string response, std::vector<std::pair<std::string, bool>> calls) {
  agent::AgentOutcome o;
  o.response = std::move(response);
  for (auto& [name, ok] : calls) o.tool_calls.push_back({name, "{}", R"({"status":"x"})", ok});
  o.total_tokens = 30;
  return o;
}

TEST(ReplayOriginal, ReadsMessageToolsFailureCostsAndFeedback) {
  Result<Original> o = ParseOriginal(kFailedOriginal);
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->user_message, "show tasks");
  EXPECT_EQ(o->thread_id, "t1");
  EXPECT_EQ(o->tools, std::vector<std::string>{"get_data"});
  EXPECT_TRUE(o->failed);
  EXPECT_EQ(o->latency_ms, 40);
  EXPECT_EQ(o->tokens, 50);
  ASSERT_TRUE(o->feedback);
  EXPECT_EQ(*o->feedback, -1);
  EXPECT_FALSE(ParseOriginal(R"({"assistant_response":"x"})").ok());
  EXPECT_FALSE(ParseOriginal("not json").ok());
}

TEST(ReplayCompare, AFailureGoneIsFixedAndItsJsonSaysSo) {
  Original o = *ParseOriginal(kFailedOriginal);
  ReplayResult r = Compare(o, Outcome("Here they are.", {{"get_data", true}}), 12);
  EXPECT_TRUE(r.fixed);
  EXPECT_FALSE(r.introduced);
  EXPECT_TRUE(r.same_tools);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.tokens, 30);
  EXPECT_EQ(r.original_tokens, 50);
  EXPECT_NE(r.result_json.find(R"("failure":"fixed")"), std::string::npos) << r.result_json;
  EXPECT_NE(r.result_json.find(R"("original_feedback":"negative")"), std::string::npos);
  EXPECT_NE(r.result_json.find(R"("tool_sequence":"same")"), std::string::npos);
}

TEST(ReplayCompare, ANewFailureIsIntroducedAndSameEverythingIsUnchanged) {
  Original o;
  o.assistant_response = "Done.";
  o.tools = {"add_new_data"};
  ReplayResult broken = Compare(o, Outcome("Done.", {{"add_new_data", false}}), 1);
  EXPECT_TRUE(broken.introduced);
  EXPECT_TRUE(broken.changed);
  ReplayResult same = Compare(o, Outcome("Done.", {{"add_new_data", true}}), 1);
  EXPECT_FALSE(same.changed);
  EXPECT_FALSE(same.introduced);
  ReplayResult reordered =
      Compare(o, Outcome("Done.", {{"get_data", true}, {"add_new_data", true}}), 1);
  EXPECT_FALSE(reordered.same_tools);
  EXPECT_TRUE(reordered.changed);
}

TEST(ReplayCompare, AProviderFailureIsAnErrorNeitherFixedNorIntroduced) {
  Original o;
  agent::AgentOutcome failed;
  failed.status = Status::UpstreamFailed("the provider answered 503");
  ReplayResult r = Compare(o, failed, 5);
  EXPECT_TRUE(r.error);
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.fixed);
  EXPECT_FALSE(r.introduced);
  EXPECT_NE(r.result_json.find(R"("outcome":"provider_error")"), std::string::npos);
}

}  // namespace
}  // namespace omniflow::replay
