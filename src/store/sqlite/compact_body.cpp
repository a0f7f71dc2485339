#include "store/sqlite/compact_body.h"

#include "core/ids.h"

namespace omniflow {

namespace {

constexpr std::string_view kWhole = "{\"interaction_id\":\"";

// {"interaction_id":"..","timestamp":"..","user_id":"..","thread_id":"..",   (ids need no
// escaping: they are validated to plain characters before they get here)
void AppendPrefix(std::string* out, std::string_view interaction_id, int64_t ts_us,
                  std::string_view user_id, std::optional<std::string_view> thread_id) {
  out->append(kWhole).append(interaction_id);
  out->append("\",\"timestamp\":\"").append(FormatTimestamp(ts_us));
  out->append("\",\"user_id\":\"").append(user_id).append("\",\"thread_id\":");
  if (thread_id) {
    out->append("\"").append(*thread_id).append("\",");
  } else {
    out->append("null,");
  }
}

}  // namespace

bool CompactBody(const InteractionRecord& record, std::string* stored) {
  std::string prefix;
  prefix.reserve(160);
  std::optional<std::string_view> thread;
  if (record.thread_id) thread = *record.thread_id;
  AppendPrefix(&prefix, record.interaction_id, record.ts_us, record.user_id, thread);
  const std::string& json = record.json;
  if (json.size() <= prefix.size() + 1 || json.compare(0, prefix.size(), prefix) != 0 ||
      json[prefix.size()] != '"') {
    return false;
  }
  stored->assign(1, '{');
  stored->append(json, prefix.size(), std::string::npos);
  return true;
}

bool ColumnsMatch(std::string_view json, std::string_view interaction_id, int64_t ts_us,
                  std::string_view user_id, std::optional<std::string_view> thread_id) {
  if (json.substr(0, kWhole.size()) != kWhole) return true;
  std::string prefix;
  prefix.reserve(160);
  AppendPrefix(&prefix, interaction_id, ts_us, user_id, thread_id);
  return json.size() > prefix.size() && json.substr(0, prefix.size()) == prefix;
}

std::string ExpandBody(std::string_view stored, std::string_view interaction_id, int64_t ts_us,
                       std::string_view user_id, std::optional<std::string_view> thread_id) {
  if (stored.substr(0, kWhole.size()) == kWhole || stored.size() < 2 || stored[0] != '{') {
    return std::string(stored);
  }
  std::string out;
  out.reserve(stored.size() + 160);
  AppendPrefix(&out, interaction_id, ts_us, user_id, thread_id);
  out.append(stored.substr(1));
  return out;
}

}  // namespace omniflow
