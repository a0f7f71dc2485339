// What a handler receives once the route table has matched, validated and authenticated a
// request (see route_table.h): the request, its parsed query, its typed path parameters and the
// verified caller. Handlers never authenticate or cut paths apart themselves.
#pragma once

#include <array>
#include <string>

#include "auth/auth.h"
#include "core/query.h"
#include "http/request.h"
#include "http/router.h"

namespace omniflow::api {

struct ApiContext;

// Who is calling, as verified.
struct Caller {
  std::string user_id;     // the user acted for; empty only when all_users and none was named
  bool all_users = false;  // may see and act on every user's data (admin key; open dev mode)
  Identity::Kind kind = Identity::Kind::kOpen;
  bool token = false;      // authenticated by a bearer token (forwardable upstream)
};

struct Call {
  const http::Request& request;
  const QueryParams& query;
  // The path's parameters, percent-decoded and checked against their grammar, in the order of
  // the route's pattern.
  std::array<std::string, http::PathParams::kMax> params;
  Caller caller;
};

using HandlerFn = void (*)(const ApiContext&, const Call&, http::Respond);

}  // namespace omniflow::api
