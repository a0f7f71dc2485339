#include "api/export_format.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "core/validate.h"

namespace omniflow::api {
namespace {

constexpr int64_t kT = 1765458330000000;

// An interaction as a scan returns it, built from a save body as the server builds it.
ScannedInteraction Row(const std::string& user, int64_t ts, const std::string& body,
                       std::optional<double> score = std::nullopt) {
  Result<SaveRequest> request = ParseSaveRequest(body);
  EXPECT_TRUE(request.ok()) << request.status().message();
  Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
  InteractionRecord rec = BuildInteraction(stamp, user, std::move(*request), {});
  ScannedInteraction row;
  row.json = rec.json;
  row.user_id = user;
  row.interaction_id = rec.interaction_id;
  row.ts_us = ts;
  row.thread_id = rec.thread_id;
  row.feedback_score = score;
  return row;
}

std::string Encode(ExportFormat format, const std::vector<ScannedInteraction>& rows) {
  ExportEncoder encoder(format);
  std::string out;
  encoder.Begin(&out);
  for (const ScannedInteraction& row : rows) EXPECT_TRUE(encoder.Add(row, &out).ok());
  encoder.Finish(&out);
  return out;
}

TEST(ExportFormat, ParsesTheThreeNamesAndRefusesOthers) {
  EXPECT_EQ(*ParseExportFormat("jsonl"), ExportFormat::kJsonl);
  EXPECT_EQ(*ParseExportFormat("csv"), ExportFormat::kCsv);
  EXPECT_EQ(*ParseExportFormat("openai"), ExportFormat::kOpenAi);
  EXPECT_EQ(ParseExportFormat("xml").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ExportContentType(ExportFormat::kOpenAi), "application/x-ndjson");
}

TEST(ExportFormat, CsvFieldQuotesOnlyWhatRfc4180Requires) {
  std::string out;
  AppendCsvField(&out, "plain text");
  EXPECT_EQ(out, "plain text");
  for (auto [in, want] : std::vector<std::pair<std::string, std::string>>{
           {"a,b", "\"a,b\""}, {"say \"hi\"", "\"say \"\"hi\"\"\""}, {"l1\nl2", "\"l1\nl2\""},
           {"cr\r", "\"cr\r\""}, {"", ""}, {"日本語", "日本語"}}) {
    out.clear();
    AppendCsvField(&out, in);
    EXPECT_EQ(out, want) << in;
  }
}

TEST(ExportFormat, JsonlIsTheStoredObjectPerLine) {
  ScannedInteraction a = Row("ann", kT, R"({"user_message":"a","assistant_response":"b"})");
  ScannedInteraction b = Row("ann", kT + 1, R"({"user_message":"c","assistant_response":"d"})");
  EXPECT_EQ(Encode(ExportFormat::kJsonl, {a, b}), a.json + "\n" + b.json + "\n");
}

TEST(ExportFormat, CsvHasTheHeaderJsonColumnsAsTextAndTheScore) {
  ScannedInteraction a = Row(
      "ann", kT,
      R"({"user_message":"hi, \"you\"\nthere","assistant_response":"ok","thread_id":"t1","tool_calls":[{"tool_name":"get_data","arguments":{"a":1}}],"metadata":{"k":"v,w"}})",
      0.5);
  ScannedInteraction b = Row("bob", kT + 1, R"({"user_message":"x","assistant_response":"y"})");
  const std::string id_a = FormatInteractionId(kT), id_b = FormatInteractionId(kT + 1);
  EXPECT_EQ(Encode(ExportFormat::kCsv, {a, b}),
            std::string(kCsvHeader) + id_a + "," + FormatTimestamp(kT) +
                ",ann,t1,\"hi, \"\"you\"\"\nthere\",ok,"
                "\"[{\"\"tool_name\"\":\"\"get_data\"\",\"\"arguments\"\":{\"\"a\"\":1},"
                "\"\"result\"\":null,\"\"status\"\":\"\"success\"\"}]\","
                "\"{\"\"k\"\":\"\"v,w\"\"}\",0.5\r\n" +
                id_b + "," + FormatTimestamp(kT + 1) + ",bob,,x,y,[],{},\r\n");
}

TEST(ExportFormat, OpenAiGroupsAThreadsTurnsWithToolCallsAndToolMessagesInOrder) {
  ScannedInteraction first = Row(
      "ann", kT,
      R"({"user_message":"add milk","assistant_response":"Added.","thread_id":"t1","tool_calls":[{"tool_name":"add_new_data","arguments":{"item":"milk"},"result":{"id":7},"status":"success"},{"tool_name":"list_data","arguments":"not json","result":"two"}]})");
  ScannedInteraction second = Row(
      "ann", kT + 1, R"({"user_message":"thanks","assistant_response":"You're welcome","thread_id":"t1"})");
  ScannedInteraction other = Row(
      "ann", kT + 2, R"({"user_message":"next","assistant_response":"sure","thread_id":"t2"})");
  ScannedInteraction alone = Row("ann", kT + 3, R"({"user_message":"solo","assistant_response":"one"})");
  const std::string id = FormatInteractionId(kT);
  EXPECT_EQ(
      Encode(ExportFormat::kOpenAi, {first, second, other, alone}),
      R"({"messages":[{"role":"user","content":"add milk"},)"
      R"({"role":"assistant","content":null,"tool_calls":[)"
      R"({"id":"call_)" + id + R"(_0","type":"function","function":{"name":"add_new_data","arguments":"{\"item\":\"milk\"}"}},)"
      R"({"id":"call_)" + id + R"(_1","type":"function","function":{"name":"list_data","arguments":"not json"}}]},)"
      R"({"role":"tool","tool_call_id":"call_)" + id + R"(_0","content":"{\"id\":7}"},)"
      R"({"role":"tool","tool_call_id":"call_)" + id + R"(_1","content":"\"two\""},)"
      R"({"role":"assistant","content":"Added."},)"
      R"({"role":"user","content":"thanks"},{"role":"assistant","content":"You're welcome"}]})" "\n"
      R"({"messages":[{"role":"user","content":"next"},{"role":"assistant","content":"sure"}]})" "\n"
      R"({"messages":[{"role":"user","content":"solo"},{"role":"assistant","content":"one"}]})" "\n");
}

TEST(ExportFormat, OpenAiSplitsTheSameThreadIdOfTwoUsersAndKeepsAGivenToolCallId) {
  ScannedInteraction ann = Row(
      "ann", kT,
      R"({"user_message":"a","assistant_response":"b","thread_id":"t","tool_calls":[{"tool_name":"x","id":"call_9"}]})");
  ScannedInteraction bob = Row("bob", kT, R"({"user_message":"c","assistant_response":"d","thread_id":"t"})");
  const std::string out = Encode(ExportFormat::kOpenAi, {ann, bob});
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_NE(out.find(R"("tool_calls":[{"id":"call_9","type":"function","function":{"name":"x","arguments":"{}"}}])"),
            std::string::npos) << out;
  EXPECT_NE(out.find(R"({"role":"tool","tool_call_id":"call_9","content":"null"})"), std::string::npos);
}

TEST(ExportFormat, AnUnreadableStoredRowIsAnInternalError) {
  ScannedInteraction bad;
  bad.json = "{not json";
  ExportEncoder encoder(ExportFormat::kCsv);
  std::string out;
  EXPECT_EQ(encoder.Add(bad, &out).code(), Status::Code::kInternal);
}

}  // namespace
}  // namespace omniflow::api
