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
  JsonWriter(&r.body).BeginObject().Field("status", "error").Field("error", message).EndObject();
  return r;
}

namespace {

// The segments of `path` after its leading '/': "/a/b" -> {"a","b"}, "/" -> {""}.
std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsPlaceholder(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void Router::Add(std::string_view method, std::string_view pattern, RouteHandler handler) {
  routes_.push_back(
      Route{std::string(method), std::string(pattern), Split(pattern), std::move(handler)});
}

void Router::SetFallback(std::string_view prefix, Handler handler) {
  fallbacks_.emplace_back(std::string(prefix), std::move(handler));
}

bool Router::Match(const Route& route, std::string_view path, PathParams* params) {
  if (path.empty() || path.front() != '/') return false;
  path.remove_prefix(1);
  params->size = 0;
  const size_t n = route.segments.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& want = route.segments[i];
    if (want == "*" && i + 1 == n) return !path.empty();  // one or more further segments
    const size_t slash = path.find('/');
    const std::string_view got = path.substr(0, slash);
    const bool last = i + 1 == n;
    if (last != (slash == std::string_view::npos)) return false;
    if (IsPlaceholder(want)) {
      if (got.empty() || params->size == PathParams::kMax) return false;
      params->values[params->size++] = got;
    } else if (got != want) {
      return false;
    }
    if (!last) path.remove_prefix(slash + 1);
  }
  return true;
}

void Router::Dispatch(const Request& request, Respond respond, int* route) const {
  if (route != nullptr) *route = -1;
  std::string allowed;
  PathParams params;
  const Route* chosen = nullptr;
  for (const Route& route : routes_) {
    if (!Match(route, request.path, &params)) continue;
    if (route.method == request.method) {
      chosen = &route;
      break;
    }
    if (allowed.find(route.method) != std::string::npos) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  if (chosen != nullptr) {
    if (route != nullptr) *route = static_cast<int>(chosen - routes_.data());
    return chosen->handler(request, params, std::move(respond));
  }
  if (allowed.empty()) {
    for (const auto& [prefix, handler] : fallbacks_) {
      if (request.path.substr(0, prefix.size()) == prefix) return handler(request, std::move(respond));
    }
    respond(ErrorResponse(404, "no such endpoint; the API is described in docs/api.md"));
    return;
  }
  Response r = ErrorResponse(405, "method not allowed here; use " + allowed);
  r.headers.emplace_back("Allow", allowed);
  respond(std::move(r));
}

}  // namespace omniflow::http
