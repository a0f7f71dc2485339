// GET /metrics and GET /openapi.json: what operators and client generators read about the
// server itself.
#include "api/handlers.h"
#include "api/openapi.h"
#include "metrics/exposition.h"
#include "metrics/registry.h"

namespace omniflow::api {

void GetMetrics(const ApiContext&, const Call&, http::Respond respond) {
  http::Response r;
  r.body = metrics::Global().Render();
  r.content_type = std::string(metrics::kExpositionContentType);
  respond(std::move(r));
}

void GetOpenApi(const ApiContext&, const Call&, http::Respond respond) {
  http::Response r;
  r.body = OpenApiJson();
  respond(std::move(r));
}

}  // namespace omniflow::api
