// The JSON of the analytics API, built once here for every AnalyticsStore backend. Stored
// interactions are spliced in verbatim, with their feedback added as a "feedback" member.
#pragma once

#include <string>

#include "core/json.h"
#include "store/analytics_store.h"

namespace omniflow::api {

std::string StatsJson(const Stats& stats, const AnalyticsScope& scope);
std::string UsersJson(const UsersPage& page);
std::string ThreadsJson(const ThreadsPage& page);
std::string ConversationJson(const std::string& user_id, const std::string& thread_id,
                             const ConversationPage& page);
std::string SearchJson(const SearchPage& page);
// Nano-USD as an exact decimal number of USD ("0.0074", "12", "0"): the cost_usd of every answer.
std::string UsdText(int64_t nanos);
// "tokens": {input, cached_input, output, reasoning} and "cost_usd" (of the priced ones), as
// /api/stats and the replay summaries give them.
void TokensAndCost(const UsageTotals& u, JsonWriter* w);
// Writes {"score":..,"comment":"..","updated_at":".."}, or null without feedback.
void WriteFeedback(const std::optional<Feedback>& feedback, JsonWriter* w);

}  // namespace omniflow::api
