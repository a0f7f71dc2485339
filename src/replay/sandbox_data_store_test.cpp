#include "replay/sandbox_data_store.h"

#include <gtest/gtest.h>

namespace omniflow::replay {
namespace {

Snapshot Tasks() {
  Snapshot s;
  s["tasks.json"] = {{"E000001", R"({"entry_id":"E000001","title":"milk"})"}};
  return s;
}

TEST(SandboxDataStore, WritesStayInTheSandboxAndItsSnapshot) {
  const Snapshot snapshot = Tasks();
  SandboxDataStore sandbox("ada", snapshot);
  Result<DataStore::Added> added = sandbox.Add("ada", "tasks.json", R"({"title":"bread"})");
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->entry_count, 2);
  ASSERT_TRUE(
      sandbox
          .Replace("ada", "tasks.json", "E000001", R"({"entry_id":"E000001","title":"oat milk"})")
          .ok());
  EXPECT_EQ(*sandbox.GetEntry("ada", "tasks.json", "E000001"),
            R"({"entry_id":"E000001","title":"oat milk"})");
  EXPECT_EQ(*sandbox.Delete("ada", "tasks.json", added->entry_id), 1);
  EXPECT_EQ(sandbox.Delete("ada", "tasks.json", "Enope").status().code(), Status::Code::kNotFound);
  // The snapshot a next item starts from is untouched.
  EXPECT_EQ(snapshot.at("tasks.json")[0].second, R"({"entry_id":"E000001","title":"milk"})");
  SandboxDataStore next("ada", snapshot);
  EXPECT_EQ(next.Get("ada", "tasks.json")->size(), 1u);
}

TEST(SandboxDataStore, AnotherUserSeesNothingAndCannotWrite) {
  SandboxDataStore sandbox("ada", Tasks());
  EXPECT_TRUE(sandbox.Get("bob", "tasks.json")->empty());
  EXPECT_TRUE(sandbox.List("bob")->empty());
  EXPECT_EQ(sandbox.GetEntry("bob", "tasks.json", "E000001").status().code(),
            Status::Code::kNotFound);
  EXPECT_FALSE(sandbox.Add("bob", "tasks.json", "{}").ok());
  EXPECT_EQ(sandbox.List("ada")->size(), 1u);
}

TEST(SandboxDataStore, ASnapshotReadsBackByteForByteFromItsStoredText) {
  Snapshot s = Tasks();
  // Text with escapes, a second document, and an empty one.
  s["notes.json"] = {{"E2", "{\"entry_id\":\"E2\",\"text\":\"a \\\"quote\\\" \\u00e9\\n\"}"},
                     {"E3", R"({"entry_id":"E3"})"}};
  s["empty.json"] = {};
  Result<Snapshot> back = ParseSnapshot(SnapshotJson(s));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(ParseSnapshot("[]").status().code(), Status::Code::kInternal);
  EXPECT_EQ(ParseSnapshot(R"({"a":[1]})").status().code(), Status::Code::kInternal);
  EXPECT_EQ(ParseSnapshot(R"({"a":["{}"]})").status().code(), Status::Code::kInternal);
}

}  // namespace
}  // namespace omniflow::replay
