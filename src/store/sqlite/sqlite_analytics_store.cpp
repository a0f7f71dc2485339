#include "store/sqlite/sqlite_analytics_store.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>

#include "core/ids.h"
#include "store/analytics_stats.h"
#include "store/analytics_text.h"
#include "store/paging.h"
#include "store/sqlite/compact_body.h"
#include "store/usage_sums.h"

namespace omniflow {

namespace {

// Newest rows a search examines by time before it turns to the full-text index.
constexpr int64_t kRecentScan = 4000;

using Value = std::variant<int64_t, std::string, double>;

// A statement prepared from SQL built at run time, with its parameters in order (?1, ?2, ...).
struct Query {
  std::string sql;
  std::vector<Value> params;
  // Appends a parameter and returns its placeholder.
  std::string Param(Value v) {
    params.push_back(std::move(v));
    return "?" + std::to_string(params.size());
  }
};

Result<sqlite::Stmt> Prepare(sqlite::Db& db, const Query& q) {
  Result<sqlite::Stmt> stmt = db.Prepare(q.sql);
  if (!stmt.ok()) return stmt.status();
  for (size_t i = 0; i < q.params.size(); ++i) {
    const int index = static_cast<int>(i + 1);
    if (auto* n = std::get_if<int64_t>(&q.params[i])) {
      stmt->Bind(index, *n);
    } else if (auto* s = std::get_if<std::string>(&q.params[i])) {
      stmt->Bind(index, std::string_view(*s));
    } else {
      sqlite3_bind_double(stmt->get(), index, std::get<double>(q.params[i]));
    }
  }
  return stmt;
}

// Runs `q`, calling `row(stmt)` for each row.
template <typename F>
Status ForEach(sqlite::Db& db, const Query& q, F&& row) {
  Result<sqlite::Stmt> stmt = Prepare(db, q);
  if (!stmt.ok()) return stmt.status();
  while (true) {
    Result<bool> more = stmt->Step();
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    row(*stmt);
  }
}

Result<int64_t> Scalar(sqlite::Db& db, const Query& q) {
  int64_t value = 0;
  Status s = ForEach(db, q, [&](sqlite::Stmt& st) { value = st.Int(0); });
  if (!s.ok()) return s;
  return value;
}

double Double(sqlite::Stmt& st, int column) { return sqlite3_column_double(st.get(), column); }

// The columns every interaction listing selects, in this order, after "SELECT ".
constexpr char kViewColumns[] =
    "i.body, i.ts_us, i.interaction_id, f.score, f.comment, f.updated_us, i.user_id, i.thread_id, "
    "i.usage_model, i.input_tokens, i.cached_input_tokens, i.output_tokens, i.reasoning_tokens, "
    "i.cost_nanos";
constexpr char kFeedbackJoin[] =
    " LEFT JOIN feedback f ON f.user_id = i.user_id AND f.interaction_id = i.interaction_id";

InteractionView ViewOf(sqlite::Stmt& st) {
  InteractionView v;
  v.position.ts_us = st.Int(1);
  v.position.interaction_id = std::string(st.Text(2));
  // The stored body leaves out what the columns hold (see compact_body.h).
  std::optional<std::string_view> thread;
  if (!st.IsNull(7)) thread = st.Text(7);
  v.json = ExpandBody(st.Text(0), v.position.interaction_id, v.position.ts_us, st.Text(6), thread);
  if (!st.IsNull(3)) {
    Feedback f;
    f.score = Double(st, 3);
    f.comment = std::string(st.Text(4));
    f.updated_us = st.Int(5);
    v.feedback = std::move(f);
  }
  if (!st.IsNull(9)) {
    StoredUsage& u = v.usage.emplace();
    if (!st.IsNull(8)) u.model = std::string(st.Text(8));
    u.tokens = TokenUsage{st.Int(9), st.Int(10), st.Int(11), st.Int(12)};
    if (!st.IsNull(13)) u.cost_nanos = st.Int(13);
  }
  return v;
}

// "x BETWEEN" conditions on `column` for the scope's time range, appended to `where`.
void TimeRange(const AnalyticsScope& scope, const std::string& column, Query* q,
               std::string* where, int64_t round_to = 1) {
  if (scope.from_us) {
    *where += " AND " + column + " >= " + q->Param(FloorTo(*scope.from_us, round_to));
  }
  if (scope.to_us) *where += " AND " + column + " < " + q->Param(*scope.to_us);
}

// How many threads were active in the scope's range (their first interaction before `to`, their
// last at or after `from` rounded down to the hour). For every user, from the threads kept by
// the hour of their last and first interaction (migration 17): those whose last is at or after
// `from`, less those whose first is at or after `to`, which is exact when `to` is a whole hour
// not before `from`. One user's threads of all time are kept too; any other range is counted
// from the threads themselves.
Result<int64_t> CountThreadsActive(sqlite::Db& db, const AnalyticsScope& scope) {
  const bool has_from = scope.from_us.has_value();
  const int64_t from = has_from ? FloorTo(*scope.from_us, kHourUs) : 0;
  const bool by_hours = !scope.user_id && (!scope.to_us || (*scope.to_us % kHourUs == 0 &&
                                                            *scope.to_us >= from));
  Query q;
  if (by_hours) {
    q.sql = "SELECT (SELECT coalesce(sum(threads), 0) FROM stats_thread_hours WHERE edge = 0";
    if (has_from) q.sql += " AND hour_us >= " + q.Param(from);
    q.sql += ")";
    if (scope.to_us) {
      q.sql += " - (SELECT coalesce(sum(threads), 0) FROM stats_thread_hours WHERE edge = 1 "
               "AND hour_us >= " + q.Param(*scope.to_us) + ")";
    }
    return Scalar(db, q);
  }
  if (scope.user_id && !has_from && !scope.to_us) {
    q.sql = "SELECT coalesce((SELECT threads FROM stats_user_threads WHERE user_id = " +
            q.Param(*scope.user_id) + "), 0)";
    return Scalar(db, q);
  }
  q.sql = "SELECT count(*) FROM threads WHERE 1";
  if (scope.user_id) q.sql += " AND user_id = " + q.Param(*scope.user_id);
  if (has_from) q.sql += " AND last_us >= " + q.Param(from);
  if (scope.to_us) q.sql += " AND first_us < " + q.Param(*scope.to_us);
  return Scalar(db, q);
}

// Adds up the rows of `q` by their first column into `sums`, with `add(sum, row)`. Sums over a
// range of hours or days by user or by tool are added up here rather than by SQL's GROUP BY,
// which sorts the rows by that key first: for a month of 1,000 users (30,000 user-days) the
// sort was most of the query's 29 ms.
template <class Sum, class Add>
Status SumByKey(sqlite::Db& db, const Query& q, Add add,
                 std::unordered_map<std::string, Sum>* sums) {
  std::string last_key;
  Sum* last = nullptr;
  return ForEach(db, q, [&](sqlite::Stmt& st) {
    const std::string_view key = st.Text(0);
    if (last == nullptr || key != last_key) {
      last_key.assign(key);
      last = &(*sums)[last_key];
    }
    add(*last, st);
  });
}

// Keeps the first `top` of `items` in the order `before`, sorted.
template <class T, class Before>
void KeepTop(std::vector<T>* items, int64_t top, Before before) {
  const size_t n = std::min(items->size(), static_cast<size_t>(std::max<int64_t>(top, 0)));
  std::partial_sort(items->begin(), items->begin() + static_cast<std::ptrdiff_t>(n), items->end(),
                    before);
  items->resize(n);
}

// True when canonical JSON holds `text` byte for byte (no quote, backslash or control
// character, which it escapes).
bool StoredVerbatim(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}

// The FTS5 query for `term` (at least 3 code points): each of its trigrams as a quoted
// one-token string, ANDed. The index holds no positions (detail=none), so this finds rows that
// contain every trigram; the caller checks the substring itself.
std::string TrigramQuery(std::string_view term) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < term.size(); ++i) {
    if ((static_cast<unsigned char>(term[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  starts.push_back(term.size());
  std::string out;
  for (size_t i = 0; i + 3 < starts.size(); ++i) {
    if (!out.empty()) out.push_back(' ');
    out.push_back('"');
    for (char c : term.substr(starts[i], starts[i + 3] - starts[i])) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out;
}

}  // namespace

class SqliteAnalyticsStore::Lease {
 public:
  Lease(SqliteAnalyticsStore* store, std::unique_ptr<sqlite::Db> db)
      : store_(store), db_(std::move(db)) {}
  Lease(Lease&&) = default;
  ~Lease() {
    if (db_) store_->Release(std::move(db_));
  }
  sqlite::Db& db() { return *db_; }

 private:
  SqliteAnalyticsStore* store_;
  std::unique_ptr<sqlite::Db> db_;
};

Result<SqliteAnalyticsStore::Lease> SqliteAnalyticsStore::Acquire() {
  {
    MutexLock lock(&pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<sqlite::Db> db = std::move(pool_.back());
      pool_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  Result<sqlite::Db> db = sqlite::Db::Open(file_->path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  return Lease(this, std::make_unique<sqlite::Db>(std::move(*db)));
}

void SqliteAnalyticsStore::Release(std::unique_ptr<sqlite::Db> db) {
  MutexLock lock(&pool_mu_);
  if (pool_.size() < 8) pool_.push_back(std::move(db));
}

namespace {

// The sums of stats_usage_hourly's counts, in UsageTotals' order; Sums reads them back.
constexpr char kUsageSums[] =
    "sum(interactions), sum(input), sum(cached_input), sum(output), sum(reasoning), "
    "sum(cost_nanos), sum(unpriced)";
// The order of usage_by_model and usage_by_user: most cost first, then most tokens.
constexpr char kUsageOrder[] = "sum(cost_nanos) DESC, sum(input) + sum(output) DESC";


}  // namespace

Result<Stats> SqliteAnalyticsStore::GetStats(const StatsQuery& query) {
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Db& db = lease->db();
  const AnalyticsScope& scope = query.scope;
  const std::string user = scope.user_id.value_or("");
  const int64_t top = TopN(query);
  Stats stats;

  // Volume per hour (and so per day and in total) from the hourly aggregate.
  {
    Query q;
    q.sql = "SELECT hour_us, interactions, tool_calls, tool_failures FROM stats_hourly "
            "WHERE user_id = " + q.Param(user);
    TimeRange(scope, "hour_us", &q, &q.sql, kHourUs);
    q.sql += " ORDER BY hour_us";
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
      stats.per_hour.push_back(VolumeBucket{st.Int(0), st.Int(1), st.Int(2), st.Int(3)});
    });
    if (!s.ok()) return s;
    // Token usage per hour, from its own aggregate.
    q = Query();
    q.sql = std::string("SELECT hour_us, ") + kUsageSums +
            " FROM stats_usage_hourly WHERE user_id = " + q.Param(user);
    TimeRange(scope, "hour_us", &q, &q.sql, kHourUs);
    q.sql += " GROUP BY hour_us ORDER BY hour_us";
    std::vector<std::pair<int64_t, UsageTotals>> usage_hours;
    s = ForEach(db, q, [&](sqlite::Stmt& st) { usage_hours.emplace_back(st.Int(0), ReadUsageSums(st, 1)); });
    if (!s.ok()) return s;
    MergeUsageHours(usage_hours, &stats);
    FoldHourBuckets(&stats);
  }
  // Token usage by model, and by user.
  for (bool by_model : {true, false}) {
    const bool users_days = !by_model && !scope.user_id && (scope.from_us || scope.to_us);
    if (users_days) {
      // Every user over a range: their days (migration 17), whole UTC days as for top_users,
      // added up by user here (see SumByKey).
      Query q;
      q.sql = std::string("SELECT user_id, interactions, input, cached_input, output, reasoning, "
                          "cost_nanos, unpriced FROM stats_usage_daily_users WHERE 1");
      TimeRange(scope, "day_us", &q, &q.sql, kDayUs);
      std::unordered_map<std::string, UsageTotals> by_user;
      Status s = SumByKey(db, q, [](UsageTotals& sum, sqlite::Stmt& st) {
        sum.Add(ReadUsageSums(st, 1));
      }, &by_user);
      if (!s.ok()) return s;
      for (auto& [user_id, usage] : by_user) {
        stats.usage_by_user.push_back(UserUsage{user_id, usage});
      }
      auto costlier = [](const UserUsage& a, const UserUsage& b) {
        const int64_t ta = a.usage.input + a.usage.output, tb = b.usage.input + b.usage.output;
        return std::tie(b.usage.cost_nanos, tb, a.user_id) <
               std::tie(a.usage.cost_nanos, ta, b.user_id);
      };
      KeepTop(&stats.usage_by_user, top, costlier);
      continue;
    }
    Query q;
    const char* key = by_model ? "model" : "user_id";
    if (by_model || scope.user_id) {
      q.sql = std::string("SELECT ") + key + ", " + kUsageSums +
              " FROM stats_usage_hourly WHERE user_id = " + q.Param(user);
      TimeRange(scope, "hour_us", &q, &q.sql, kHourUs);
    } else {
      q.sql = std::string("SELECT user_id, ") + kUsageSums + " FROM stats_usage_users";
    }
    q.sql += std::string(" GROUP BY ") + key + " ORDER BY " + kUsageOrder + ", " + key + " LIMIT " +
             std::to_string(top);
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
      if (by_model) {
        stats.usage_by_model.push_back(ModelUsage{std::string(st.Text(0)), ReadUsageSums(st, 1)});
      } else {
        stats.usage_by_user.push_back(UserUsage{std::string(st.Text(0)), ReadUsageSums(st, 1)});
      }
    });
    if (!s.ok()) return s;
  }
  // Active users and the busiest ones.
  if (!scope.user_id && (scope.from_us || scope.to_us)) {
    Query q;
    q.sql = "SELECT user_id, interactions FROM stats_daily_users WHERE 1";
    TimeRange(scope, "day_us", &q, &q.sql, kDayUs);
    std::unordered_map<std::string, int64_t> by_user;
    Status s = SumByKey(db, q, [](int64_t& sum, sqlite::Stmt& st) { sum += st.Int(1); },
                         &by_user);
    if (!s.ok()) return s;
    for (const auto& [user_id, n] : by_user) {
      if (n <= 0) continue;
      ++stats.active_users;
      stats.top_users.push_back(UserActivity{user_id, n});
    }
    auto busier = [](const UserActivity& a, const UserActivity& b) {
      return std::tie(b.interactions, a.user_id) < std::tie(a.interactions, b.user_id);
    };
    KeepTop(&stats.top_users, top, busier);
  } else {
    Query q;
    if (scope.from_us || scope.to_us) {
      q.sql = "SELECT user_id, sum(interactions) AS n FROM stats_daily_users WHERE user_id = " +
              q.Param(user);
      TimeRange(scope, "day_us", &q, &q.sql, kDayUs);
      q.sql += " GROUP BY user_id";
    } else {
      // All time: each user's own count.
      q.sql = "SELECT user_id, n FROM users WHERE n > 0";
      if (scope.user_id) q.sql += " AND user_id = " + q.Param(user);
      q.sql += " ORDER BY n DESC, user_id";
    }
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
      ++stats.active_users;
      if (static_cast<int64_t>(stats.top_users.size()) < top) {
        stats.top_users.push_back(UserActivity{std::string(st.Text(0)), st.Int(1)});
      }
    });
    if (!s.ok()) return s;
  }
  // Threads active in range, and the busiest.
  {
    Query q;
    std::string where = " WHERE 1";
    if (scope.user_id) where += " AND user_id = " + q.Param(user);
    if (scope.from_us) where += " AND last_us >= " + q.Param(FloorTo(*scope.from_us, kHourUs));
    if (scope.to_us) where += " AND first_us < " + q.Param(*scope.to_us);
    Result<int64_t> n = CountThreadsActive(db, scope);
    if (!n.ok()) return n.status();
    stats.threads = *n;
    // The busiest among the latest kThreadSample threads active in range (a bounded sample).
    q.sql = "SELECT * FROM (SELECT user_id, thread_id, n, first_us, last_us FROM threads" + where +
            " ORDER BY last_us DESC LIMIT " + std::to_string(kThreadSample) +
            ") ORDER BY n DESC, last_us DESC LIMIT " + std::to_string(top);
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
      stats.top_threads.push_back(ThreadActivity{std::string(st.Text(0)), std::string(st.Text(1)),
                                                 st.Int(2), st.Int(3), st.Int(4)});
    });
    if (!s.ok()) return s;
  }
  // Tools, added up by name here (see SumByKey): the hours come in time order.
  {
    Query q;
    q.sql = "SELECT tool_name, calls, failures FROM stats_tools_hourly WHERE user_id = " +
            q.Param(user);
    TimeRange(scope, "hour_us", &q, &q.sql, kHourUs);
    std::unordered_map<std::string, std::pair<int64_t, int64_t>> by_tool;
    Status s = SumByKey(db, q, [](std::pair<int64_t, int64_t>& sum, sqlite::Stmt& st) {
      sum.first += st.Int(1);
      sum.second += st.Int(2);
    }, &by_tool);
    if (!s.ok()) return s;
    for (const auto& [name, sum] : by_tool) {
      stats.top_tools.push_back(ToolUsage{name, sum.first, sum.second});
    }
    KeepTop(&stats.top_tools, top, [](const ToolUsage& a, const ToolUsage& b) {
      return std::tie(b.calls, a.tool_name) < std::tie(a.calls, b.tool_name);
    });
  }
  // Top requests over the latest interactions in range (a bounded, indexed sample).
  {
    Query q;
    q.sql = "SELECT json_extract(body, '$.user_message') FROM interactions i WHERE 1";
    if (scope.user_id) q.sql += " AND user_id = " + q.Param(user);
    TimeRange(scope, "ts_us", &q, &q.sql);
    q.sql += " ORDER BY ts_us DESC LIMIT " + std::to_string(kRequestSample);
    RequestTally tally;
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) { tally.Add(st.Text(0)); });
    if (!s.ok()) return s;
    std::move(tally).Finish(top, &stats);
  }
  // Feedback on interactions in range.
  {
    Query q;
    if (!scope.to_us || *scope.to_us % kHourUs == 0) {
      // Its hourly aggregate (migration 17) when the range is made of whole hours.
      q.sql = "SELECT coalesce(sum(n), 0), coalesce(sum(positive), 0), "
              "coalesce(sum(neutral), 0), coalesce(sum(negative), 0), "
              "coalesce(sum(score_sum) / sum(n), 0) FROM stats_feedback_hourly "
              "WHERE user_id = " + q.Param(user);
      TimeRange(scope, "hour_us", &q, &q.sql, kHourUs);
    } else {
      q.sql = "SELECT count(*), coalesce(sum(score >= 0.5), 0), "
              "coalesce(sum(score >= 0 AND score < 0.5), 0), coalesce(sum(score < 0), 0), "
              "coalesce(avg(score), 0) FROM feedback WHERE 1";
      if (scope.user_id) q.sql += " AND user_id = " + q.Param(user);
      TimeRange(scope, "ts_us", &q, &q.sql, kHourUs);
    }
    Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
      stats.feedback = FeedbackSummary{st.Int(0), st.Int(1), st.Int(2), st.Int(3), Double(st, 4)};
    });
    if (!s.ok()) return s;
  }
  return stats;
}

Result<UsersPage> SqliteAnalyticsStore::ListUsers(const UsersQuery& query) {
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Db& db = lease->db();
  UsersPage page;
  Query q;
  std::string where = " WHERE 1";
  if (query.user_id) where += " AND u.user_id = " + q.Param(*query.user_id);
  q.sql = "SELECT count(*) FROM users u" + where;
  Result<int64_t> total = Scalar(db, q);
  if (!total.ok()) return total.status();
  page.total = *total;
  q.sql = "SELECT u.user_id, u.n, u.first_us, u.last_us, "
          "coalesce((SELECT threads FROM stats_user_threads t WHERE t.user_id = u.user_id), 0) "
          "FROM users u" + where +
          " ORDER BY u.last_us DESC, u.user_id LIMIT " + q.Param(int64_t{query.limit}) +
          " OFFSET " + q.Param(query.offset);
  Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
    page.users.push_back(
        UserSummary{std::string(st.Text(0)), st.Int(1), st.Int(4), st.Int(2), st.Int(3)});
  });
  if (!s.ok()) return s;
  return page;
}

Result<ThreadsPage> SqliteAnalyticsStore::ListThreads(const ThreadsQuery& query) {
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Db& db = lease->db();
  ThreadsPage page;
  Query q;
  std::string where = " WHERE 1";
  if (query.user_id) where += " AND t.user_id = " + q.Param(*query.user_id);
  // The total from the threads kept per user (migration 17).
  q.sql = "SELECT coalesce(sum(threads), 0) FROM stats_user_threads t" + where;
  Result<int64_t> total = Scalar(db, q);
  if (!total.ok()) return total.status();
  page.total = *total;
  // The page is chosen first, so only its rows load their first and last messages.
  q.sql = "SELECT t.user_id, t.thread_id, t.n, t.first_us, t.last_us, "
          "json_extract(a.body, '$.user_message'), json_extract(b.body, '$.user_message') "
          "FROM (SELECT * FROM threads t" + where + " ORDER BY t.last_us DESC, t.thread_id LIMIT " +
          q.Param(int64_t{query.limit}) + " OFFSET " + q.Param(query.offset) + ") t "
          "LEFT JOIN interactions a ON a.seq = t.first_seq "
          "LEFT JOIN interactions b ON b.seq = t.last_seq ORDER BY t.last_us DESC, t.thread_id";
  Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
    ThreadSummary t;
    t.user_id = std::string(st.Text(0));
    t.thread_id = std::string(st.Text(1));
    t.interactions = st.Int(2);
    t.first_us = st.Int(3);
    t.last_us = st.Int(4);
    t.first_message = std::string(TruncateUtf8(st.Text(5), kMessagePreviewChars));
    t.last_message = std::string(TruncateUtf8(st.Text(6), kMessagePreviewChars));
    page.threads.push_back(std::move(t));
  });
  if (!s.ok()) return s;
  return page;
}

Result<ConversationPage> SqliteAnalyticsStore::GetConversation(const ConversationQuery& query) {
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Db& db = lease->db();
  ConversationPage page;
  Query q;
  q.sql = "SELECT n FROM threads WHERE user_id = ?1 AND thread_id = ?2";
  q.params = {query.user_id, query.thread_id};
  Result<int64_t> total = Scalar(db, q);
  if (!total.ok()) return total.status();
  if (*total == 0) return Status::NotFound("no such thread for this user");
  page.total = *total;
  q.sql = std::string("SELECT ") + kViewColumns + " FROM interactions i" + kFeedbackJoin +
          " WHERE i.user_id = ?1 AND i.thread_id = ?2";
  if (query.after) {
    q.sql += " AND (i.ts_us, i.interaction_id) > (" + q.Param(query.after->ts_us) + ", " +
             q.Param(query.after->interaction_id) + ")";
  }
  q.sql += " ORDER BY i.ts_us, i.interaction_id LIMIT " + q.Param(FetchLimit(query.limit));
  Status s = ForEach(db, q, [&](sqlite::Stmt& st) {
    if (PageIsFull(page.items.size(), query.limit, &page.has_more)) return;
    page.items.push_back(ViewOf(st));
  });
  if (!s.ok()) return s;
  SetNextFromLastItem(&page);
  return page;
}

Result<SearchPage> SqliteAnalyticsStore::Search(const SearchQuery& query) {
  if (Status s = CheckSearchText(query.q); !s.ok()) return s;
  std::vector<std::string> terms = SearchTerms(query.q);
  std::vector<std::string> indexed;
  for (const std::string& term : terms) {
    if (Utf8Length(term) >= kMinIndexedTermChars) indexed.push_back(term);
  }
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Db& db = lease->db();

  // The conditions on an interaction's own columns (user, thread, time, cursor, tools). A query
  // driven by the tool's entries (below) checks the tool and its status on them instead.
  auto row_filters = [&](Query* q, bool tool_checked = false) {
    std::string where;
    if (query.scope.user_id) where += " AND i.user_id = " + q->Param(*query.scope.user_id);
    if (query.thread_id) where += " AND i.thread_id = " + q->Param(*query.thread_id);
    TimeRange(query.scope, "i.ts_us", q, &where);
    if (query.after) {
      std::string ts = q->Param(query.after->ts_us);
      std::string id = q->Param(query.after->interaction_id);
      where += " AND (i.ts_us, i.interaction_id) < (" + ts + ", " + id + ")";
    }
    if (query.tool) {
      if (!tool_checked) {
        where += " AND EXISTS (SELECT 1 FROM interaction_tools t WHERE t.tool_name = " +
                 q->Param(*query.tool) + " AND t.ts_us = i.ts_us AND t.seq = i.seq";
        if (query.status == ToolStatusFilter::kFailed) where += " AND t.failed = 1";
        if (query.status == ToolStatusFilter::kSuccess) where += " AND t.failed = 0";
        where += ")";
      }
    } else if (query.status == ToolStatusFilter::kFailed) {
      where += " AND i.tool_failures > 0";
    } else if (query.status == ToolStatusFilter::kSuccess) {
      where += " AND i.tool_failures = 0";
    }
    return where;
  };
  // The substring test of every term (ASCII case-insensitive), and the feedback filter.
  auto text_and_feedback = [&](Query* q) {
    std::string where;
    for (const std::string& term : terms) {
      std::string p = q->Param(term);
      // A term that JSON stores unescaped is first looked for in the raw row, which is much
      // cheaper than extracting the two fields.
      if (StoredVerbatim(term)) {
        where += " AND instr(lower(i.body), lower(" + p + ")) > 0";
      }
      where += " AND (instr(lower(json_extract(i.body, '$.user_message')), lower(" + p +
               ")) > 0 OR instr(lower(json_extract(i.body, '$.assistant_response')), lower(" + p +
               ")) > 0)";
    }
    switch (query.feedback) {
      case FeedbackFilter::kAny: break;
      case FeedbackFilter::kWith: where += " AND f.score IS NOT NULL"; break;
      case FeedbackFilter::kWithout: where += " AND f.score IS NULL"; break;
      case FeedbackFilter::kPositive: where += " AND f.score >= 0.5"; break;
      case FeedbackFilter::kNegative: where += " AND f.score < 0"; break;
    }
    return where;
  };
  const std::string order = " ORDER BY i.ts_us DESC, i.interaction_id DESC LIMIT ";
  auto run = [&](const Query& q, SearchPage* page) {
    return ForEach(db, q, [&](sqlite::Stmt& st) {
      if (PageIsFull(page->items.size(), query.limit, &page->has_more)) return;
      page->items.push_back(ViewOf(st));
    });
  };

  SearchPage page;
  Status s;
  bool done = false;
  if (!terms.empty()) {
    // Common terms are found fastest among the newest rows: look there first. Should the newest
    // kRecentScan rows that pass the other filters hold a full page of matches, those are the
    // newest matches of all.
    Query q;
    if (query.tool) {
      // With a tool, those rows come from the tool's own entries, which are kept by time:
      // walking every interaction by time and probing each for the tool read all the other
      // tools' rows too, and sorting the window's matches cost 40-95 ms at 10M rows for a tool
      // in 2 calls of 15. The window is bounded by the time of its oldest row (found through
      // the entries alone), so the query below reads the newest rows only until the page is
      // full: every row newer than the bound is looked at, so a full page holds the newest
      // matches of all.
      auto tool_rows = [&](Query* q) {
        std::string sql = " FROM interaction_tools t CROSS JOIN interactions i";
        std::string where = " WHERE t.tool_name = " + q->Param(*query.tool);
        TimeRange(query.scope, "t.ts_us", q, &where);
        if (query.after) where += " AND t.ts_us <= " + q->Param(query.after->ts_us);
        // The status is on the entry too: entries that fail it are passed over unread.
        if (query.status == ToolStatusFilter::kFailed) where += " AND t.failed = 1";
        if (query.status == ToolStatusFilter::kSuccess) where += " AND t.failed = 0";
        where += " AND i.seq = t.seq AND i.ts_us = t.ts_us" + row_filters(q, true);
        return std::pair(sql, where);
      };
      Query b;
      auto [bound_from, bound_where] = tool_rows(&b);
      b.sql = "SELECT t.ts_us" + bound_from + bound_where +
              " ORDER BY t.ts_us DESC LIMIT 1 OFFSET " + std::to_string(kRecentScan - 1);
      std::optional<int64_t> bound;
      s = ForEach(db, b, [&](sqlite::Stmt& st) { bound = st.Int(0); });
      if (!s.ok()) return s;
      auto [from, where] = tool_rows(&q);
      if (bound) where += " AND t.ts_us >= " + q.Param(*bound);
      q.sql = std::string("SELECT ") + kViewColumns + from + kFeedbackJoin + where +
              text_and_feedback(&q) + " ORDER BY t.ts_us DESC, i.interaction_id DESC LIMIT " +
              q.Param(FetchLimit(query.limit));
    } else {
      std::string inner = "SELECT * FROM interactions i WHERE 1" + row_filters(&q) + order +
                          std::to_string(kRecentScan);
      q.sql = std::string("SELECT ") + kViewColumns + " FROM (" + inner + ") i" + kFeedbackJoin +
              " WHERE 1" + text_and_feedback(&q) + order + q.Param(FetchLimit(query.limit));
    }
    s = run(q, &page);
    if (!s.ok()) return s;
    done = page.has_more;
    if (!done) page = SearchPage();
  }
  if (!done) {
    Query q;
    std::string from = " FROM interactions i";
    std::string where = " WHERE 1";
    std::string join = kFeedbackJoin;
    if (!indexed.empty()) {
      // Drive the query from the full-text candidates (CROSS JOIN fixes the join order).
      std::string match;
      for (const std::string& term : indexed) {
        match += (match.empty() ? "" : " ") + TrigramQuery(term);
      }
      // Candidates: the index's up to its watermark, and every row after it (the indexer
      // has not reached them yet); the substring test below checks each.
      from = " FROM (SELECT rowid AS seq FROM interactions_fts WHERE interactions_fts MATCH " +
             q.Param(match) +
             " UNION ALL SELECT seq FROM interactions WHERE seq > "
             "(SELECT indexed_seq FROM search_index_progress)) c CROSS JOIN interactions i";
      where += " AND i.seq = c.seq";
    } else if (query.feedback == FeedbackFilter::kWith ||
               query.feedback == FeedbackFilter::kPositive ||
               query.feedback == FeedbackFilter::kNegative) {
      // Rated interactions are few: start from the feedback rows.
      from = " FROM feedback f CROSS JOIN interactions i";
      where += " AND i.user_id = f.user_id AND i.ts_us = f.ts_us AND "
               "i.interaction_id = f.interaction_id";
      join.clear();
    }
    where += row_filters(&q) + text_and_feedback(&q);
    q.sql = std::string("SELECT ") + kViewColumns + from + join + where + order +
            q.Param(FetchLimit(query.limit));
    s = run(q, &page);
  }
  if (!s.ok()) {
    // The only argument the engine parses is the full-text expression built from q.
    if (s.code() == Status::Code::kInvalidArgument) {
      return Status::InvalidArgument("q cannot be searched: " + s.message());
    }
    return s;
  }
  SetNextFromLastItem(&page);
  return page;
}

namespace {

// Sets one rating on the writer connection, which the caller holds (write_mu).
Status SetFeedbackOn(sqlite::Db& writer, const std::string& user_id,
                     const std::string& interaction_id, const Feedback& feedback) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  Query q;
  q.sql = "INSERT INTO feedback(user_id, interaction_id, ts_us, score, comment, updated_us) "
          "SELECT user_id, interaction_id, ts_us, ?4, ?5, ?6 FROM interactions "
          "WHERE user_id = ?1 AND ts_us = ?2 AND interaction_id = ?3 "
          "ON CONFLICT(user_id, interaction_id) DO UPDATE SET score = excluded.score, "
          "comment = excluded.comment, updated_us = excluded.updated_us";
  q.params = {user_id, ts_us, interaction_id, feedback.score, feedback.comment,
              feedback.updated_us};
  Result<sqlite::Stmt> stmt = Prepare(writer, q);
  if (!stmt.ok()) return stmt.status();
  Status s = stmt->Run();
  if (!s.ok()) return s;
  if (sqlite3_changes(writer.get()) == 0) return Status::NotFound("no such interaction");
  return Status::Ok();
}

}  // namespace

Status SqliteAnalyticsStore::SetFeedback(const std::string& user_id,
                                         const std::string& interaction_id,
                                         const Feedback& feedback) {
  MutexLock lock(&file_->write_mu);
  return SetFeedbackOn(file_->writer, user_id, interaction_id, feedback);
}

Status SqliteAnalyticsStore::SetFeedbacks(std::span<const FeedbackWrite> writes) {
  MutexLock lock(&file_->write_mu);
  if (Status s = file_->writer.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (const FeedbackWrite& w : writes) {
    if (Status s = SetFeedbackOn(file_->writer, w.user_id, w.interaction_id, w.feedback); !s.ok()) {
      (void)file_->writer.Exec("ROLLBACK");
      return s;
    }
  }
  Status s = file_->writer.Exec("COMMIT");
  if (!s.ok()) (void)file_->writer.Exec("ROLLBACK");
  return s;
}

Result<std::optional<Feedback>> SqliteAnalyticsStore::GetFeedback(
    const std::string& user_id, const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  Query q;
  q.sql = "SELECT f.score, f.comment, f.updated_us, i.seq FROM interactions i" +
          std::string(kFeedbackJoin) +
          " WHERE i.user_id = ?1 AND i.ts_us = ?2 AND i.interaction_id = ?3";
  q.params = {user_id, ts_us, interaction_id};
  bool found = false;
  std::optional<Feedback> feedback;
  Status s = ForEach(lease->db(), q, [&](sqlite::Stmt& st) {
    found = true;
    if (!st.IsNull(0)) feedback = Feedback{Double(st, 0), std::string(st.Text(1)), st.Int(2)};
  });
  if (!s.ok()) return s;
  if (!found) return Status::NotFound("no such interaction");
  return feedback;
}

Result<std::string> SqliteAnalyticsStore::OwnerOf(const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  Result<Lease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  Query q;
  q.sql = "SELECT user_id FROM interactions WHERE ts_us = ?1 AND interaction_id = ?2 LIMIT 1";
  q.params = {ts_us, interaction_id};
  std::optional<std::string> owner;
  Status s = ForEach(lease->db(), q, [&](sqlite::Stmt& st) { owner = std::string(st.Text(0)); });
  if (!s.ok()) return s;
  if (!owner) return Status::NotFound("no such interaction");
  return *owner;
}

}  // namespace omniflow
