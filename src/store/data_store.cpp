#include "store/data_store.h"

namespace omniflow {

bool IsValidBlobName(std::string_view name) {
  constexpr std::string_view kSuffix = ".json";
  if (name.size() <= kSuffix.size() || name.size() > 64 + kSuffix.size()) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  for (char c : name.substr(0, name.size() - kSuffix.size())) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace omniflow
