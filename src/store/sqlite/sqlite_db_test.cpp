// The SQLite wrapper's error classification: each engine condition becomes the Status code a
// caller acts on (sqlite_db.h), never a text to search.
#include "store/sqlite/sqlite_db.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

namespace omniflow::sqlite {
namespace {

class SqliteDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-db-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/test.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A read-write connection in WAL mode; `busy_ms` is how long it waits for a lock.
  Db Connect(int busy_ms = 5000) {
    Result<Db> db = Db::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_ms);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return std::move(*db);
  }

  std::string dir_, path_;
};

TEST_F(SqliteDbTest, UniqueAndPrimaryKeyViolationsAreAlreadyExists) {
  Db db = Connect();
  ASSERT_TRUE(db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT UNIQUE, n INTEGER NOT NULL "
                      "CHECK (n >= 0))")
                  .ok());
  ASSERT_TRUE(db.Exec("INSERT INTO t VALUES (1, 'a', 0)").ok());
  Status key = db.Exec("INSERT INTO t VALUES (1, 'b', 0)");
  EXPECT_EQ(key.code(), Status::Code::kAlreadyExists) << key.message();
  Result<Stmt> insert = db.Prepare("INSERT INTO t VALUES (?1, ?2, 0)");
  ASSERT_TRUE(insert.ok());
  insert->Bind(1, int64_t{2});
  insert->Bind(2, std::string_view("a"));
  Status unique = insert->Run();
  EXPECT_EQ(unique.code(), Status::Code::kAlreadyExists) << unique.message();
}

TEST_F(SqliteDbTest, OtherConstraintViolationsAreFailedPrecondition) {
  Db db = Connect();
  ASSERT_TRUE(
      db.Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL CHECK (n >= 0))").ok());
  EXPECT_EQ(db.Exec("INSERT INTO t VALUES (1, -1)").code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(db.Exec("INSERT INTO t VALUES (1, NULL)").code(), Status::Code::kFailedPrecondition);
}

TEST_F(SqliteDbTest, ALockHeldLongerThanTheBusyWaitIsUnavailable) {
  Db holder = Connect();
  ASSERT_TRUE(holder.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x)").ok());
  ASSERT_TRUE(holder.Exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)").ok());
  Db other = Connect(/*busy_ms=*/0);
  Status busy = other.Exec("INSERT INTO t VALUES (2)");
  EXPECT_EQ(busy.code(), Status::Code::kUnavailable) << busy.message();
  ASSERT_TRUE(holder.Exec("COMMIT").ok());
  EXPECT_TRUE(other.Exec("INSERT INTO t VALUES (2)").ok());
}

TEST_F(SqliteDbTest, AWriteFromAStaleSnapshotIsAborted) {
  Db reader = Connect();
  ASSERT_TRUE(
      reader.Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1)").ok());
  // The reader's transaction holds a snapshot from before the writer's commit...
  ASSERT_TRUE(reader.Exec("BEGIN; SELECT count(*) FROM t").ok());
  Db writer = Connect();
  ASSERT_TRUE(writer.Exec("INSERT INTO t VALUES (2)").ok());
  // ...so it may not write on top of it: the whole transaction has to start again.
  Status stale = reader.Exec("INSERT INTO t VALUES (3)");
  EXPECT_EQ(stale.code(), Status::Code::kAborted) << stale.message();
  ASSERT_TRUE(reader.Exec("ROLLBACK").ok());
  EXPECT_TRUE(reader.Exec("INSERT INTO t VALUES (3)").ok());
}

TEST_F(SqliteDbTest, AFullTextExpressionFts5CannotParseIsInvalidArgument) {
  Db db = Connect();
  ASSERT_TRUE(
      db.Exec("CREATE VIRTUAL TABLE f USING fts5(body); INSERT INTO f VALUES ('hello')").ok());
  Result<Stmt> match = db.Prepare("SELECT rowid FROM f WHERE f MATCH ?1");
  ASSERT_TRUE(match.ok()) << match.status().message();
  match->Bind(1, std::string_view("hello AND"));  // "fts5: syntax error near \"\""
  Status syntax = match->Run();
  EXPECT_EQ(syntax.code(), Status::Code::kInvalidArgument) << syntax.message();
  // Other SQL errors stay Internal: they are this program's, not the caller's.
  EXPECT_EQ(db.Exec("SELECT * FROM no_such_table").code(), Status::Code::kInternal);
}

}  // namespace
}  // namespace omniflow::sqlite
