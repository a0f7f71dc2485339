#include "api/context.h"
#include "api/analytics_handlers.h"
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
  router->Add("POST", "/api/tool_call_handler", bind(&ToolCallHandler));
  router->Add("GET", "/api/get_data", bind(&GetData));
  router->Add("GET", "/api/list_data", bind(&ListData));
  router->Add("POST", "/api/add_new_data", bind(&AddNewData));
  router->Add("POST", "/api/update_data", bind(&UpdateData));
  router->Add("POST", "/api/delete_data", bind(&DeleteData));
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    router->Add(method, "/api/proxy_router/", bind(&ProxyRouter));
    router->Add(method, "/api/proxy_router", bind(&ProxyRouter));
  }
  router->Add("GET", "/healthz", bind(&Healthz));
  // Analytics (issue 7) and the embedded dashboard.
  router->Add("GET", "/api/stats", bind(&GetStats));
  router->Add("GET", "/api/users", bind(&ListUsers));
  router->Add("GET", "/api/threads", bind(&ListThreads));
  router->Add("GET", "/api/threads/", bind(&GetThread));
  router->Add("GET", "/api/search", bind(&Search));
  router->Add("POST", "/api/interactions/", bind(&SetFeedback));
  router->Add("GET", "/", bind(&WebAsset));
  router->Add("GET", "/index.html", bind(&WebAsset));
  router->Add("GET", "/favicon.svg", bind(&WebAsset));
  router->Add("GET", "/assets/", bind(&WebAsset));
}

}  // namespace omniflow::api
