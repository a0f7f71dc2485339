// A server wired without its worker pool, data store or in-process router (as an embedding or a
// partial set-up may be) answers the endpoints that need them with 503 and a reason, never by
// dereferencing what is missing. The fuzzer found the crash this guards against.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "api/context.h"
#include "api/route_table.h"
#include "auth/auth.h"

namespace omniflow::api {
namespace {

class PartialWiring : public ::testing::Test {
 protected:
  PartialWiring() {
    context_.auth = &auth_;
    RegisterRoutes(&context_, &router_);
  }

  // Dispatches a request as user "alice"; the handlers must answer before returning here.
  http::Response Call(std::string_view method, std::string_view target, std::string_view body) {
    http::Request request;
    request.method = method;
    request.SetTarget(target);
    request.headers = {{"Host", "localhost"}, {"X-User-Id", "alice"}, {"Content-Type", "application/json"}};
    request.body = body;
    std::optional<http::Response> answer;
    router_.Dispatch(request, [&answer](http::Response r) { answer = std::move(r); });
    EXPECT_TRUE(answer.has_value()) << target;
    return answer.value_or(http::Response{});
  }

  Authenticator auth_{AuthOptions{}};
  ApiContext context_;
  http::Router router_;
};

TEST_F(PartialWiring, DataFunctionsWithoutWorkersOrStoreAre503) {
  const char* update = R"({"target_blob_name":"tasks.json","entry_id":"e1","updates":{"a":1}})";
  http::Response r = Call("POST", "/api/update_data", update);
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("not enabled"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/api/list_data", "").status, 503);
  EXPECT_EQ(Call("GET", "/api/get_data?target_blob_name=tasks.json", "").status, 503);
}

TEST_F(PartialWiring, ProxyRouterToAFunctionWithoutItsStoreIs503) {
  http::Response r = Call("GET", "/api/proxy_router/get_interaction_history?limit=1", "");
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("not enabled"), std::string::npos) << r.body;
}

TEST_F(PartialWiring, EveryRouteWithoutItsDependenciesAnswersInsteadOfCrashing) {
  for (const Route& route : Routes()) {
    std::string path(route.pattern);
    for (auto [from, to] : {std::pair<std::string, std::string>{"{interaction_id}", "INT_X1"},
                            {"{thread_id}", "t1"}, {"{user_id}", "alice"}, {"*", "x.js"}}) {
      if (size_t at = path.find(from); at != std::string::npos) path.replace(at, from.size(), to);
    }
    http::Response r = Call(route.method, path, route.body_type.empty() ? "" : "{}");
    EXPECT_NE(r.status, 0) << route.method << " " << path;
    const std::string proxy = ProxyPattern(route);
    if (proxy.empty()) continue;
    std::string proxied = proxy;
    if (size_t at = proxied.find("{interaction_id}"); at != std::string::npos) {
      proxied.replace(at, 16, "INT_X1");
    }
    if (size_t at = proxied.find("{user_id}"); at != std::string::npos) {
      proxied.replace(at, 9, "alice");
    }
    EXPECT_NE(Call(route.method, proxied, route.body_type.empty() ? "" : "{}").status, 0)
        << proxied;
  }
}

TEST_F(PartialWiring, ToolCallHandlerWithoutWorkersIs503) {
  http::Response r = Call("POST", "/api/tool_call_handler", R"({"message":"hi"})");
  EXPECT_EQ(r.status, 503);
}

}  // namespace
}  // namespace omniflow::api
