#include "store/postgres/pg_conn.h"

#include <gtest/gtest.h>

#include "store/postgres/pg_test_db.h"

namespace omniflow::pg {
namespace {

TEST(PgArrayLiteral, QuotesEscapesAndNulls) {
  ArrayLiteral a;
  a.Add("plain");
  a.Add(R"({"q":"a \"b\" \\ c"})");
  a.AddNull();
  a.Add(std::string_view(""));
  a.Add(int64_t{-42});
  EXPECT_EQ(std::move(a).Take(), R"({"plain","{\"q\":\"a \\\"b\\\" \\\\ c\"}",NULL,"",-42})");
}

TEST(PgArrayLiteral, EmptyArray) { EXPECT_EQ(ArrayLiteral().Take(), "{}"); }

TEST(PgUrl, RedactsPasswordsAndRecognisesSchemes) {
  EXPECT_EQ(RedactUrl("postgresql://app:s3cret@db:5432/omniflow"), "postgresql://app@db:5432/omniflow");
  EXPECT_EQ(RedactUrl("postgres://app@db/omniflow"), "postgres://app@db/omniflow");
  EXPECT_EQ(RedactUrl("postgresql://db/omniflow?password=s3cret&sslmode=require"),
            "postgresql://db/omniflow?password=***");
  EXPECT_TRUE(IsPostgresUrl("postgresql://x"));
  EXPECT_TRUE(IsPostgresUrl("postgres://x"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:/data"));
  EXPECT_FALSE(IsPostgresUrl("mysql://x"));
}

TEST(PgErrorStatus, SqlStatesMapToCodes) {
  auto code = [](std::string_view state, bool lost = false) {
    return StatusForSqlState(state, lost, "m").code();
  };
  EXPECT_EQ(code("40001"), Status::Code::kAborted);  // serialization_failure
  EXPECT_EQ(code("40P01"), Status::Code::kAborted);  // deadlock_detected
  EXPECT_EQ(code("40001", /*lost=*/true), Status::Code::kAborted);
  EXPECT_EQ(code("23505"), Status::Code::kAlreadyExists);
  EXPECT_EQ(code("23502"), Status::Code::kFailedPrecondition);  // not_null_violation
  EXPECT_EQ(code("53100"), Status::Code::kResourceExhausted);   // disk_full
  EXPECT_EQ(code("53300"), Status::Code::kResourceExhausted);   // too_many_connections
  EXPECT_EQ(code("57014"), Status::Code::kDeadlineExceeded);    // query_canceled
  EXPECT_EQ(code("57P01"), Status::Code::kUnavailable);         // admin_shutdown
  EXPECT_EQ(code("08006"), Status::Code::kUnavailable);         // connection_failure
  EXPECT_EQ(code("58030"), Status::Code::kUnavailable);         // io_error
  EXPECT_EQ(code("25006"), Status::Code::kUnavailable);         // read_only_sql_transaction
  EXPECT_EQ(code(""), Status::Code::kUnavailable);
  EXPECT_EQ(code("23505", /*lost=*/true), Status::Code::kUnavailable);
  EXPECT_EQ(code("42P01"), Status::Code::kInternal);  // undefined_table: our bug
  EXPECT_EQ(code("22012"), Status::Code::kInternal);  // division_by_zero
}

// The same, from a real server's errors (ctest's pg.* pass).
class PostgresErrorStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    Result<Conn> conn = Conn::Connect(db_.url());
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_.Exec("CREATE TABLE t(id int PRIMARY KEY, n int NOT NULL); "
                           "INSERT INTO t VALUES (1, 0)")
                    .ok());
  }

  TestDatabase db_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  Conn conn_;
};

TEST_F(PostgresErrorStatusTest, ConstraintViolations) {
  Result<Res> again = conn_.Exec("INSERT INTO t VALUES (1, 0)");
  EXPECT_EQ(again.status().code(), Status::Code::kAlreadyExists) << again.status().message();
  Result<Res> null = conn_.Exec("INSERT INTO t VALUES ($1, NULL)", {"2"});
  EXPECT_EQ(null.status().code(), Status::Code::kFailedPrecondition) << null.status().message();
  // In a pipelined transaction too; and the connection stays usable.
  Query insert{"INSERT INTO t VALUES (1, 0)", {}};
  auto tx = conn_.Transaction(std::span<const Query>(&insert, 1));
  EXPECT_EQ(tx.status().code(), Status::Code::kAlreadyExists) << tx.status().message();
  EXPECT_TRUE(conn_.Exec("SELECT 1").ok());
}

TEST_F(PostgresErrorStatusTest, ASerializationFailureIsAborted) {
  Result<Conn> other = Conn::Connect(db_.url());
  ASSERT_TRUE(other.ok()) << other.status().message();
  ASSERT_TRUE(conn_.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT n FROM t").ok());
  ASSERT_TRUE(other->Exec("UPDATE t SET n = n + 1 WHERE id = 1").ok());
  Result<Res> stale = conn_.Exec("UPDATE t SET n = n + 1 WHERE id = 1");
  EXPECT_EQ(stale.status().code(), Status::Code::kAborted) << stale.status().message();
  EXPECT_TRUE(conn_.Exec("ROLLBACK").ok());
}

TEST_F(PostgresErrorStatusTest, AStatementTimeoutIsDeadlineExceeded) {
  Result<Res> slow = conn_.Exec("SET statement_timeout = '20ms'; SELECT pg_sleep(5)");
  EXPECT_EQ(slow.status().code(), Status::Code::kDeadlineExceeded) << slow.status().message();
}

TEST_F(PostgresErrorStatusTest, ATerminatedConnectionIsUnavailable) {
  Result<Conn> other = Conn::Connect(db_.url());
  ASSERT_TRUE(other.ok()) << other.status().message();
  Result<Res> pid = conn_.Exec("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  Result<Res> killed =
      other->Exec("SELECT pg_terminate_backend($1)", {std::string(pid->Text(0, 0))});
  ASSERT_TRUE(killed.ok()) << killed.status().message();
  Result<Res> lost = conn_.Exec("SELECT 1");
  EXPECT_EQ(lost.status().code(), Status::Code::kUnavailable) << lost.status().message();
  EXPECT_TRUE(conn_.Exec("SELECT 1").ok());  // reconnected
}

TEST_F(PostgresErrorStatusTest, OtherErrorsAreInternal) {
  EXPECT_EQ(conn_.Exec("SELECT * FROM no_such_table").status().code(), Status::Code::kInternal);
}

}  // namespace
}  // namespace omniflow::pg
