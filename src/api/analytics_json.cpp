#include "api/analytics_json.h"

#include "api/analytics_access.h"
#include "core/ids.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

// Rates, scores and averages are written to 6 significant digits.
constexpr int kDigits = 6;

void Time(std::string_view key, int64_t ts_us, JsonWriter* w) {
  w->Field(key, FormatTimestamp(ts_us));
}

// "tokens": {input, cached_input, output, reasoning}, "cost_usd", "unpriced_interactions".
void UsageFields(const UsageTotals& u, JsonWriter* w) {
  TokensAndCost(u, w);
  w->Field("unpriced_interactions", u.unpriced);
}

void Buckets(std::string_view key, const std::vector<VolumeBucket>& buckets, JsonWriter* w) {
  w->Key(key).BeginArray();
  for (const VolumeBucket& b : buckets) {
    w->BeginObject();
    Time("start", b.start_us, w);
    w->Field("interactions", b.interactions)
        .Field("tool_calls", b.tool_calls)
        .Field("tool_failures", b.tool_failures);
    UsageFields(b.usage, w);
    w->EndObject();
  }
  w->EndArray();
}

// The stored JSON, an object, with "feedback" added as its last member. A stored text that is
// not an object is left out.
void Interaction(const InteractionView& v, JsonWriter* w) {
  if (v.json.find('}') == std::string::npos) return;
  w->BeginObjectFrom(v.json).Key("feedback");
  WriteFeedback(v.feedback, w);
  w->EndObject();
}

void Cursor(bool has_more, const std::optional<HistoryCursor>& next, JsonWriter* w) {
  w->Field("has_more", has_more).Key("next_cursor");
  has_more && next ? w->String(EncodeCursor(*next)) : w->Null();
}

}  // namespace

void WriteFeedback(const std::optional<Feedback>& feedback, JsonWriter* w) {
  if (!feedback) {
    w->Null();
    return;
  }
  w->BeginObject()
      .Key("score")
      .Double(feedback->score, kDigits)
      .Field("comment", feedback->comment);
  Time("updated_at", feedback->updated_us, w);
  w->EndObject();
}

void TokensAndCost(const UsageTotals& u, JsonWriter* w) {
  w->Key("tokens")
      .BeginObject()
      .Field("input", u.input)
      .Field("cached_input", u.cached_input)
      .Field("output", u.output)
      .Field("reasoning", u.reasoning)
      .EndObject()
      .RawField("cost_usd", UsdText(u.cost_nanos));
}

std::string UsdText(int64_t nanos) {
  if (nanos < 0) return "-" + UsdText(-nanos);
  std::string text = std::to_string(nanos / 1'000'000'000);
  std::string fraction = std::to_string(nanos % 1'000'000'000);
  fraction.insert(0, 9 - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (!fraction.empty()) text += "." + fraction;
  return text;
}

std::string StatsJson(const Stats& s, const AnalyticsScope& scope) {
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("scope").BeginObject().Key("user_id");
  scope.user_id ? w.String(*scope.user_id) : w.Null();
  w.Key("from");
  scope.from_us ? w.String(FormatTimestamp(*scope.from_us)) : w.Null();
  w.Key("to");
  scope.to_us ? w.String(FormatTimestamp(*scope.to_us)) : w.Null();
  w.EndObject();
  w.Key("totals")
      .BeginObject()
      .Field("interactions", s.interactions)
      .Field("tool_calls", s.tool_calls)
      .Field("tool_failures", s.tool_failures)
      .Key("tool_failure_rate")
      .Double(s.tool_calls ? static_cast<double>(s.tool_failures) / s.tool_calls : 0, kDigits)
      .Field("active_users", s.active_users)
      .Field("threads", s.threads)
      .Field("usage_interactions", s.usage.interactions);
  UsageFields(s.usage, &w);
  w.EndObject();
  Buckets("per_day", s.per_day, &w);
  Buckets("per_hour", s.per_hour, &w);
  w.Key("top_tools").BeginArray();
  for (const ToolUsage& t : s.top_tools) {
    w.BeginObject()
        .Field("tool_name", t.tool_name)
        .Field("calls", t.calls)
        .Field("failures", t.failures)
        .Key("failure_rate")
        .Double(t.calls ? static_cast<double>(t.failures) / t.calls : 0, kDigits)
        .EndObject();
  }
  w.EndArray().Key("top_users").BeginArray();
  for (const UserActivity& u : s.top_users) {
    w.BeginObject().Field("user_id", u.user_id).Field("interactions", u.interactions).EndObject();
  }
  w.EndArray().Key("top_threads").BeginArray();
  for (const ThreadActivity& t : s.top_threads) {
    w.BeginObject()
        .Field("user_id", t.user_id)
        .Field("thread_id", t.thread_id)
        .Field("interactions", t.interactions);
    Time("first_timestamp", t.first_us, &w);
    Time("last_timestamp", t.last_us, &w);
    w.EndObject();
  }
  w.EndArray().Key("top_requests").BeginArray();
  for (const RequestCount& r : s.top_requests) {
    w.BeginObject().Field("text", r.text).Field("count", r.count).EndObject();
  }
  w.EndArray().Field("requests_sampled", s.requests_sampled);
  w.Key("feedback")
      .BeginObject()
      .Field("count", s.feedback.count)
      .Field("positive", s.feedback.positive)
      .Field("neutral", s.feedback.neutral)
      .Field("negative", s.feedback.negative)
      .Key("average")
      .Double(s.feedback.average, kDigits)
      .EndObject();
  w.Key("usage_by_model").BeginArray();
  for (const ModelUsage& m : s.usage_by_model) {
    w.BeginObject().Field("model", m.model).Field("interactions", m.usage.interactions);
    UsageFields(m.usage, &w);
    w.EndObject();
  }
  w.EndArray().Key("usage_by_user").BeginArray();
  for (const UserUsage& u : s.usage_by_user) {
    w.BeginObject().Field("user_id", u.user_id).Field("interactions", u.usage.interactions);
    UsageFields(u.usage, &w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.Release();
}

std::string UsersJson(const UsersPage& page) {
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("users").BeginArray();
  for (const UserSummary& u : page.users) {
    w.BeginObject()
        .Field("user_id", u.user_id)
        .Field("interactions", u.interactions)
        .Field("threads", u.threads);
    Time("first_seen", u.first_us, &w);
    Time("last_seen", u.last_us, &w);
    w.EndObject();
  }
  w.EndArray().Field("total", page.total).EndObject();
  return w.Release();
}

std::string ThreadsJson(const ThreadsPage& page) {
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("threads").BeginArray();
  for (const ThreadSummary& t : page.threads) {
    w.BeginObject()
        .Field("user_id", t.user_id)
        .Field("thread_id", t.thread_id)
        .Field("interactions", t.interactions);
    Time("first_timestamp", t.first_us, &w);
    Time("last_timestamp", t.last_us, &w);
    w.Field("first_message", t.first_message).Field("last_message", t.last_message).EndObject();
  }
  w.EndArray().Field("total", page.total).EndObject();
  return w.Release();
}

std::string ConversationJson(const std::string& user_id, const std::string& thread_id,
                             const ConversationPage& page) {
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("user_id", user_id)
      .Field("thread_id", thread_id)
      .Key("interactions")
      .BeginArray();
  for (const InteractionView& v : page.items) Interaction(v, &w);
  w.EndArray().Field("total", page.total);
  Cursor(page.has_more, page.next, &w);
  w.EndObject();
  return w.Release();
}

std::string SearchJson(const SearchPage& page) {
  JsonWriter w;
  w.BeginObject().Field("status", "success").Key("interactions").BeginArray();
  for (const InteractionView& v : page.items) Interaction(v, &w);
  w.EndArray();
  Cursor(page.has_more, page.next, &w);
  w.EndObject();
  return w.Release();
}

}  // namespace omniflow::api
