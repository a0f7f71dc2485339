// GET /api/receipts/public-key: the key that verifies erasure receipts; needs no credentials.
#include "api/lifecycle_handlers.h"
#include "api/respond.h"
#include "core/json.h"

namespace omniflow::api {

void GetReceiptPublicKey(const ApiContext& context, const Call&, http::Respond respond) {
  const lifecycle::ReceiptKey* key = context.lifecycle.receipt_key;
  if (key == nullptr) {
    return respond(ErrorFrom(Status::Unavailable("erasure receipts are not enabled here")));
  }
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("key_id", key->key_id())
      .Field("algorithm", "Ed25519")
      .Field("public_key_pem", key->public_key_pem())
      .EndObject();
  respond(JsonResponse(200, w.Release()));
}

}  // namespace omniflow::api
