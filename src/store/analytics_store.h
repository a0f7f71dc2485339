// An AnalyticsStore answers the dashboard's questions about stored interactions: stats over a
// time range, users, threads, a thread's conversation, full-text search and feedback. It reads
// the same database an InteractionStore writes (both are facets of one Database); results are plain
// structs, and src/api turns them into JSON, so one serializer serves every backend.
//
// Scoping: every query takes an optional user_id. The API layer decides who may omit it (the
// admin key, or the open development mode); the store applies it faithfully, so a query with a
// user_id never returns another user's data. All times are microseconds since the Unix epoch
// (UTC); ranges are half-open [from_us, to_us). All methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/interaction.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow {

// ---- Common filters --------------------------------------------------------------------------

struct AnalyticsScope {
  std::optional<std::string> user_id;  // none: every user (admin / open mode only)
  std::optional<int64_t> from_us;      // inclusive; none: since the beginning
  std::optional<int64_t> to_us;        // exclusive; none: until now and beyond
};

// ---- Stats -----------------------------------------------------------------------------------

// Token usage summed over the interactions that reported some, with its cost as priced when
// each was saved (docs/cost.md).
struct UsageTotals {
  int64_t interactions = 0;  // interactions with usage
  int64_t input = 0;         // all prompt tokens, cached ones included
  int64_t cached_input = 0;  // the cached part of input
  int64_t output = 0;        // all completion tokens, reasoning ones included
  int64_t reasoning = 0;     // the reasoning part of output
  int64_t cost_nanos = 0;    // cost of the priced ones, in 1e-9 USD
  int64_t unpriced = 0;      // interactions whose model had no price (tokens counted, no cost)

  void Add(const UsageTotals& other);
  bool operator==(const UsageTotals&) const = default;
};

// One bucket of a time series. `start_us` is the UTC start of the day or hour.
struct VolumeBucket {
  VolumeBucket(int64_t start = 0, int64_t n = 0, int64_t calls = 0, int64_t failures = 0)
      : start_us(start), interactions(n), tool_calls(calls), tool_failures(failures) {}

  int64_t start_us = 0;
  int64_t interactions = 0;
  int64_t tool_calls = 0;
  int64_t tool_failures = 0;
  UsageTotals usage;
};

struct ModelUsage {
  std::string model;  // metadata.model as saved; "" when none was given
  UsageTotals usage;
};

struct UserUsage {
  std::string user_id;
  UsageTotals usage;
};

struct ToolUsage {
  std::string tool_name;
  int64_t calls = 0;
  int64_t failures = 0;  // calls whose status is not "success"
  // failure_rate = failures / calls, computed by the serializer.
};

// A user request, normalised (lower-cased, whitespace collapsed, trimmed, at most 120
// characters), with how often it occurs.
struct RequestCount {
  std::string text;
  int64_t count = 0;
};

struct FeedbackSummary {
  int64_t count = 0;     // interactions with feedback
  int64_t positive = 0;  // score >= 0.5 (thumbs up is 1)
  int64_t neutral = 0;   // 0 <= score < 0.5 (thumbs sideways is 0)
  int64_t negative = 0;  // score < 0 (thumbs down is -1)
  double average = 0;    // mean score (0 when count == 0)
};

struct UserActivity {
  std::string user_id;
  int64_t interactions = 0;  // within the scope's time range
};

struct ThreadActivity {
  std::string user_id;
  std::string thread_id;
  int64_t interactions = 0;  // all time
  int64_t first_us = 0;
  int64_t last_us = 0;
};

struct StatsQuery {
  AnalyticsScope scope;
  int top_n = 10;  // length of the top tools / users / threads / requests lists (1..100)
};

// Aggregates are kept per UTC hour, so from/to act on whole hours (rounded down).
struct Stats {
  int64_t interactions = 0;
  int64_t tool_calls = 0;
  int64_t tool_failures = 0;
  int64_t active_users = 0;         // users with an interaction in range (SQLite: whole UTC days)
  int64_t threads = 0;              // threads with activity overlapping the range
  std::vector<VolumeBucket> per_day;   // oldest first, days without activity omitted
  std::vector<VolumeBucket> per_hour;  // oldest first, hours without activity omitted
  std::vector<ToolUsage> top_tools;    // most calls first
  std::vector<UserActivity> top_users;        // most interactions first
  std::vector<ThreadActivity> top_threads;    // most interactions first
  std::vector<RequestCount> top_requests;     // most frequent first
  int64_t requests_sampled = 0;  // how many recent interactions top_requests was computed from
  FeedbackSummary feedback;
  UsageTotals usage;  // tokens and cost over the range (per_day has each day's)
  std::vector<ModelUsage> usage_by_model;  // most cost first, then most tokens (top_n)
  std::vector<UserUsage> usage_by_user;    // most cost first, then most tokens (top_n)
};

// ---- Users and threads -----------------------------------------------------------------------

struct UserSummary {
  std::string user_id;
  int64_t interactions = 0;
  int64_t threads = 0;
  int64_t first_us = 0;
  int64_t last_us = 0;
};

struct UsersQuery {
  std::optional<std::string> user_id;  // only this user (a user's own view)
  int limit = 100;                     // 1..1000; most recently active first
  int64_t offset = 0;
};

struct UsersPage {
  std::vector<UserSummary> users;
  int64_t total = 0;
};

struct ThreadSummary {
  std::string user_id;
  std::string thread_id;
  int64_t interactions = 0;
  int64_t first_us = 0;
  int64_t last_us = 0;
  std::string first_message;  // the thread's first user_message (plain text, may be truncated)
  std::string last_message;   // the thread's latest user_message (plain text, may be truncated)
};

struct ThreadsQuery {
  std::optional<std::string> user_id;  // none: threads of every user (admin / open mode)
  int limit = 100;                     // 1..1000; most recently active first
  int64_t offset = 0;
};

struct ThreadsPage {
  std::vector<ThreadSummary> threads;
  int64_t total = 0;
};

// ---- Interactions with feedback --------------------------------------------------------------

struct Feedback {
  double score = 0;     // -1, 0, 1 or a number in [0, 1]
  std::string comment;  // plain text (validated UTF-8), may be empty
  int64_t updated_us = 0;
};

// One rating of a batch (AnalyticsStore::SetFeedbacks).
struct FeedbackWrite {
  std::string user_id;
  std::string interaction_id;
  Feedback feedback;
};

// One stored interaction: its canonical JSON (spliced verbatim into responses), its feedback,
// if any, and its token usage as stored beside it (none when it reported no usage).
struct InteractionView {
  std::string json;
  std::optional<Feedback> feedback;
  HistoryCursor position;  // its place in the newest-first order
  std::optional<StoredUsage> usage;
};

struct ConversationQuery {
  std::string user_id;  // required: thread ids are per user
  std::string thread_id;
  int limit = 500;                      // 1..1000
  std::optional<HistoryCursor> after;   // rows strictly newer than this position
};

struct ConversationPage {
  std::vector<InteractionView> items;  // oldest first
  int64_t total = 0;                   // interactions in the thread
  bool has_more = false;
  std::optional<HistoryCursor> next;   // pass as `after` for the next page
};

// ---- Search ----------------------------------------------------------------------------------

enum class ToolStatusFilter { kAny, kSuccess, kFailed };
enum class FeedbackFilter { kAny, kWith, kWithout, kPositive, kNegative };

struct SearchQuery {
  AnalyticsScope scope;
  std::string q;                         // substring search over user_message and
                                         // assistant_response, any script; empty: no text filter
  std::optional<std::string> thread_id;  // with scope.user_id when given
  std::optional<std::string> tool;       // interactions that called this tool
  // kFailed: at least one failed tool call (of `tool`, when given); kSuccess: none failed.
  ToolStatusFilter status = ToolStatusFilter::kAny;
  FeedbackFilter feedback = FeedbackFilter::kAny;
  int limit = 50;                        // 1..200
  std::optional<HistoryCursor> after;    // rows strictly older than this position
};

struct SearchPage {
  std::vector<InteractionView> items;  // newest first
  bool has_more = false;
  std::optional<HistoryCursor> next;   // pass as `after` for the next page
};

// ---- The interface ---------------------------------------------------------------------------

class AnalyticsStore {
 public:
  virtual ~AnalyticsStore() = default;

  virtual Result<Stats> GetStats(const StatsQuery& query) = 0;
  virtual Result<UsersPage> ListUsers(const UsersQuery& query) = 0;
  virtual Result<ThreadsPage> ListThreads(const ThreadsQuery& query) = 0;
  // NotFound when the user has no such thread.
  virtual Result<ConversationPage> GetConversation(const ConversationQuery& query) = 0;
  // InvalidArgument when `q` cannot be searched (e.g. too long).
  virtual Result<SearchPage> Search(const SearchQuery& query) = 0;

  // Sets (replacing) the feedback on interaction `interaction_id` of `user_id`. NotFound when
  // the interaction does not exist or belongs to another user (indistinguishable).
  virtual Status SetFeedback(const std::string& user_id, const std::string& interaction_id,
                             const Feedback& feedback) = 0;
  // Sets several ratings as SetFeedback sets each. An engine that can commits them in one
  // transaction, all or none, so that a bulk writer (demo-data) pays one commit instead of one
  // per rating; the default sets them one by one and stops at the first failure.
  virtual Status SetFeedbacks(std::span<const FeedbackWrite> writes) {
    for (const FeedbackWrite& w : writes) {
      if (Status s = SetFeedback(w.user_id, w.interaction_id, w.feedback); !s.ok()) return s;
    }
    return Status::Ok();
  }
  // The feedback on that interaction: nullopt when none; NotFound as above.
  virtual Result<std::optional<Feedback>> GetFeedback(const std::string& user_id,
                                                      const std::string& interaction_id) = 0;
  // The owner of `interaction_id`, for cross-user (admin) feedback; NotFound when absent.
  virtual Result<std::string> OwnerOf(const std::string& interaction_id) = 0;
};

}  // namespace omniflow
