// PostgresDataStore against a real PostgreSQL (ctest's pg.* pass): what is PostgreSQL's own
// (several servers on one database); the DataStore contract is in store_contract_test.cpp.
#include "store/postgres/postgres_data_store.h"

#include <gtest/gtest.h>

#include "store/postgres/pg_test_db.h"
#include "store/database.h"

namespace omniflow {
namespace {

class PostgresDataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    StoreOptions options;
    options.url = db_.url();
    auto opened = Database::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    server_ = std::move(*opened);
    store_ = &server_->data();
    auto second = Database::Open(options);  // another server on the same database
    ASSERT_TRUE(second.ok()) << second.status().message();
    other_server_db_ = std::move(*second);
    other_server_ = &other_server_db_->data();
  }

  pg::TestDatabase db_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  std::unique_ptr<Database> server_, other_server_db_;
  DataStore* store_ = nullptr;         // server_'s
  DataStore* other_server_ = nullptr;  // other_server_db_'s
};

// Several servers on one database share each blob's order and counts. The DataStore contract
// itself (order, counts, NotFound, isolation between users) is in store_contract_test.cpp.
TEST_F(PostgresDataStoreTest, EntriesAddedThroughAnotherServerKeepTheirPlace) {
  auto a = store_->Add("u", "tasks.json", R"({"title":"a"})");
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = other_server_->Add("u", "tasks.json", R"({"title":"b"})");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->entry_count, 2);
  auto c = store_->Add("u", "tasks.json", R"({"title":"c"})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->entry_count, 3);
  auto entries = other_server_->Get("u", "tasks.json");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(*entries, (std::vector<std::string>{"{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"a\"}",
                                                "{\"entry_id\":\"" + b->entry_id + "\",\"title\":\"b\"}",
                                                "{\"entry_id\":\"" + c->entry_id + "\",\"title\":\"c\"}"}));
  std::string merged = "{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"A\"}";
  ASSERT_TRUE(store_->Replace("u", "tasks.json", a->entry_id, merged).ok());
  EXPECT_EQ(*other_server_->GetEntry("u", "tasks.json", a->entry_id), merged);
  EXPECT_EQ(*other_server_->Delete("u", "tasks.json", b->entry_id), 2);
  EXPECT_EQ(*store_->List("u"), (std::vector<std::pair<std::string, int64_t>>{{"tasks.json", 2}}));
}

}  // namespace
}  // namespace omniflow
