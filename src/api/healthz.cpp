#include "api/handlers.h"
#include "api/respond.h"

namespace omniflow::api {

void Healthz(const ApiContext& context, const http::Request&, http::Respond respond) {
  Status s = context.store->CheckWritable();
  if (!s.ok()) return respond(ErrorFrom(Status::Unavailable("store is not writable: " + s.message())));
  respond(JsonResponse(200, "{\"status\":\"ok\"}"));
}

}  // namespace omniflow::api
