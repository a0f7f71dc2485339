// The Router maps method and path to a handler: exact paths ("/api/save_interaction") and path
// prefixes with one trailing segment ("/api/interactions/{id}"). Unknown paths get 404 and a
// known path with the wrong method gets 405 with an Allow header. Immutable after set-up, so
// Dispatch is thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace omniflow::http {

class Router {
 public:
  // `path` is exact unless it ends in '/' (and is not "/" itself), in which case it matches
  // every path below it.
  void Add(std::string_view method, std::string path, Handler handler);
  void Dispatch(const Request& request, Respond respond) const;

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// A JSON error response: {"status":"error","error":"<message>"}.
Response ErrorResponse(int status, std::string_view message);

}  // namespace omniflow::http
