#include "api/analytics_json.h"

#include <cmath>
#include <cstdio>

#include "api/analytics_access.h"
#include "core/ids.h"
#include "core/json.h"

namespace omniflow::api {

namespace {

void Key(std::string* out, const char* key) {
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void Int(std::string* out, const char* key, int64_t v) {
  Key(out, key);
  out->append(std::to_string(v));
  out->push_back(',');
}

void Str(std::string* out, const char* key, std::string_view v) {
  Key(out, key);
  AppendJsonString(out, v);
  out->push_back(',');
}

void Time(std::string* out, const char* key, int64_t ts_us) {
  Str(out, key, FormatTimestamp(ts_us));
}

void Num(std::string* out, const char* key, double v) {
  Key(out, key);
  if (!std::isfinite(v)) v = 0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  out->append(buffer);
  out->push_back(',');
}

// Replaces a trailing comma with `close`.
void Close(std::string* out, char close) {
  if (!out->empty() && out->back() == ',') out->pop_back();
  out->push_back(close);
  out->push_back(',');
}

void Finish(std::string* out) {
  if (!out->empty() && out->back() == ',') out->pop_back();
}

void Buckets(std::string* out, const char* key, const std::vector<VolumeBucket>& buckets) {
  Key(out, key);
  out->push_back('[');
  for (const VolumeBucket& b : buckets) {
    out->push_back('{');
    Time(out, "start", b.start_us);
    Int(out, "interactions", b.interactions);
    Int(out, "tool_calls", b.tool_calls);
    Int(out, "tool_failures", b.tool_failures);
    Close(out, '}');
  }
  Close(out, ']');
}

void Interaction(std::string* out, const InteractionView& v) {
  // The stored JSON is an object: splice "feedback" in before its closing brace.
  std::string_view body = v.json;
  while (!body.empty() && body.back() != '}') body.remove_suffix(1);
  if (body.empty()) return;
  body.remove_suffix(1);
  out->append(body);
  out->append(body.size() > 1 ? ",\"feedback\":" : "\"feedback\":");
  AppendFeedbackJson(out, v.feedback);
  out->append("},");
}

void Cursor(std::string* out, bool has_more, const std::optional<HistoryCursor>& next) {
  out->append(has_more ? "\"has_more\":true," : "\"has_more\":false,");
  Key(out, "next_cursor");
  if (has_more && next) {
    AppendJsonString(out, EncodeCursor(*next));
  } else {
    out->append("null");
  }
  out->push_back(',');
}

}  // namespace

void AppendFeedbackJson(std::string* out, const std::optional<Feedback>& feedback) {
  if (!feedback) {
    out->append("null");
    return;
  }
  out->push_back('{');
  Num(out, "score", feedback->score);
  Str(out, "comment", feedback->comment);
  Time(out, "updated_at", feedback->updated_us);
  Finish(out);
  out->push_back('}');
}

std::string StatsJson(const Stats& s, const AnalyticsScope& scope) {
  std::string out = "{\"status\":\"success\",\"scope\":{\"user_id\":";
  if (scope.user_id) {
    AppendJsonString(&out, *scope.user_id);
  } else {
    out.append("null");
  }
  out.append(",\"from\":");
  out.append(scope.from_us ? JsonString(FormatTimestamp(*scope.from_us)) : "null");
  out.append(",\"to\":");
  out.append(scope.to_us ? JsonString(FormatTimestamp(*scope.to_us)) : "null");
  out.append("},\"totals\":{");
  Int(&out, "interactions", s.interactions);
  Int(&out, "tool_calls", s.tool_calls);
  Int(&out, "tool_failures", s.tool_failures);
  Num(&out, "tool_failure_rate",
      s.tool_calls ? static_cast<double>(s.tool_failures) / s.tool_calls : 0);
  Int(&out, "active_users", s.active_users);
  Int(&out, "threads", s.threads);
  Close(&out, '}');
  Buckets(&out, "per_day", s.per_day);
  Buckets(&out, "per_hour", s.per_hour);
  Key(&out, "top_tools");
  out.push_back('[');
  for (const ToolUsage& t : s.top_tools) {
    out.push_back('{');
    Str(&out, "tool_name", t.tool_name);
    Int(&out, "calls", t.calls);
    Int(&out, "failures", t.failures);
    Num(&out, "failure_rate", t.calls ? static_cast<double>(t.failures) / t.calls : 0);
    Close(&out, '}');
  }
  Close(&out, ']');
  Key(&out, "top_users");
  out.push_back('[');
  for (const UserActivity& u : s.top_users) {
    out.push_back('{');
    Str(&out, "user_id", u.user_id);
    Int(&out, "interactions", u.interactions);
    Close(&out, '}');
  }
  Close(&out, ']');
  Key(&out, "top_threads");
  out.push_back('[');
  for (const ThreadActivity& t : s.top_threads) {
    out.push_back('{');
    Str(&out, "user_id", t.user_id);
    Str(&out, "thread_id", t.thread_id);
    Int(&out, "interactions", t.interactions);
    Time(&out, "first_timestamp", t.first_us);
    Time(&out, "last_timestamp", t.last_us);
    Close(&out, '}');
  }
  Close(&out, ']');
  Key(&out, "top_requests");
  out.push_back('[');
  for (const RequestCount& r : s.top_requests) {
    out.push_back('{');
    Str(&out, "text", r.text);
    Int(&out, "count", r.count);
    Close(&out, '}');
  }
  Close(&out, ']');
  Int(&out, "requests_sampled", s.requests_sampled);
  Key(&out, "feedback");
  out.push_back('{');
  Int(&out, "count", s.feedback.count);
  Int(&out, "positive", s.feedback.positive);
  Int(&out, "neutral", s.feedback.neutral);
  Int(&out, "negative", s.feedback.negative);
  Num(&out, "average", s.feedback.average);
  Close(&out, '}');
  Finish(&out);
  out.push_back('}');
  return out;
}

std::string UsersJson(const UsersPage& page) {
  std::string out = "{\"status\":\"success\",\"users\":[";
  for (const UserSummary& u : page.users) {
    out.push_back('{');
    Str(&out, "user_id", u.user_id);
    Int(&out, "interactions", u.interactions);
    Int(&out, "threads", u.threads);
    Time(&out, "first_seen", u.first_us);
    Time(&out, "last_seen", u.last_us);
    Close(&out, '}');
  }
  Close(&out, ']');
  Int(&out, "total", page.total);
  Finish(&out);
  out.push_back('}');
  return out;
}

std::string ThreadsJson(const ThreadsPage& page) {
  std::string out = "{\"status\":\"success\",\"threads\":[";
  for (const ThreadSummary& t : page.threads) {
    out.push_back('{');
    Str(&out, "user_id", t.user_id);
    Str(&out, "thread_id", t.thread_id);
    Int(&out, "interactions", t.interactions);
    Time(&out, "first_timestamp", t.first_us);
    Time(&out, "last_timestamp", t.last_us);
    Str(&out, "first_message", t.first_message);
    Str(&out, "last_message", t.last_message);
    Close(&out, '}');
  }
  Close(&out, ']');
  Int(&out, "total", page.total);
  Finish(&out);
  out.push_back('}');
  return out;
}

std::string ConversationJson(const std::string& user_id, const std::string& thread_id,
                             const ConversationPage& page) {
  std::string out = "{\"status\":\"success\",";
  Str(&out, "user_id", user_id);
  Str(&out, "thread_id", thread_id);
  out.append("\"interactions\":[");
  for (const InteractionView& v : page.items) Interaction(&out, v);
  Close(&out, ']');
  Int(&out, "total", page.total);
  Cursor(&out, page.has_more, page.next);
  Finish(&out);
  out.push_back('}');
  return out;
}

std::string SearchJson(const SearchPage& page) {
  std::string out = "{\"status\":\"success\",\"interactions\":[";
  for (const InteractionView& v : page.items) Interaction(&out, v);
  Close(&out, ']');
  Cursor(&out, page.has_more, page.next);
  Finish(&out);
  out.push_back('}');
  return out;
}

}  // namespace omniflow::api
