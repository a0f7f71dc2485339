// The replay routes (issue 16, docs/replay.md): start a replay, list them, one's progress and
// summary, its results paged, and cancel-and-remove. Admin key only (the route table).
#pragma once

#include "api/call.h"
#include "api/context.h"

namespace omniflow::api {

// A replay as GET /api/replays/{replay_id} answers it: its state, progress and summary.
std::string ReplayStatusJson(const ReplayInfo& info, const ReplaySummary& summary);

// POST /api/replays: 202 {"replay_id"}; the replay runs in the background.
void StartReplay(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/replays: every replay, newest first, with its progress.
void ListReplays(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/replays/{replay_id}: state, progress and summary.
void GetReplay(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/replays/{replay_id}/results?cursor=&limit=&changed=true: replayed items beside
// their originals, paged with the listings' cursor.
void GetReplayResults(const ApiContext& context, const Call& call, http::Respond respond);
// DELETE /api/replays/{replay_id}: stops it if it runs and removes it with its results.
void DeleteReplay(const ApiContext& context, const Call& call, http::Respond respond);

}  // namespace omniflow::api
