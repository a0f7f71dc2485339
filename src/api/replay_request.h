// The body of POST /api/replays (and the CLI's `omniflow replay`) read into a ReplaySpec, every
// field validated with a message naming it. The filter is search's filter language
// (api/analytics_access.h ParseSearchQuery), as an object of strings.
#pragma once

#include <string_view>

#include "core/status.h"
#include "replay/replay_spec.h"

namespace omniflow::api {

// {"name", "filter": {"user_id", "thread_id", "from", "to", "tool", "status", "feedback", "q"},
//  "limit": 1..10000, "sample": "newest"|"random", "candidate": {"model", "system_prompt",
//  "base_url"}, "concurrency": 1..16}; only candidate is required, with a model or a
// system_prompt. InvalidArgument (TooLarge for an over-long prompt) otherwise.
Result<replay::ReplaySpec> ParseReplaySpec(std::string_view body);

}  // namespace omniflow::api
