#include "api/analytics_handlers.h"
#include "api/respond.h"
#include "api/web_assets.h"

namespace omniflow::api {

void WebAsset(const ApiContext& context, const Call& call, http::Respond respond) {
  if (context.find_web_asset == nullptr) {
    return respond(ErrorFrom(Status::NotFound("the dashboard is not built into this server")));
  }
  std::string_view path = call.request.path;
  if (path == "/") path = "/index.html";
  const WebAssetFile* file = context.find_web_asset(path);
  if (file == nullptr) {
    return respond(ErrorFrom(Status::NotFound("no such file in the dashboard")));
  }
  http::Response r;
  r.status = 200;
  r.body = std::string(file->data);
  r.content_type = std::string(file->content_type);
  // Vite names assets by content hash, so they never change; the page itself always revalidates.
  const bool hashed = path.substr(0, 8) == "/assets/";
  r.headers.emplace_back("Cache-Control",
                         hashed ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
      "frame-ancestors 'none'");
  respond(std::move(r));
}

}  // namespace omniflow::api
