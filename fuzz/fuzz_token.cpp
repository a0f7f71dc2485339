// libFuzzer target: the HS256 token verifier. Invariant: a token is only accepted when it is
// exactly what SignHs256 would produce for its payload with the secret (no forgery).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace omniflow;
  static const std::string kSecret = "fuzz-secret-0123456789abcdef0123";
  std::string_view token(reinterpret_cast<const char*>(data), size);
  static const TokenPolicy kPolicy;  // the defaults: a day's lifetime, no audience or issuer
  Result<TokenClaims> claims = VerifyHs256(token, kSecret, 1700000000, kPolicy);
  if (!claims.ok()) return 0;
  if (claims->sub.empty() || claims->exp <= 1700000000 ||
      claims->exp > 1700000000 + kPolicy.max_ttl_seconds) {
    std::abort();
  }
  // Accepted: the signature must be the real one for these header and payload bytes.
  size_t first = token.find('.'), second = token.rfind('.');
  std::string payload;
  if (!Base64UrlDecode(token.substr(first + 1, second - first - 1), &payload)) std::abort();
  std::string resigned = SignHs256(payload, kSecret);
  if (resigned.substr(resigned.rfind('.')) != token.substr(second)) std::abort();
  return 0;
}
