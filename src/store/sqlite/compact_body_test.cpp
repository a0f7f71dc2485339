#include "store/sqlite/compact_body.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "core/validate.h"

namespace omniflow {
namespace {

InteractionRecord Record(std::optional<std::string> thread) {
  SaveRequest request;
  request.user_message = "\"hi \\\"there\\\"\"";
  request.assistant_response = "\"hello\"";
  request.thread_id = std::move(thread);
  request.metadata = "{\"interaction_id\":\"spoof\"}";
  const int64_t ts = 1765458330123456;
  return BuildInteraction(Stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)}, "user-1",
                          std::move(request), {});
}

TEST(CompactBody, RoundTripsWithAndWithoutThread) {
  for (auto thread : {std::optional<std::string>("thread:1"), std::optional<std::string>()}) {
    InteractionRecord r = Record(thread);
    std::string stored;
    ASSERT_TRUE(CompactBody(r, &stored));
    EXPECT_EQ(stored.rfind("{\"user_message\":", 0), 0u) << stored;
    EXPECT_LT(stored.size() + 100, r.json.size());
    std::optional<std::string_view> t;
    if (r.thread_id) t = *r.thread_id;
    EXPECT_EQ(ExpandBody(stored, r.interaction_id, r.ts_us, r.user_id, t), r.json);
  }
}

TEST(CompactBody, WholeRowsComeBackUnchanged) {
  InteractionRecord r = Record("t");
  EXPECT_EQ(ExpandBody(r.json, r.interaction_id, r.ts_us, r.user_id, std::string_view("t")),
            r.json);
}

TEST(ColumnsMatch, TellsAChangedColumnFromTheRecord) {
  for (auto thread : {std::optional<std::string>("thread:1"), std::optional<std::string>()}) {
    InteractionRecord r = Record(thread);
    std::optional<std::string_view> t;
    if (r.thread_id) t = *r.thread_id;
    EXPECT_TRUE(ColumnsMatch(r.json, r.interaction_id, r.ts_us, r.user_id, t));
    EXPECT_FALSE(ColumnsMatch(r.json, r.interaction_id, r.ts_us + 1, r.user_id, t));
    EXPECT_FALSE(ColumnsMatch(r.json, r.interaction_id, r.ts_us, "user-2", t));
    EXPECT_FALSE(ColumnsMatch(r.json, "INT_20251211_130530_123457", r.ts_us, r.user_id, t));
    EXPECT_FALSE(ColumnsMatch(r.json, r.interaction_id, r.ts_us, r.user_id,
                              t ? std::optional<std::string_view>() : std::optional<std::string_view>("x")));
  }
  // Not canonical (an older row stored as given): nothing to compare.
  EXPECT_TRUE(ColumnsMatch("{\"user_message\":\"hi\"}", "INT_1", 1, "u", std::nullopt));
  EXPECT_TRUE(ColumnsMatch("{\"interaction_id\":\"INT_1\"}", "INT_2", 1, "u", std::nullopt));
}

TEST(CompactBody, RefusesJsonThatDoesNotMatchTheColumns) {
  InteractionRecord r = Record("t");
  r.ts_us += 1;  // the timestamp in the JSON no longer matches the column
  std::string stored;
  EXPECT_FALSE(CompactBody(r, &stored));
  r = Record("t");
  r.user_id = "someone-else";
  EXPECT_FALSE(CompactBody(r, &stored));
}

}  // namespace
}  // namespace omniflow
