// GET /api/chain/head (admin key): the hash chain's newest link, {"seq", "hash"}, for anchoring
// elsewhere; `omniflow verify --expect-head` checks an anchor later (docs/security.md).
#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

void GetChainHead(const ApiContext& context, const Call&, http::Respond respond) {
  if (context.chain == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("the hash chain is not available here")));
  }
  Result<trust::ChainHead> head = context.chain->Head();
  if (!head.ok()) return respond(StoreError(head.status()));
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("seq", head->seq)
      .Field("hash", trust::ChainHashText(head->hash))
      .EndObject();
  respond(JsonResponse(200, w.Release()));
}

}  // namespace omniflow::api
