// The dashboard's files (web/dist), embedded into the binary at build time by
// cmake/embed_web.cmake, so that one file deploys.
#pragma once

#include <cstddef>
#include <string_view>

namespace omniflow::api {

struct WebAssetFile {
  std::string_view path;          // "/index.html", "/assets/index-3f2a1c.js"
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;
};

// The embedded file at `path`, or null.
const WebAssetFile* FindWebAsset(std::string_view path);

}  // namespace omniflow::api
