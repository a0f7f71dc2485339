// The stored form of an interaction in SQLite. interaction_id, timestamp, user_id and thread_id
// already live in columns, so `body` keeps only the rest of the canonical JSON object
// ({"user_message":...,"metadata":{...}}, still valid JSON for SQL's json_extract) and reads
// put the four fields back in front. That saves about 130 bytes per interaction (10% of a
// typical one). Rows stored whole (by older versions, or any JSON not in the canonical shape)
// are returned unchanged.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/interaction.h"

namespace omniflow {

// Sets `stored` to the compact body of `record` and returns true when its JSON starts with
// exactly the fields ExpandBody rebuilds; otherwise returns false (store record.json whole).
bool CompactBody(const InteractionRecord& record, std::string* stored);

// Whether `json`, when it is canonical (it begins with "interaction_id"), begins with exactly
// the fields the columns hold: an engine storing the JSON whole (PostgreSQL) checks its
// columns against it this way. Non-canonical JSON (older rows) has nothing to compare: true.
bool ColumnsMatch(std::string_view json, std::string_view interaction_id, int64_t ts_us,
                  std::string_view user_id, std::optional<std::string_view> thread_id);

// The canonical JSON of a row: `stored` itself when it is whole, else the columns' fields
// followed by the compact body.
std::string ExpandBody(std::string_view stored, std::string_view interaction_id, int64_t ts_us,
                       std::string_view user_id, std::optional<std::string_view> thread_id);

}  // namespace omniflow
