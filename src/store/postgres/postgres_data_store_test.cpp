// PostgresDataStore against a real PostgreSQL (ctest's pg.* pass): the DataStore contract, the
// same as the SQLite data store's, and isolation between users.
#include "store/postgres/postgres_data_store.h"

#include <gtest/gtest.h>

#include "store/postgres/pg_test_db.h"
#include "store/postgres/postgres_store.h"

namespace omniflow {
namespace {

class PostgresDataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    StoreOptions options;
    options.url = db_.url();
    auto opened = PostgresDataStore::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(*opened);
    auto second = PostgresDataStore::Open(options);  // another server on the same database
    ASSERT_TRUE(second.ok()) << second.status().message();
    other_server_ = std::move(*second);
  }

  pg::TestDatabase db_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  std::unique_ptr<PostgresDataStore> store_, other_server_;
};

TEST_F(PostgresDataStoreTest, AddGetReplaceDeleteListKeepOrderAndCounts) {
  auto a = store_->Add("u", "tasks.json", R"({"title":"a"})");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->entry_count, 1);
  EXPECT_EQ(a->entry_id.size(), 13u);
  // Entries added through another server keep their place in the order.
  auto b = other_server_->Add("u", "tasks.json", R"({"title":"b \"q\""})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->entry_count, 2);
  auto c = store_->Add("u", "notes.json", "{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->entry_count, 1);

  auto entries = other_server_->Get("u", "tasks.json");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0], "{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"a\"}");
  EXPECT_EQ((*entries)[1], "{\"entry_id\":\"" + b->entry_id + "\",\"title\":\"b \\\"q\\\"\"}");
  EXPECT_EQ(*store_->Get("u", "notes.json"), std::vector<std::string>{"{\"entry_id\":\"" + c->entry_id + "\"}"});
  EXPECT_TRUE(store_->Get("u", "missing.json")->empty());

  std::string merged = "{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"A\",\"done\":true}";
  ASSERT_TRUE(store_->Replace("u", "tasks.json", a->entry_id, merged).ok());
  EXPECT_EQ(*other_server_->GetEntry("u", "tasks.json", a->entry_id), merged);
  EXPECT_EQ(store_->Replace("u", "tasks.json", "Enope", merged).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->GetEntry("u", "tasks.json", "Enope").status().code(), Status::Code::kNotFound);

  auto left = store_->Delete("u", "tasks.json", a->entry_id);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 1);
  EXPECT_EQ(store_->Delete("u", "tasks.json", a->entry_id).status().code(), Status::Code::kNotFound);

  auto blobs = store_->List("u");
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(*blobs, (std::vector<std::pair<std::string, int64_t>>{{"notes.json", 1}, {"tasks.json", 1}}));
}

TEST_F(PostgresDataStoreTest, NoCallReachesAnotherUsersDocuments) {
  auto mine = store_->Add("alice", "tasks.json", R"({"title":"private"})");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(store_->Get("bob", "tasks.json")->empty());
  EXPECT_TRUE(store_->List("bob")->empty());
  EXPECT_EQ(store_->GetEntry("bob", "tasks.json", mine->entry_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Replace("bob", "tasks.json", mine->entry_id, "{}").code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Delete("bob", "tasks.json", mine->entry_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("alice", "tasks.json")->size(), 1u);
  // Bob adding to a blob of the same name gets his own, counted apart.
  EXPECT_EQ(store_->Add("bob", "tasks.json", "{}")->entry_count, 1);
}

}  // namespace
}  // namespace omniflow
