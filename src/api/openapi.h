// The OpenAPI 3.1 description of omniflow's HTTP surface, generated from the route table (and
// proxy_router's forms of its routes), so that it cannot drift from what the server serves:
// each route's method, path with its typed parameters, security, body media type and summary.
// GET /openapi.json serves it.
#pragma once

#include <string>

namespace omniflow::api {

// The document as compact JSON. The same for every call (the table is constant).
const std::string& OpenApiJson();

}  // namespace omniflow::api
