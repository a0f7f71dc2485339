// The analytics API and the embedded web UI, one file each (see docs/api.md). Cross-user views
// need the admin key or the open development mode; other credentials see their own user only.
#pragma once

#include "api/context.h"
#include "api/call.h"
#include "http/request.h"

namespace omniflow::api {

// GET /api/stats?from=&to=&user_id=&top=
void GetStats(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/users?limit=&offset=
void ListUsers(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/threads?user_id=&limit=&offset=
void ListThreads(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/threads/{thread_id}?user_id=&limit=&cursor=: the conversation, oldest first.
void GetThread(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/search?q=&user_id=&thread_id=&from=&to=&tool=&status=&feedback=&cursor=&limit=
void Search(const ApiContext& context, const Call& call, http::Respond respond);
// POST /api/interactions/{interaction_id}/feedback {"score": .., "comment": ".."}
void SetFeedback(const ApiContext& context, const Call& call, http::Respond respond);
// GET / and /assets/...: the dashboard, embedded in the binary.
void WebAsset(const ApiContext& context, const Call& call, http::Respond respond);

}  // namespace omniflow::api
