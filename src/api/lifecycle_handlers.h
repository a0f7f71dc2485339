// The data lifecycle's functions (issue 13, docs/api.md): retention overrides and legal holds
// (admin key), the purge on demand, erasure of one user with a signed receipt, and the receipt
// key. The route table says who may call each; the store's LifecycleStore does the work.
#pragma once

#include "api/call.h"
#include "api/context.h"
#include "http/request.h"

namespace omniflow::api {

// PUT /api/users/{user_id}/retention {"days": N}: N >= 1 keeps N days, 0 keeps forever.
void SetRetention(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/users/{user_id}/retention: {"user_id","days","source":"user"|"default"}.
void GetRetention(const ApiContext& context, const Call& call, http::Respond respond);
// DELETE /api/users/{user_id}/retention: 404 when the user has no override.
void DeleteRetention(const ApiContext& context, const Call& call, http::Respond respond);
// POST /api/retention/run [{"dry_run": true}]: one purge now, on a worker thread.
void RunRetention(const ApiContext& context, const Call& call, http::Respond respond);

// PUT /api/users/{user_id}/hold {"reason": "..."} (1-500 characters).
void SetHold(const ApiContext& context, const Call& call, http::Respond respond);
// DELETE /api/users/{user_id}/hold: 404 when the user is not held.
void ReleaseHold(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/holds
void ListHolds(const ApiContext& context, const Call& call, http::Respond respond);

// DELETE /api/users/{user_id}: erases the user's data in the store and the spool on a worker
// thread, then answers a receipt signed with the receipt key; 409 naming the hold when held.
void EraseUser(const ApiContext& context, const Call& call, http::Respond respond);
// GET /api/receipts/public-key: {"key_id","algorithm":"Ed25519","public_key_pem"}.
void GetReceiptPublicKey(const ApiContext& context, const Call& call, http::Respond respond);

}  // namespace omniflow::api
