#include "http/router.h"

#include "core/json.h"

namespace omniflow::http {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

Response ErrorResponse(int status, std::string_view message) {
  Response r;
  r.status = status;
  r.body.reserve(message.size() + 32);
  r.body.append("{\"status\":\"error\",\"error\":");
  AppendJsonString(&r.body, message);
  r.body.push_back('}');
  return r;
}

void Router::Add(std::string_view method, std::string path, Handler handler) {
  bool prefix = path.size() > 1 && path.back() == '/';  // "/" alone is exact
  routes_.push_back(Route{std::string(method), std::move(path), prefix, std::move(handler)});
}

void Router::Dispatch(const Request& request, Respond respond) const {
  std::string allowed;
  for (const Route& route : routes_) {
    bool match = route.prefix ? (request.path.size() >= route.path.size() &&
                                 request.path.substr(0, route.path.size()) == route.path)
                              : request.path == route.path;
    if (!match) continue;
    if (route.method == request.method) {
      route.handler(request, std::move(respond));
      return;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (allowed.empty()) {
    respond(ErrorResponse(404, "no such endpoint; the API is described in docs/api.md"));
    return;
  }
  Response r = ErrorResponse(405, "method not allowed here; use " + allowed);
  r.headers.emplace_back("Allow", allowed);
  respond(std::move(r));
}

}  // namespace omniflow::http
