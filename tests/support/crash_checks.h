// Checks shared by the kill -9 tests: SQLite's integrity check on a killed server's file, and
// (PostgreSQL) ending a killed server's id-slot lease as its expiry would.
#pragma once

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "store/postgres/pg_conn.h"
#include "support/server_process.h"

namespace omniflow::testing {

// "ok", or what PRAGMA integrity_check (or opening the file) said.
inline std::string IntegrityCheck(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  sqlite3_stmt* stmt = nullptr;
  std::string result = "no result";
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

// PostgreSQL: a killed server's id-slot lease runs for a minute; end it now, as its expiry would
// (the restarted server takes a slot of its own either way), so that the next cycles can start.
inline void ExpireIdSlots(const std::string& data_dir) {
  Result<pg::Conn> conn = pg::Conn::Connect(TestStoreUrl(data_dir));
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  ASSERT_TRUE(conn->Exec("UPDATE id_slots SET expires_at = now() - interval '1 second'").ok());
}

// PostgreSQL: waits (up to 60 s) until no session but this one is connected to `data_dir`'s
// database: a killed server's backends end once they have run what they were sent (a
// pipelined transaction up to its COMMIT, or its rollback).
inline void WaitForOtherSessionsToEnd(const std::string& data_dir) {
  Result<pg::Conn> conn = pg::Conn::Connect(TestStoreUrl(data_dir));
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  for (int i = 0; i < 6000; ++i) {
    Result<pg::Res> others = conn->Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()");
    ASSERT_TRUE(others.ok()) << others.status().message();
    if (others->Int(0, 0) == 0) return;
    usleep(10000);
  }
  FAIL() << "the killed server's sessions did not end within 60 s";
}

}  // namespace omniflow::testing
