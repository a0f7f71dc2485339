#include "http/request_id.h"

#include <cstdint>
#include <random>

namespace omniflow::http {

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string_view RequestIdFor(std::optional<std::string_view> given, std::string* storage) {
  if (given && IsValidRequestId(*given)) return *given;
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  storage->assign(20, '0');
  uint64_t bits = random();
  for (size_t i = 0; i < 16; ++i, bits >>= 4) (*storage)[4 + i] = kHex[bits & 15];
  storage->replace(0, 4, "req-");
  return *storage;
}

}  // namespace omniflow::http
