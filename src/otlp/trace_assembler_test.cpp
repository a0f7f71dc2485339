// The trace assembler over a real store on both engines (Sqlite/OtlpAssembly.* in the unit
// pass, Postgres/OtlpAssembly.* in ctest's pg.* pass), with a pinned clock: when a held trace
// becomes interactions, and that a chat span waiting for its agent span is joined to it rather
// than written on its own.
#include "otlp/trace_assembler.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "otlp/decode.h"
#include "otlp/genai_mapping.h"
#include "store/engine_test_fixture.h"
#include "store/store_test_fixtures.h"
#include "store/writer.h"

namespace omniflow::otlp {
namespace {

constexpr int64_t kT0 = 1765458330000000;
constexpr int64_t kSecond = 1000000;
constexpr char kTrace[] = "0102030405060708090a0b0c0d0e0f10";
constexpr char kAgent[] = "00000000000000a1";
constexpr char kHttp[] = "00000000000000b1";
constexpr char kChat[] = "00000000000000c1";
constexpr char kTool[] = "00000000000000d1";

class PinnedClock final : public Clock {
 public:
  int64_t NowMicros() override { return now_.load(); }
  void Set(int64_t us) { now_.store(us); }

 private:
  std::atomic<int64_t> now_{kT0};
};

// A GenAI span as DecodeExport keeps it.
std::string SpanJson(std::string_view id, std::string_view parent, int64_t start_us,
                     std::string_view attributes, bool parent_remote = false) {
  return std::string("{\"trace_id\":\"") + kTrace + "\",\"span_id\":\"" + std::string(id) +
         "\",\"parent_span_id\":\"" + std::string(parent) + "\",\"parent_remote\":" +
         (parent_remote ? "true" : "false") + ",\"name\":\"s\",\"start_us\":" +
         std::to_string(start_us) + ",\"end_us\":" + std::to_string(start_us + 10) +
         ",\"status_code\":0,\"status_message\":\"\",\"attributes\":{" + std::string(attributes) +
         "},\"events\":[]}";
}

std::string ChatJson(std::string_view parent, bool parent_remote = false) {
  return SpanJson(kChat, parent, kT0 + 2000,
                  R"("gen_ai.operation.name":"chat","gen_ai.input.messages":"[{\"role\":\"user\",)"
                  R"(\"parts\":[{\"type\":\"text\",\"content\":\"Plan my trip\"}]}]",)"
                  R"("gen_ai.output.messages":"[{\"role\":\"assistant\",\"parts\":[{\"type\":)"
                  R"(\"text\",\"content\":\"Booked.\"}]}]")",
                  parent_remote);
}

std::string ToolJson() {
  return SpanJson(kTool, kChat, kT0 + 3000,
                  R"("gen_ai.operation.name":"execute_tool","gen_ai.tool.name":"book_flight")");
}

std::string AgentJson() {
  return SpanJson(kAgent, "", kT0 + 1000,
                  R"("gen_ai.operation.name":"invoke_agent","gen_ai.agent.id":"asst_trip")");
}

PendingSpan Held(const std::string& user, const std::string& json, int64_t received_us) {
  PendingSpan p;
  p.user_id = user;
  p.trace_id = kTrace;
  p.span_id = json.substr(json.find("\"span_id\":\"") + 11, 16);
  p.genai = true;
  p.root = IsInteractionSpan(json);
  p.received_us = received_us;
  p.json = json;
  return p;
}

// A span without gen_ai.* attributes, as POST /v1/traces keeps it: its ids only.
PendingSpan Link(const std::string& user, std::string_view id, std::string_view parent,
                 int64_t received_us) {
  DecodedSpan d;
  d.trace_id = kTrace;
  d.span_id = std::string(id);
  d.parent_span_id = std::string(parent);
  PendingSpan p;
  p.user_id = user;
  p.trace_id = kTrace;
  p.span_id = d.span_id;
  p.genai = false;
  p.received_us = received_us;
  p.json = LinkJson(d);
  return p;
}

class OtlpAssembly : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (!database_) return;
    writer_ = std::make_unique<Writer>(&database_->interactions(), WriterOptions());
    AssemblerOptions options;
    options.quiet = std::chrono::seconds(10);
    options.parent_wait = std::chrono::seconds(120);
    options.expire = std::chrono::hours(1);
    assembler_ = std::make_unique<TraceAssembler>(&Spans(), writer_.get(), &clock_,
                                                  BuildOptions(), options);
  }
  void TearDown() override {
    assembler_.reset();
    writer_.reset();
    EngineTest::TearDown();
  }

  PendingSpanStore& Spans() { return database_->pending_spans(); }

  void Add(std::vector<PendingSpan> spans) { ASSERT_TRUE(Spans().Add(spans).ok()); }

  // One assembler round at `now`: how many interactions it stored.
  int RunAt(int64_t now) {
    clock_.Set(now);
    Result<int> stored = assembler_->RunOnce();
    EXPECT_TRUE(stored.ok()) << stored.status().message();
    return stored.ok() ? *stored : -1;
  }

  std::vector<std::string> History(const std::string& user) {
    return TestPage(&database_->interactions(), user).items;
  }

  size_t HeldSpans(const std::string& user) {
    Result<PendingSpanStore::TraceSpans> held = Spans().Spans({user, kTrace});
    EXPECT_TRUE(held.ok()) << held.status().message();
    return held.ok() ? held->jsons.size() : 0;
  }

  PinnedClock clock_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<TraceAssembler> assembler_;
};

// Issue 15: an agent turn longer than the quiet time. The chat span (and its tool) is exported
// when it ends; the invoke_agent span only when the whole turn ends, 30 s later.
TEST_P(OtlpAssembly, ChatSpanExportedLongBeforeItsAgentSpanIsJoinedToIt) {
  Add({Held("alice", ToolJson(), kT0), Held("alice", ChatJson(kAgent), kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 0);  // quiet, but the chat's parent has not arrived
  EXPECT_EQ(RunAt(kT0 + 29 * kSecond), 0);
  EXPECT_TRUE(History("alice").empty());
  Add({Held("alice", AgentJson(), kT0 + 30 * kSecond)});
  EXPECT_EQ(RunAt(kT0 + 35 * kSecond), 0);  // not quiet yet
  EXPECT_EQ(RunAt(kT0 + 41 * kSecond), 1);
  std::vector<std::string> items = History("alice");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_NE(items[0].find(std::string("\"span_id\":\"") + kAgent + "\""), std::string::npos) << items[0];
  EXPECT_NE(items[0].find("\"user_message\":\"Plan my trip\""), std::string::npos) << items[0];
  EXPECT_NE(items[0].find("\"assistant_response\":\"Booked.\""), std::string::npos) << items[0];
  EXPECT_NE(items[0].find("\"tool_name\":\"book_flight\""), std::string::npos) << items[0];
  EXPECT_NE(items[0].find("\"operation\":\"invoke_agent\""), std::string::npos) << items[0];
  EXPECT_EQ(HeldSpans("alice"), 0u);
  // Long after the parent wait, the chat never becomes an interaction of its own.
  EXPECT_EQ(RunAt(kT0 + 600 * kSecond), 0);
  EXPECT_EQ(History("alice").size(), 1u);
}

// The same with a span without gen_ai.* attributes between them (an HTTP server span of the
// service the agent called), kept for its ids.
TEST_P(OtlpAssembly, ChatSpanIsJoinedToItsAgentThroughANonGenAiSpan) {
  Add({Held("alice", ChatJson(kHttp), kT0), Link("alice", kHttp, kAgent, kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 0);
  Add({Held("alice", AgentJson(), kT0 + 60 * kSecond)});
  EXPECT_EQ(RunAt(kT0 + 71 * kSecond), 1);
  std::vector<std::string> items = History("alice");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_NE(items[0].find(std::string("\"span_id\":\"") + kAgent + "\""), std::string::npos) << items[0];
  EXPECT_NE(items[0].find("\"user_message\":\"Plan my trip\""), std::string::npos) << items[0];
  EXPECT_EQ(HeldSpans("alice"), 0u);
}

TEST_P(OtlpAssembly, ChatSpanWhoseParentNeverComesIsWrittenAfterTheParentWait) {
  Add({Held("bob", ChatJson(kAgent), kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 0);
  EXPECT_EQ(RunAt(kT0 + 119 * kSecond), 0);
  EXPECT_TRUE(History("bob").empty());
  EXPECT_EQ(RunAt(kT0 + 121 * kSecond), 1);
  std::vector<std::string> items = History("bob");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_NE(items[0].find(std::string("\"span_id\":\"") + kChat + "\""), std::string::npos) << items[0];
  EXPECT_EQ(HeldSpans("bob"), 0u);
}

TEST_P(OtlpAssembly, ChatSpanUnderAnArrivedNonGenAiRootIsWrittenAfterTheQuietTime) {
  Add({Held("carol", ChatJson(kHttp), kT0), Link("carol", kHttp, "", kT0)});
  EXPECT_EQ(RunAt(kT0 + 9 * kSecond), 0);
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 1);
  std::vector<std::string> items = History("carol");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_NE(items[0].find(std::string("\"span_id\":\"") + kChat + "\""), std::string::npos) << items[0];
  EXPECT_EQ(HeldSpans("carol"), 0u);
}

TEST_P(OtlpAssembly, ChatSpanWithARemoteParentIsWrittenAfterTheQuietTime) {
  Add({Held("dave", ChatJson(kAgent, /*parent_remote=*/true), kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 1);
  EXPECT_EQ(History("dave").size(), 1u);
}

// A trace that waits for a parent is parked: not read again every round (it would hold the
// oldest places of each round's batch) until a span of it arrives, a retry included.
TEST_P(OtlpAssembly, ParkedTraceIsDueAgainWhenASpanArrivesOrAfterTheParentWait) {
  Add({Held("erin", ChatJson(kAgent), kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 0);
  PendingSpanStore::DueTimes times;
  times.quiet_before_us = kT0 + 1;
  times.parent_wait_before_us = kT0;
  times.expire_before_us = kT0 - 3600 * kSecond;
  Result<std::vector<PendingTrace>> due = Spans().Due(times, 10);
  ASSERT_TRUE(due.ok()) << due.status().message();
  EXPECT_TRUE(due->empty());
  times.parent_wait_before_us = kT0 + 1;
  due = Spans().Due(times, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(due->size(), 1u);
  // The exporter re-sends the chat span: un-parked, looked at again after the quiet time.
  Add({Held("erin", ChatJson(kAgent), kT0 + 20 * kSecond)});
  times.quiet_before_us = kT0 + 20 * kSecond + 1;
  times.parent_wait_before_us = kT0;
  due = Spans().Due(times, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].user_id, "erin");
}

// An exporter sending only spans without gen_ai.* attributes: their ids are dropped after the
// parent wait, never made into anything.
TEST_P(OtlpAssembly, IdsOnlyTraceIsDroppedAfterTheParentWait) {
  Add({Link("frank", kHttp, "", kT0), Link("frank", kChat, kHttp, kT0)});
  EXPECT_EQ(RunAt(kT0 + 11 * kSecond), 0);
  EXPECT_EQ(HeldSpans("frank"), 2u);
  EXPECT_EQ(RunAt(kT0 + 121 * kSecond), 0);
  EXPECT_EQ(HeldSpans("frank"), 0u);
  EXPECT_TRUE(History("frank").empty());
}

TEST_P(OtlpAssembly, ErasureTakesTheIdsOnlySpansToo) {
  Add({Held("gina", ChatJson(kHttp), kT0), Link("gina", kHttp, kAgent, kT0),
       Held("hank", ChatJson(kHttp), kT0), Link("hank", kHttp, kAgent, kT0)});
  Result<ErasureReport> erased = database_->lifecycle().EraseUser("gina");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(HeldSpans("gina"), 0u);
  EXPECT_EQ(HeldSpans("hank"), 2u);
}

TEST(OtlpAssemblerOptions, ParentWaitIsReadValidatedAndNeverBelowTheQuietTime) {
  struct Env {
    ~Env() {
      for (const char* name : {"OMNIFLOW_OTLP_QUIET_MS", "OMNIFLOW_OTLP_PARENT_WAIT_MS",
                               "OMNIFLOW_OTLP_EXPIRE_MS"}) {
        unsetenv(name);
      }
    }
  } restore;
  Result<AssemblerOptions> options = AssemblerOptions::FromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->parent_wait, std::chrono::minutes(2));
  setenv("OMNIFLOW_OTLP_PARENT_WAIT_MS", "30000", 1);
  options = AssemblerOptions::FromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->parent_wait, std::chrono::seconds(30));
  // Only the quiet time set, above the default wait: the wait follows it.
  unsetenv("OMNIFLOW_OTLP_PARENT_WAIT_MS");
  setenv("OMNIFLOW_OTLP_QUIET_MS", "600000", 1);
  options = AssemblerOptions::FromEnvironment();
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->parent_wait, std::chrono::minutes(10));
  // Set below the quiet time, or not a number: refused, naming the variable.
  for (const char* bad : {"1000", "2m", "0"}) {
    setenv("OMNIFLOW_OTLP_PARENT_WAIT_MS", bad, 1);
    options = AssemblerOptions::FromEnvironment();
    ASSERT_FALSE(options.ok()) << bad;
    EXPECT_NE(options.status().message().find("OMNIFLOW_OTLP_PARENT_WAIT_MS"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Sqlite, OtlpAssembly, ::testing::Values(std::string("sqlite")), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, OtlpAssembly, ::testing::Values(std::string("postgres")),
                         EngineName);

}  // namespace
}  // namespace omniflow::otlp
