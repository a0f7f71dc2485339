#include "api/context.h"
#include "api/handlers.h"

namespace omniflow::api {

void RegisterRoutes(const ApiContext* context, http::Router* router) {
  auto bind = [context](void (*handler)(const ApiContext&, const http::Request&, http::Respond)) {
    return [context, handler](const http::Request& request, http::Respond respond) {
      handler(*context, request, std::move(respond));
    };
  };
  router->Add("POST", "/api/save_interaction", bind(&SaveInteraction));
  router->Add("GET", "/api/get_interaction_history", bind(&GetInteractionHistory));
  router->Add("GET", "/api/interactions/", bind(&GetInteraction));
  router->Add("GET", "/healthz", bind(&Healthz));
}

}  // namespace omniflow::api
