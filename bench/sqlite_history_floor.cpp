// The floor for the history benchmark: the same page queries run directly on the SQLite file
// with the sqlite3 C API (no HTTP, no JSON assembly), each repeated until `seconds` pass.
// Prints one line per query: name p50_us p99_us runs.
// Usage: bench_sqlite_history DB USER RARE_THREAD CURSOR_TS CURSOR_ID [SECONDS]
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Query {
  const char* name;
  const char* sql;  // ?1 user, ?2 thread, ?3 ts, ?4 id, ?5 offset
  bool by_thread;
};

// The count and the page, as omniflow asks them (kept counts, covering-index offset pages).
const Query kQueries[] = {
    {"newest", R"sql(SELECT i.body FROM interactions i JOIN (SELECT seq FROM interactions
        WHERE user_id = ?1 ORDER BY ts_us DESC, interaction_id DESC LIMIT 50 OFFSET 0) p
        ON i.seq = p.seq ORDER BY i.ts_us DESC, i.interaction_id DESC)sql", false},
    {"thread", R"sql(SELECT i.body FROM interactions i JOIN (SELECT seq FROM interactions
        WHERE user_id = ?1 AND thread_id = ?2 ORDER BY ts_us DESC, interaction_id DESC
        LIMIT 50 OFFSET 0) p ON i.seq = p.seq ORDER BY i.ts_us DESC, i.interaction_id DESC)sql", true},
    {"offset", R"sql(SELECT i.body FROM interactions i JOIN (SELECT seq FROM interactions
        WHERE user_id = ?1 ORDER BY ts_us DESC, interaction_id DESC LIMIT 50 OFFSET ?5) p
        ON i.seq = p.seq ORDER BY i.ts_us DESC, i.interaction_id DESC)sql", false},
    {"cursor", R"sql(SELECT body FROM interactions WHERE user_id = ?1
        AND (ts_us, interaction_id) < (?3, ?4) ORDER BY ts_us DESC, interaction_id DESC
        LIMIT 51)sql", false},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s DB USER RARE_THREAD CURSOR_TS CURSOR_ID [SECONDS]\n", argv[0]);
    return 2;
  }
  const std::string user = argv[2], thread = argv[3], cursor_id = argv[5];
  const long long cursor_ts = std::atoll(argv[4]);
  const double seconds = argc > 6 ? std::atof(argv[6]) : 2.0;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  sqlite3_stmt* count = nullptr;
  sqlite3_prepare_v2(db, "SELECT n FROM interaction_counts WHERE user_id = ?1 AND thread_id = ?2",
                     -1, &count, nullptr);
  for (const Query& q : kQueries) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, q.sql, -1, &stmt, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "%s: %s\n", q.name, sqlite3_errmsg(db));
      return 1;
    }
    std::vector<double> us;
    size_t bytes = 0;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end || us.size() < 5) {
      auto start = Clock::now();
      sqlite3_bind_text(count, 1, user.data(), static_cast<int>(user.size()), SQLITE_STATIC);
      if (q.by_thread) {
        sqlite3_bind_text(count, 2, thread.data(), static_cast<int>(thread.size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_text(count, 2, "", 0, SQLITE_STATIC);
      }
      long long total = sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int64(count, 0) : 0;
      sqlite3_reset(count);
      sqlite3_bind_text(stmt, 1, user.data(), static_cast<int>(user.size()), SQLITE_STATIC);
      sqlite3_bind_text(stmt, 2, thread.data(), static_cast<int>(thread.size()), SQLITE_STATIC);
      sqlite3_bind_int64(stmt, 3, cursor_ts);
      sqlite3_bind_text(stmt, 4, cursor_id.data(), static_cast<int>(cursor_id.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(stmt, 5, total / 2);
      int rows = 0;
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        bytes += static_cast<size_t>(sqlite3_column_bytes(stmt, 0));
        ++rows;
      }
      sqlite3_reset(stmt);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (rows == 0) {
        std::fprintf(stderr, "%s: no rows\n", q.name);
        return 1;
      }
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))]; };
    std::printf("%s %.1f %.1f %zu\n", q.name, pct(0.50), pct(0.99), us.size());
    sqlite3_finalize(stmt);
  }
  sqlite3_finalize(count);
  sqlite3_close(db);
  return 0;
}
