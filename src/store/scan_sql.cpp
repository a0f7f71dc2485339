#include "store/scan_sql.h"

namespace omniflow {

namespace {

class Builder {
 public:
  Builder(SqlDialect dialect, ScanStatement* out) : dialect_(dialect), out_(out) {}
  std::string Param(int64_t v) {
    out_->params.emplace_back(v);
    return Name() + (dialect_ == SqlDialect::kPostgres ? "::bigint" : "");
  }
  std::string Param(std::string v) {
    out_->params.emplace_back(std::move(v));
    return Name() + (dialect_ == SqlDialect::kPostgres ? "::text" : "");
  }

 private:
  std::string Name() const {
    return (dialect_ == SqlDialect::kPostgres ? "$" : "?") + std::to_string(out_->params.size());
  }
  SqlDialect dialect_;
  ScanStatement* out_;
};

}  // namespace

ScanStatement BuildScanStatement(const ScanQuery& query, SqlDialect dialect) {
  ScanStatement st;
  Builder b(dialect, &st);
  std::string& sql = st.sql;
  sql =
      // The feedback as a scalar subquery, one primary-key probe per row of the page: as a
      // join, PostgreSQL under row-level security misjudged it into a scan of all feedback
      // per interaction (6 s a page at 20k rows).
      "SELECT i.body, i.ts_us, i.interaction_id, i.user_id, i.thread_id, "
      "(SELECT f.score FROM feedback f "
      "WHERE f.user_id = i.user_id AND f.interaction_id = i.interaction_id) "
      "FROM interactions i WHERE ";
  std::string where;
  auto add = [&where](const std::string& condition) {
    where += where.empty() ? condition : " AND " + condition;
  };
  if (query.user_id) add("i.user_id = " + b.Param(*query.user_id));
  if (query.thread_id) add("i.thread_id = " + b.Param(*query.thread_id));
  if (query.without_thread) add("i.thread_id IS NULL");
  if (query.order == ScanOrder::kThread) add("i.thread_id IS NOT NULL");
  if (query.from_us) add("i.ts_us >= " + b.Param(*query.from_us));
  if (query.to_us) add("i.ts_us < " + b.Param(*query.to_us));
  if (query.after) {
    const ScanCursor& c = *query.after;
    if (query.order == ScanOrder::kTime) {
      // The first condition lets the time index drive the range; the row value breaks ties.
      add("i.ts_us >= " + b.Param(c.ts_us));
      add("(i.ts_us, i.interaction_id, i.user_id) > (" + b.Param(c.ts_us) + ", " +
          b.Param(c.interaction_id) + ", " + b.Param(c.user_id) + ")");
    } else if (query.user_id) {
      // With the user fixed, the row value over the rest lets the thread index seek straight
      // to the position (SQLite would otherwise rescan the current thread from its start).
      add("(i.thread_id, i.ts_us, i.interaction_id) > (" + b.Param(c.thread_id) + ", " +
          b.Param(c.ts_us) + ", " + b.Param(c.interaction_id) + ")");
    } else {
      add("(i.user_id, i.thread_id, i.ts_us, i.interaction_id) > (" + b.Param(c.user_id) + ", " +
          b.Param(c.thread_id) + ", " + b.Param(c.ts_us) + ", " + b.Param(c.interaction_id) + ")");
    }
  }
  sql += where.empty() ? "TRUE" : where;
  sql += query.order == ScanOrder::kTime
             ? " ORDER BY i.ts_us, i.interaction_id, i.user_id"
             : " ORDER BY i.user_id, i.thread_id, i.ts_us, i.interaction_id";
  sql += " LIMIT " + b.Param(static_cast<int64_t>(query.limit) + 1);
  return st;
}

ScanCursor CursorAfter(const ScannedInteraction& row, ScanOrder order) {
  ScanCursor c;
  c.ts_us = row.ts_us;
  c.interaction_id = row.interaction_id;
  c.user_id = row.user_id;
  if (order == ScanOrder::kThread) c.thread_id = row.thread_id.value_or("");
  return c;
}

}  // namespace omniflow
