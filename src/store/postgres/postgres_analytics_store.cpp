#include "store/postgres/postgres_analytics_store.h"

#include <algorithm>
#include <cstdlib>

#include "core/ids.h"
#include "store/analytics_stats.h"
#include "store/analytics_text.h"
#include "store/paging.h"
#include "store/postgres/pg_migrations.h"
#include "store/usage_sums.h"

namespace omniflow {

namespace {

// Token usage of the rows in a group, in UsageTotals' order (Sums reads them back); rows
// without usage have NULL counts, which count() and sum() skip.
constexpr char kUsageSums[] =
    "count(i.input_tokens), COALESCE(sum(i.input_tokens), 0), "
    "COALESCE(sum(i.cached_input_tokens), 0), COALESCE(sum(i.output_tokens), 0), "
    "COALESCE(sum(i.reasoning_tokens), 0), COALESCE(sum(i.cost_nanos), 0), "
    "count(i.input_tokens) - count(i.cost_nanos)";
// The order of usage_by_model and usage_by_user: most cost first, then most tokens.
constexpr char kUsageOrder[] =
    "COALESCE(sum(i.cost_nanos), 0) DESC, "
    "COALESCE(sum(i.input_tokens), 0) + COALESCE(sum(i.output_tokens), 0) DESC";

UsageTotals Sums(const pg::Res& r, int row, int from) {
  return ReadUsageSums(pg::Row{r, row}, from);
}

// The hour of ts_us, as SQL (FloorTo(ts_us, kHourUs)).
constexpr char kHour[] = "(i.ts_us - ((i.ts_us % 3600000000) + 3600000000) % 3600000000)";
// The UTC day of ts_us, as SQL (FloorTo(ts_us, kDayUs)).
constexpr char kDay[] = "(i.ts_us - ((i.ts_us % 86400000000) + 86400000000) % 86400000000)";
// The searchable text of an interaction. A pg_trgm index over it would be of no use: under
// row-level security the planner may not drive an index with LIKE (not leakproof), and it
// cost 60% of ingest throughput when measured (docs/scaling.md).
constexpr char kSearchText[] = "omniflow_search_text(i.body)";
constexpr char kViewColumns[] =
    "i.body, i.ts_us, i.interaction_id, f.score, f.comment, f.updated_us, i.usage_model, "
    "i.input_tokens, i.cached_input_tokens, i.output_tokens, i.reasoning_tokens, i.cost_nanos";
constexpr char kFeedbackJoin[] =
    " LEFT JOIN feedback f ON f.user_id = i.user_id AND f.interaction_id = i.interaction_id";

// A statement built at run time with its parameters in order ($1, $2, ...).
struct Builder {
  pg::Query q;
  std::string Param(std::string v) {
    q.params.push_back(std::move(v));
    return "$" + std::to_string(q.params.size());
  }
  std::string Param(int64_t v) { return Param(std::to_string(v)) + "::bigint"; }
};

// Conditions for the scope's time range on `column` (`from` rounded down to `round_to`).
std::string TimeRange(const AnalyticsScope& scope, const std::string& column, Builder* b,
                      int64_t round_to = 1) {
  std::string where;
  if (scope.from_us) where += " AND " + column + " >= " + b->Param(FloorTo(*scope.from_us, round_to));
  if (scope.to_us) where += " AND " + column + " < " + b->Param(*scope.to_us);
  return where;
}

// `text` as a LIKE pattern matching itself anywhere.
std::string Contains(std::string_view text) {
  std::string p = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') p.push_back('\\');
    p.push_back(c);
  }
  p.push_back('%');
  return p;
}

// ASCII lower case, as SQLite's lower() and PostgreSQL's under COLLATE "C".
std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

InteractionView ViewOf(const pg::Res& r, int row) {
  InteractionView v;
  v.json = std::string(r.Text(row, 0));
  v.position.ts_us = r.Int(row, 1);
  v.position.interaction_id = std::string(r.Text(row, 2));
  if (!r.IsNull(row, 3)) {
    Feedback f;
    f.score = std::strtod(std::string(r.Text(row, 3)).c_str(), nullptr);
    f.comment = std::string(r.Text(row, 4));
    f.updated_us = r.Int(row, 5);
    v.feedback = std::move(f);
  }
  if (!r.IsNull(row, 7)) {
    StoredUsage& u = v.usage.emplace();
    if (!r.IsNull(row, 6)) u.model = std::string(r.Text(row, 6));
    u.tokens = TokenUsage{r.Int(row, 7), r.Int(row, 8), r.Int(row, 9), r.Int(row, 10)};
    if (!r.IsNull(row, 11)) u.cost_nanos = r.Int(row, 11);
  }
  return v;
}

}  // namespace

Result<std::vector<pg::Res>> PostgresAnalyticsStore::Run(const std::optional<std::string>& user,
                                                         std::vector<pg::Query> queries,
                                                         bool write) {
  if (user) {
    queries.insert(queries.begin(),
                   pg::Query{"SELECT set_config('omniflow.user_id', $1, true)", {*user}});
  } else {
    queries.insert(queries.begin(), pg::Query{"SELECT set_config('omniflow.admin', 'on', true)", {}});
  }
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(
      queries, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!done.ok()) return done.status();
  done->erase(done->begin());
  return done;
}

Result<Stats> PostgresAnalyticsStore::GetStats(const StatsQuery& query) {
  const AnalyticsScope& scope = query.scope;
  const int64_t top = TopN(query);
  std::vector<pg::Query> queries;
  std::string user_filter_i, user_filter;
  // 0: volume per hour.
  {
    Builder b;
    std::string where = " WHERE true";
    if (scope.user_id) where += " AND i.user_id = " + b.Param(*scope.user_id);
    where += TimeRange(scope, kHour, &b, kHourUs);
    b.q.sql = std::string("SELECT ") + kHour +
              " AS h, count(*), COALESCE(sum(i.tool_calls), 0), "
              "COALESCE(sum(i.tool_failures), 0), " +
              kUsageSums + " FROM interactions i" + where + " GROUP BY h ORDER BY h";
    queries.push_back(std::move(b.q));
  }
  // 1: users active in range (by whole UTC days, as the SQLite store counts them), busiest first.
  {
    Builder b;
    std::string where = " WHERE true";
    if (scope.user_id) where += " AND i.user_id = " + b.Param(*scope.user_id);
    where += TimeRange(scope, kDay, &b, kDayUs);
    b.q.sql = "SELECT i.user_id, count(*) AS n FROM interactions i" + where +
              " GROUP BY i.user_id ORDER BY n DESC, i.user_id";
    queries.push_back(std::move(b.q));
  }
  // 2, 3: threads overlapping the range, and the busiest.
  {
    Builder b;
    std::string where = " WHERE thread_id <> ''";
    if (scope.user_id) where += " AND user_id = " + b.Param(*scope.user_id);
    if (scope.from_us) where += " AND last_us >= " + b.Param(FloorTo(*scope.from_us, kHourUs));
    if (scope.to_us) where += " AND first_us < " + b.Param(*scope.to_us);
    pg::Query count{"SELECT count(*) FROM interaction_counts" + where, b.q.params};
    // The busiest among the latest kThreadSample threads active in range (a bounded sample).
    b.q.sql = "SELECT * FROM (SELECT user_id, thread_id, n, first_us, last_us FROM "
              "interaction_counts" + where + " ORDER BY last_us DESC LIMIT " +
              std::to_string(kThreadSample) + ") t ORDER BY n DESC, last_us DESC LIMIT " +
              std::to_string(top);
    queries.push_back(std::move(count));
    queries.push_back(std::move(b.q));
  }
  // 4: tools, by calls.
  {
    Builder b;
    std::string where = " WHERE true";
    if (scope.user_id) where += " AND i.user_id = " + b.Param(*scope.user_id);
    where += TimeRange(scope, kHour, &b, kHourUs);
    b.q.sql = "SELECT t ->> 'tool_name' AS name, count(*) AS c, "
              "count(*) FILTER (WHERE COALESCE(t ->> 'status', 'success') <> 'success') "
              "FROM interactions i CROSS JOIN LATERAL "
              "jsonb_array_elements(omniflow_doc(i.body) -> 'tool_calls') t" + where +
              " AND i.tool_calls > 0 GROUP BY name ORDER BY c DESC, name LIMIT " + std::to_string(top);
    queries.push_back(std::move(b.q));
  }
  // 5: the latest requests in range, for top_requests.
  {
    Builder b;
    std::string where = " WHERE true";
    if (scope.user_id) where += " AND i.user_id = " + b.Param(*scope.user_id);
    where += TimeRange(scope, "i.ts_us", &b);
    b.q.sql = "SELECT omniflow_doc(i.body) ->> 'user_message' FROM interactions i" + where +
              " ORDER BY i.ts_us DESC LIMIT " + std::to_string(kRequestSample);
    queries.push_back(std::move(b.q));
  }
  // 6: feedback on interactions in range.
  {
    Builder b;
    std::string where = " WHERE true";
    if (scope.user_id) where += " AND user_id = " + b.Param(*scope.user_id);
    where += TimeRange(scope, "ts_us", &b, kHourUs);
    b.q.sql = "SELECT count(*), count(*) FILTER (WHERE score >= 0.5), "
              "count(*) FILTER (WHERE score >= 0 AND score < 0.5), count(*) FILTER (WHERE score < 0), "
              "COALESCE(avg(score), 0) FROM feedback" + where;
    queries.push_back(std::move(b.q));
  }
  // 7, 8: token usage by model and by user, most cost first. By user over every user, by
  // whole UTC days, as the SQLite store keeps it.
  for (const char* key : {"COALESCE(i.usage_model, '')", "i.user_id"}) {
    Builder b;
    std::string where = " WHERE i.input_tokens IS NOT NULL";
    if (scope.user_id) where += " AND i.user_id = " + b.Param(*scope.user_id);
    const bool by_day = !scope.user_id && std::string_view(key) == "i.user_id";
    where += by_day ? TimeRange(scope, kDay, &b, kDayUs) : TimeRange(scope, kHour, &b, kHourUs);
    b.q.sql = std::string("SELECT ") + key + " AS k, " + kUsageSums + " FROM interactions i" +
              where + " GROUP BY k ORDER BY " + kUsageOrder + ", k LIMIT " + std::to_string(top);
    queries.push_back(std::move(b.q));
  }
  Result<std::vector<pg::Res>> done = Run(scope.user_id, std::move(queries));
  if (!done.ok()) return done.status();
  const std::vector<pg::Res>& r = *done;

  Stats stats;
  stats.per_hour.reserve(static_cast<size_t>(r[0].rows()));
  for (int i = 0; i < r[0].rows(); ++i) {
    stats.per_hour.push_back(
        VolumeBucket{r[0].Int(i, 0), r[0].Int(i, 1), r[0].Int(i, 2), r[0].Int(i, 3)});
    stats.per_hour.back().usage = Sums(r[0], i, 4);
  }
  FoldHourBuckets(&stats);
  stats.active_users = r[1].rows();
  for (int i = 0; i < r[1].rows() && i < top; ++i) {
    stats.top_users.push_back(UserActivity{std::string(r[1].Text(i, 0)), r[1].Int(i, 1)});
  }
  stats.threads = r[2].Int(0, 0);
  for (int i = 0; i < r[3].rows(); ++i) {
    stats.top_threads.push_back(ThreadActivity{std::string(r[3].Text(i, 0)),
                                               std::string(r[3].Text(i, 1)), r[3].Int(i, 2),
                                               r[3].Int(i, 3), r[3].Int(i, 4)});
  }
  for (int i = 0; i < r[4].rows(); ++i) {
    stats.top_tools.push_back(ToolUsage{std::string(r[4].Text(i, 0)), r[4].Int(i, 1), r[4].Int(i, 2)});
  }
  RequestTally tally;
  for (int i = 0; i < r[5].rows(); ++i) tally.Add(r[5].Text(i, 0));
  std::move(tally).Finish(top, &stats);
  for (int i = 0; i < r[7].rows(); ++i) {
    stats.usage_by_model.push_back(ModelUsage{std::string(r[7].Text(i, 0)), Sums(r[7], i, 1)});
  }
  for (int i = 0; i < r[8].rows(); ++i) {
    stats.usage_by_user.push_back(UserUsage{std::string(r[8].Text(i, 0)), Sums(r[8], i, 1)});
  }
  stats.feedback = FeedbackSummary{r[6].Int(0, 0), r[6].Int(0, 1), r[6].Int(0, 2), r[6].Int(0, 3),
                                   std::strtod(std::string(r[6].Text(0, 4)).c_str(), nullptr)};
  return stats;
}

Result<UsersPage> PostgresAnalyticsStore::ListUsers(const UsersQuery& query) {
  Builder b;
  std::string where = " WHERE u.thread_id = ''";
  if (query.user_id) where += " AND u.user_id = " + b.Param(*query.user_id);
  pg::Query count{"SELECT count(*) FROM interaction_counts u" + where, b.q.params};
  b.q.sql = "SELECT u.user_id, u.n, u.first_us, u.last_us, (SELECT count(*) FROM interaction_counts t "
            "WHERE t.user_id = u.user_id AND t.thread_id <> '') FROM interaction_counts u" + where +
            " ORDER BY u.last_us DESC, u.user_id LIMIT " + b.Param(int64_t{query.limit}) +
            " OFFSET " + b.Param(query.offset);
  Result<std::vector<pg::Res>> done = Run(query.user_id, {std::move(count), std::move(b.q)});
  if (!done.ok()) return done.status();
  UsersPage page;
  page.total = (*done)[0].Int(0, 0);
  const pg::Res& rows = (*done)[1];
  for (int i = 0; i < rows.rows(); ++i) {
    page.users.push_back(UserSummary{std::string(rows.Text(i, 0)), rows.Int(i, 1), rows.Int(i, 4),
                                     rows.Int(i, 2), rows.Int(i, 3)});
  }
  return page;
}

Result<ThreadsPage> PostgresAnalyticsStore::ListThreads(const ThreadsQuery& query) {
  Builder b;
  std::string where = " WHERE t.thread_id <> ''";
  if (query.user_id) where += " AND t.user_id = " + b.Param(*query.user_id);
  pg::Query count{"SELECT count(*) FROM interaction_counts t" + where, b.q.params};
  b.q.sql = "SELECT t.user_id, t.thread_id, t.n, t.first_us, t.last_us, "
            "omniflow_doc(a.body) ->> 'user_message', omniflow_doc(z.body) ->> 'user_message' "
            "FROM interaction_counts t "
            "LEFT JOIN interactions a ON a.user_id = t.user_id AND a.ts_us = t.first_us "
            "AND a.interaction_id = t.first_id "
            "LEFT JOIN interactions z ON z.user_id = t.user_id AND z.ts_us = t.last_us "
            "AND z.interaction_id = t.last_id" + where +
            " ORDER BY t.last_us DESC, t.thread_id LIMIT " + b.Param(int64_t{query.limit}) +
            " OFFSET " + b.Param(query.offset);
  Result<std::vector<pg::Res>> done = Run(query.user_id, {std::move(count), std::move(b.q)});
  if (!done.ok()) return done.status();
  ThreadsPage page;
  page.total = (*done)[0].Int(0, 0);
  const pg::Res& rows = (*done)[1];
  for (int i = 0; i < rows.rows(); ++i) {
    ThreadSummary t;
    t.user_id = std::string(rows.Text(i, 0));
    t.thread_id = std::string(rows.Text(i, 1));
    t.interactions = rows.Int(i, 2);
    t.first_us = rows.Int(i, 3);
    t.last_us = rows.Int(i, 4);
    t.first_message = std::string(TruncateUtf8(rows.Text(i, 5), kMessagePreviewChars));
    t.last_message = std::string(TruncateUtf8(rows.Text(i, 6), kMessagePreviewChars));
    page.threads.push_back(std::move(t));
  }
  return page;
}

Result<ConversationPage> PostgresAnalyticsStore::GetConversation(const ConversationQuery& query) {
  Builder b;
  std::string user = b.Param(query.user_id), thread = b.Param(query.thread_id);
  pg::Query count{"SELECT n FROM interaction_counts WHERE user_id = $1 AND thread_id = $2",
                  b.q.params};
  b.q.sql = std::string("SELECT ") + kViewColumns + " FROM interactions i" + kFeedbackJoin +
            " WHERE i.user_id = " + user + " AND i.thread_id = " + thread;
  if (query.after) {
    b.q.sql += " AND (i.ts_us, i.interaction_id) > (" + b.Param(query.after->ts_us) + ", " +
               b.Param(query.after->interaction_id) + ")";
  }
  b.q.sql += " ORDER BY i.ts_us, i.interaction_id LIMIT " + b.Param(FetchLimit(query.limit));
  Result<std::vector<pg::Res>> done = Run(query.user_id, {std::move(count), std::move(b.q)});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0 || (*done)[0].Int(0, 0) == 0) {
    return Status::NotFound("no such thread for this user");
  }
  ConversationPage page;
  page.total = (*done)[0].Int(0, 0);
  const pg::Res& rows = (*done)[1];
  const int n = RowsOnPage(rows.rows(), query.limit, &page.has_more);
  for (int i = 0; i < n; ++i) page.items.push_back(ViewOf(rows, i));
  SetNextFromLastItem(&page);
  return page;
}

Result<SearchPage> PostgresAnalyticsStore::Search(const SearchQuery& query) {
  if (Status s = CheckSearchText(query.q); !s.ok()) return s;
  Builder b;
  std::string where = " WHERE true";
  // Each term, ASCII case-insensitive, in the message or the response (terms hold no newline,
  // so none can match across the two fields).
  for (const std::string& term : SearchTerms(query.q)) {
    where += std::string(" AND ") + kSearchText + " LIKE " + b.Param(Contains(AsciiLower(term)));
  }
  if (query.scope.user_id) where += " AND i.user_id = " + b.Param(*query.scope.user_id);
  if (query.thread_id) where += " AND i.thread_id = " + b.Param(*query.thread_id);
  where += TimeRange(query.scope, "i.ts_us", &b);
  if (query.after) {
    where += " AND (i.ts_us, i.interaction_id) < (" + b.Param(query.after->ts_us) + ", " +
             b.Param(query.after->interaction_id) + ")";
  }
  const std::string calls = "jsonb_array_elements(omniflow_doc(i.body) -> 'tool_calls') t";
  const std::string failed = "COALESCE(t ->> 'status', 'success') <> 'success'";
  if (query.tool) {
    std::string tool = b.Param(*query.tool);
    where += " AND EXISTS (SELECT 1 FROM " + calls + " WHERE t ->> 'tool_name' = " + tool;
    if (query.status == ToolStatusFilter::kFailed) where += " AND " + failed;
    where += ")";
    if (query.status == ToolStatusFilter::kSuccess) {
      where += " AND NOT EXISTS (SELECT 1 FROM " + calls + " WHERE t ->> 'tool_name' = " + tool +
               " AND " + failed + ")";
    }
  } else if (query.status == ToolStatusFilter::kFailed) {
    where += " AND i.tool_failures > 0";
  } else if (query.status == ToolStatusFilter::kSuccess) {
    where += " AND i.tool_failures = 0";
  }
  switch (query.feedback) {
    case FeedbackFilter::kAny: break;
    case FeedbackFilter::kWith: where += " AND f.score IS NOT NULL"; break;
    case FeedbackFilter::kWithout: where += " AND f.score IS NULL"; break;
    case FeedbackFilter::kPositive: where += " AND f.score >= 0.5"; break;
    case FeedbackFilter::kNegative: where += " AND f.score < 0"; break;
  }
  b.q.sql = std::string("SELECT ") + kViewColumns + " FROM interactions i" + kFeedbackJoin + where +
            " ORDER BY i.ts_us DESC, i.interaction_id DESC LIMIT " +
            b.Param(FetchLimit(query.limit));
  Result<std::vector<pg::Res>> done = Run(query.scope.user_id, {std::move(b.q)});
  if (!done.ok()) return done.status();
  SearchPage page;
  const pg::Res& rows = (*done)[0];
  const int n = RowsOnPage(rows.rows(), query.limit, &page.has_more);
  for (int i = 0; i < n; ++i) page.items.push_back(ViewOf(rows, i));
  SetNextFromLastItem(&page);
  return page;
}

Status PostgresAnalyticsStore::SetFeedback(const std::string& user_id,
                                           const std::string& interaction_id,
                                           const Feedback& feedback) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  char score[64];
  std::snprintf(score, sizeof score, "%.17g", feedback.score);
  pg::Query upsert{
      "INSERT INTO feedback(user_id, interaction_id, ts_us, score, comment, updated_us) "
      "SELECT user_id, interaction_id, ts_us, $4::double precision, $5, $6::bigint FROM interactions "
      "WHERE user_id = $1 AND ts_us = $2::bigint AND interaction_id = $3 "
      "ON CONFLICT (user_id, interaction_id) DO UPDATE SET score = excluded.score, "
      "comment = excluded.comment, updated_us = excluded.updated_us",
      {user_id, std::to_string(ts_us), interaction_id, std::string(score), feedback.comment,
       std::to_string(feedback.updated_us)}};
  Result<std::vector<pg::Res>> done = Run(user_id, {std::move(upsert)}, /*write=*/true);
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no such interaction");
  return Status::Ok();
}

Result<std::optional<Feedback>> PostgresAnalyticsStore::GetFeedback(
    const std::string& user_id, const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  pg::Query select{"SELECT f.score, f.comment, f.updated_us FROM interactions i" +
                       std::string(kFeedbackJoin) +
                       " WHERE i.user_id = $1 AND i.ts_us = $2::bigint AND i.interaction_id = $3",
                   {user_id, std::to_string(ts_us), interaction_id}};
  Result<std::vector<pg::Res>> done = Run(user_id, {std::move(select)});
  if (!done.ok()) return done.status();
  const pg::Res& row = (*done)[0];
  if (row.rows() == 0) return Status::NotFound("no such interaction");
  if (row.IsNull(0, 0)) return std::optional<Feedback>();
  return std::optional<Feedback>(Feedback{std::strtod(std::string(row.Text(0, 0)).c_str(), nullptr),
                                          std::string(row.Text(0, 1)), row.Int(0, 2)});
}

Result<std::string> PostgresAnalyticsStore::OwnerOf(const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  pg::Query select{"SELECT user_id FROM interactions WHERE ts_us = $1::bigint AND interaction_id = $2 LIMIT 1",
                   {std::to_string(ts_us), interaction_id}};
  Result<std::vector<pg::Res>> done = Run(std::nullopt, {std::move(select)});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0) return Status::NotFound("no such interaction");
  return std::string((*done)[0].Text(0, 0));
}

}  // namespace omniflow
