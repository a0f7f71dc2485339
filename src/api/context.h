// What every API handler needs, owned by main and shared read-only by the handlers: the store,
// the group-commit writer, the id generator and the authenticator.
#pragma once

#include "auth/auth.h"
#include "core/ids.h"
#include "http/router.h"
#include "store/analytics_store.h"
#include "store/interaction_store.h"
#include "store/writer.h"

namespace omniflow::api {

struct ApiContext {
  InteractionStore* store = nullptr;
  Writer* writer = nullptr;
  IdGenerator* ids = nullptr;
  const Authenticator* auth = nullptr;
  AnalyticsStore* analytics = nullptr;  // stats, search, feedback (issue 7)
};

// Registers every endpoint of the API on `router`. `context` must outlive the router.
void RegisterRoutes(const ApiContext* context, http::Router* router);

}  // namespace omniflow::api
