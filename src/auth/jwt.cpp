// HS256 JSON Web Tokens: base64url over EVP_EncodeBlock/EVP_DecodeBlock, HMAC-SHA256 over
// OpenSSL's one-shot HMAC(), header and claims parsed with simdjson's DOM parser.
//
// VerifyHs256 works in this order, so that nothing about an unauthenticated token is trusted
// further than needed: length bound, three parts, header (must say alg HS256, no `crit`),
// signature (constant-time, before the payload is even decoded), then the claims exp, nbf, iat,
// iss, aud, sub against the TokenPolicy.
// Error messages say what is wrong but never echo the token, a claim value or the secret.
#include "auth/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <climits>
#include <optional>

namespace omniflow {
namespace {

// Tokens longer than this are refused before any decoding or hashing.
constexpr size_t kMaxTokenLength = 8 * 1024;
constexpr size_t kHs256Length = 32;  // SHA-256 output, the only valid signature length

// Chunk sizes for the OpenSSL block coders, whose lengths are ints: a multiple of 3 input bytes
// encodes to whole quanta, a multiple of 4 characters decodes to whole quanta.
// Kept small: the buffers live on the stack of whatever thread or coroutine verifies a token.
constexpr size_t kEncodeChunk = 3 * 1024;
constexpr size_t kDecodeChunk = 4 * 1024;

// The JOSE header every token this module signs carries.
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

// Value of a base64url character, or -1 for anything outside [A-Za-z0-9_-].
int Base64UrlValue(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// base64url character -> standard base64 character. REQUIRES: Base64UrlValue(c) >= 0.
char ToStandardAlphabet(char c) {
  if (c == '-') return '+';
  if (c == '_') return '/';
  return c;
}

// Decodes `quanta` (standard alphabet, length a multiple of 4, `pad` trailing '=' in the last
// quantum) and appends the bytes to `out`. False if OpenSSL refuses the input.
bool DecodeQuanta(std::string_view quanta, size_t pad, std::string* out) {
  std::array<unsigned char, kDecodeChunk / 4 * 3> buffer;
  int n = EVP_DecodeBlock(buffer.data(), reinterpret_cast<const unsigned char*>(quanta.data()),
                          static_cast<int>(quanta.size()));
  if (n < 0 || static_cast<size_t>(n) != quanta.size() / 4 * 3) return false;
  // EVP_DecodeBlock decodes padding as zero bytes; drop them.
  out->append(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(n) - pad);
  return true;
}

// HMAC-SHA256 of `data` under `key` into `mac`. False only if OpenSSL fails (out of memory, or a
// key longer than INT_MAX bytes).
bool HmacSha256(std::string_view key, std::string_view data,
                std::array<unsigned char, kHs256Length>* mac) {
  if (key.size() > static_cast<size_t>(INT_MAX)) return false;
  // HMAC() wants a non-null key pointer even for an empty key.
  static const unsigned char kEmptyKey = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kEmptyKey) : key.data();
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac->data(), &length);
  return result != nullptr && length == kHs256Length;
}

Status Malformed(std::string_view why) {
  return Status::Unauthenticated("malformed token: " + std::string(why));
}

// Parses `json` as a JSON object with the calling thread's parser. The returned object is
// valid until the next call on the same thread.
simdjson::simdjson_result<simdjson::dom::object> ParseObject(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  // The parser keeps the parsed document; `padded` may go away once parsing is done.
  return parser.parse(padded).get_object();
}

// A NumericDate claim (RFC 7519 section 2) as this module accepts it: a JSON integer from 0 to
// INT64_MAX seconds. RFC 7519 also allows fractions, but a float is where `1e308` (a token that
// never expires) hides, and no issuer needs sub-second dates; nullopt for anything else.
std::optional<int64_t> IntegerDate(simdjson::dom::element value) {
  // simdjson types a number written with a fraction or an exponent as DOUBLE, and an integer
  // above INT64_MAX as UINT64: both are refused.
  if (value.type() != simdjson::dom::element_type::INT64) return std::nullopt;
  const int64_t seconds = value.get_int64().value_unsafe();
  if (seconds < 0) return std::nullopt;
  return seconds;
}

// Whether `aud` (a string, or an array of strings, RFC 7519 section 4.1.3) names `audience`.
// An `aud` of any other shape, or an array with a non-string element, is refused as a whole.
Status CheckAudience(const std::optional<simdjson::dom::element>& aud,
                     std::string_view audience) {
  if (!aud) return Status::Unauthenticated("token audience (aud) is missing, one is required");
  std::string_view one;
  if (aud->get_string().get(one) == simdjson::SUCCESS) {
    if (one == audience) return Status::Ok();
    return Status::Unauthenticated("token audience (aud) does not match");
  }
  simdjson::dom::array many;
  if (aud->get_array().get(many) != simdjson::SUCCESS) {
    return Status::Unauthenticated("token audience (aud) must be a string or an array of strings");
  }
  bool found = false;
  for (simdjson::dom::element element : many) {
    if (element.get_string().get(one) != simdjson::SUCCESS) {
      return Status::Unauthenticated(
          "token audience (aud) must be a string or an array of strings");
    }
    found = found || one == audience;
  }
  if (!found) return Status::Unauthenticated("token audience (aud) does not match");
  return Status::Ok();
}

// Whether `iss` is the string `issuer`.
Status CheckIssuer(const std::optional<simdjson::dom::element>& iss, std::string_view issuer) {
  if (!iss) return Status::Unauthenticated("token issuer (iss) is missing, one is required");
  std::string_view value;
  if (iss->get_string().get(value) != simdjson::SUCCESS) {
    return Status::Unauthenticated("token issuer (iss) must be a string");
  }
  if (value != issuer) return Status::Unauthenticated("token issuer (iss) does not match");
  return Status::Ok();
}

// Checks the JOSE header: a JSON object whose single `alg` is exactly "HS256" and that asks for
// no critical extensions (RFC 7515 section 4.1.11: we understand none, so must refuse).
Status CheckHeader(std::string_view header_b64) {
  std::string header_json;
  if (!Base64UrlDecode(header_b64, &header_json)) return Malformed("header is not base64url");
  simdjson::dom::object header;
  if (ParseObject(header_json).get(header) != simdjson::SUCCESS) {
    return Malformed("header is not a JSON object");
  }
  int alg_count = 0;
  bool alg_ok = false;
  for (auto field : header) {
    if (field.key == "alg") {
      ++alg_count;
      std::string_view alg;
      alg_ok = field.value.get_string().get(alg) == simdjson::SUCCESS && alg == "HS256";
    } else if (field.key == "crit") {
      return Status::Unauthenticated(
          "token header has critical extensions (crit), none are supported");
    }
  }
  if (alg_count != 1 || !alg_ok) return Status::Unauthenticated("token algorithm must be HS256");
  return Status::Ok();
}

// The claims this module enforces, as found in the payload (each at most once).
struct RawClaims {
  std::optional<simdjson::dom::element> exp;
  std::optional<simdjson::dom::element> nbf;
  std::optional<simdjson::dom::element> iat;
  std::optional<simdjson::dom::element> iss;
  std::optional<simdjson::dom::element> aud;
  std::optional<simdjson::dom::element> sub;
};

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::array<unsigned char, kEncodeChunk / 3 * 4 + 1> buffer;  // + 1: EVP_EncodeBlock's NUL
  for (size_t pos = 0; pos < data.size(); pos += kEncodeChunk) {
    std::string_view chunk = data.substr(pos, kEncodeChunk);
    int n = EVP_EncodeBlock(buffer.data(), reinterpret_cast<const unsigned char*>(chunk.data()),
                            static_cast<int>(chunk.size()));
    out.append(reinterpret_cast<const char*>(buffer.data()), static_cast<size_t>(n));
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

// Accepts only canonical unpadded base64url: characters [A-Za-z0-9_-], a length that is not
// 1 mod 4, and zero bits in the unused low bits of the last character (so each byte string has
// exactly one encoding). On failure `*out` is left empty.
bool Base64UrlDecode(std::string_view text, std::string* out) {
  out->clear();
  for (char c : text) {
    if (Base64UrlValue(static_cast<unsigned char>(c)) < 0) return false;
  }
  const size_t tail = text.size() % 4;
  if (tail == 1) return false;
  if (tail != 0) {
    // 2 characters carry 1 byte (4 spare bits), 3 characters carry 2 bytes (2 spare bits).
    int last = Base64UrlValue(static_cast<unsigned char>(text.back()));
    int spare_mask = tail == 2 ? 0x0f : 0x03;
    if ((last & spare_mask) != 0) return false;
  }
  out->reserve(text.size() / 4 * 3 + 2);
  std::string quanta;
  quanta.reserve(std::min(text.size(), kDecodeChunk) + 4);
  const size_t whole = text.size() - tail;
  for (size_t pos = 0; pos < whole; pos += kDecodeChunk) {
    std::string_view chunk = text.substr(pos, std::min(kDecodeChunk, whole - pos));
    quanta.clear();
    for (char c : chunk) quanta.push_back(ToStandardAlphabet(c));
    if (!DecodeQuanta(quanta, 0, out)) {
      out->clear();
      return false;
    }
  }
  if (tail != 0) {
    quanta.clear();
    for (char c : text.substr(whole)) quanta.push_back(ToStandardAlphabet(c));
    const size_t pad = 4 - tail;
    quanta.append(pad, '=');
    if (!DecodeQuanta(quanta, pad, out)) {
      out->clear();
      return false;
    }
  }
  return true;
}

// Returns "" only if OpenSSL cannot compute the HMAC (out of memory), which no caller can
// mistake for a token.
std::string SignHs256(std::string_view payload_json, std::string_view secret) {
  std::string token = Base64UrlEncode(kHeaderJson);
  token.push_back('.');
  token.append(Base64UrlEncode(payload_json));
  std::array<unsigned char, kHs256Length> mac;
  if (!HmacSha256(secret, token, &mac)) return std::string();
  token.push_back('.');
  token.append(
      Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())));
  return token;
}

Result<TokenClaims> VerifyHs256(std::string_view token, std::string_view secret,
                                int64_t now_seconds, const TokenPolicy& policy) {
  if (token.empty()) return Malformed("empty");
  if (token.size() > kMaxTokenLength) {
    return Malformed("longer than " + std::to_string(kMaxTokenLength) + " bytes");
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed("expected three dot-separated parts");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty()) return Malformed("empty header or payload");

  // The algorithm is settled before any key is used.
  Status header = CheckHeader(header_b64);
  if (!header.ok()) return header;

  std::string signature;
  if (!Base64UrlDecode(signature_b64, &signature)) return Malformed("signature is not base64url");
  std::array<unsigned char, kHs256Length> expected;
  if (!HmacSha256(secret, token.substr(0, dot2), &expected)) {
    return Status::Internal("cannot compute HMAC-SHA256");
  }
  if (signature.size() != expected.size() ||
      CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    return Status::Unauthenticated("token signature is invalid");
  }

  std::string payload_json;
  if (!Base64UrlDecode(payload_b64, &payload_json)) return Malformed("payload is not base64url");
  simdjson::dom::object payload;
  if (ParseObject(payload_json).get(payload) != simdjson::SUCCESS) {
    return Malformed("payload is not a JSON object");
  }
  RawClaims raw;
  for (auto field : payload) {
    std::optional<simdjson::dom::element>* slot = field.key == "exp"   ? &raw.exp
                                                  : field.key == "nbf" ? &raw.nbf
                                                  : field.key == "iat" ? &raw.iat
                                                  : field.key == "iss" ? &raw.iss
                                                  : field.key == "aud" ? &raw.aud
                                                  : field.key == "sub" ? &raw.sub
                                                                       : nullptr;
    if (slot == nullptr) continue;
    // Two values for one claim would let different readers see different tokens.
    if (slot->has_value()) return Malformed("duplicate claim");
    *slot = field.value;
  }

  if (!raw.exp) return Status::Unauthenticated("token has no expiry (exp)");
  std::optional<int64_t> exp = IntegerDate(*raw.exp);
  if (!exp) return Malformed("exp must be a non-negative integer number of seconds");
  if (*exp <= now_seconds) return Status::Unauthenticated("token expired");
  // exp > now, so the difference is positive and fits in uint64_t whatever the two int64_ts.
  const uint64_t remaining = static_cast<uint64_t>(*exp) - static_cast<uint64_t>(now_seconds);
  if (policy.max_ttl_seconds <= 0 || remaining > static_cast<uint64_t>(policy.max_ttl_seconds)) {
    return Status::Unauthenticated("token lives longer than the cap of " +
                                   std::to_string(policy.max_ttl_seconds) +
                                   " seconds (OMNIFLOW_JWT_MAX_TTL)");
  }

  if (raw.nbf) {
    std::optional<int64_t> nbf = IntegerDate(*raw.nbf);
    if (!nbf) return Malformed("nbf must be a non-negative integer number of seconds");
    if (*nbf > now_seconds) return Status::Unauthenticated("token is not valid yet (nbf)");
  }

  if (raw.iat) {
    std::optional<int64_t> iat = IntegerDate(*raw.iat);
    if (!iat) return Malformed("iat must be a non-negative integer number of seconds");
    // iat >= 0, so the subtraction cannot overflow.
    if (*iat - kMaxIatSkewSeconds > now_seconds) {
      return Status::Unauthenticated("token is issued in the future (iat)");
    }
  }

  if (policy.issuer) {
    if (Status s = CheckIssuer(raw.iss, *policy.issuer); !s.ok()) return s;
  }
  if (policy.audience) {
    if (Status s = CheckAudience(raw.aud, *policy.audience); !s.ok()) return s;
  }

  std::string_view sub;
  if (!raw.sub || raw.sub->get_string().get(sub) != simdjson::SUCCESS || sub.empty()) {
    return Status::Unauthenticated("token has no subject (sub)");
  }

  TokenClaims claims;
  claims.sub = std::string(sub);
  claims.exp = *exp;
  return claims;
}

}  // namespace omniflow
