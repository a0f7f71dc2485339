// Hex SHA-256 of a text (OpenSSL), for fingerprints that must match across retries: an
// idempotent save's request hash, an OTLP interaction's id and key.
#pragma once

#include <string>
#include <string_view>

namespace omniflow {

// The SHA-256 of `text` as 64 lower-case hex digits. Thread-safe.
std::string Sha256Hex(std::string_view text);

}  // namespace omniflow
