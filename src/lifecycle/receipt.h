// Signed erasure receipts: the canonical JSON a receipt is signed over, the server's Ed25519
// receipt key (made once in the data dir, or read from OMNIFLOW_RECEIPT_KEY_FILE), signing, and
// the offline check `omniflow verify-receipt` runs. Anyone holding the public key
// (GET /api/receipts/public-key) can check a receipt with OpenSSL alone: the signature is
// Ed25519 over the canonical JSON of the receipt without its "signature" member.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/lifecycle_store.h"

namespace omniflow::lifecycle {

// The canonical form of the JSON text `json`: object keys sorted by their UTF-8 bytes at every
// level, no whitespace, strings escaped as JsonWriter escapes them (only '"', '\' and control
// characters; other characters as UTF-8), integers as plain decimals. Without `drop_key` empty,
// the top-level member of that name is left out. InvalidArgument for malformed JSON, a number
// that is not an integer, or a key that appears twice in one object.
Result<std::string> CanonicalJson(std::string_view json, std::string_view drop_key = {});

// "sha256:" and the hex SHA-256 of the ids, sorted ascending, each followed by '\n'.
std::string InteractionDigest(std::vector<std::string> interaction_ids);

// An Ed25519 key pair. Immutable after construction; thread-safe.
class ReceiptKey {
 public:
  ~ReceiptKey();
  ReceiptKey(const ReceiptKey&) = delete;
  ReceiptKey& operator=(const ReceiptKey&) = delete;

  // A new random key pair (not stored).
  static Result<std::unique_ptr<ReceiptKey>> Generate();
  // The private key in PEM (PKCS#8) at `path`. NotFound when there is no such file;
  // InvalidArgument when it is not an Ed25519 private key.
  static Result<std::unique_ptr<ReceiptKey>> Load(const std::string& path);
  // Load, or when `path` does not exist, a new key pair written there first (mode 0600,
  // created exclusively and synced, so concurrent starts agree on one key).
  static Result<std::unique_ptr<ReceiptKey>> LoadOrCreate(const std::string& path);

  // The first 16 hex digits of the SHA-256 of the raw 32-byte public key.
  const std::string& key_id() const { return key_id_; }
  // The public key as PEM (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY").
  const std::string& public_key_pem() const { return public_pem_; }
  // The Ed25519 signature of `message`, base64url without padding.
  Result<std::string> Sign(std::string_view message) const;

 private:
  explicit ReceiptKey(EVP_PKEY* key);
  Status Init();
  EVP_PKEY* key_;  // owned
  std::string key_id_;
  std::string public_pem_;
};

// What one erasure did, as the receipt states it.
struct ErasureFacts {
  std::string receipt_id;  // e.g. NewReceiptId()
  std::string user_id;
  int64_t erased_at_us = 0;
  ErasureReport store;     // the store's counts and the erased interaction ids
  int64_t spooled = 0;     // records removed from the spool
};

// "rcpt_" and 16 random bytes in hex.
std::string NewReceiptId();

// The signed receipt, as canonical JSON: {"counts":{...},"digest":...,"erased_at":...,
// "key_id":...,"receipt_id":...,"signature":...,"user_id":...}.
Result<std::string> SignedReceiptJson(const ErasureFacts& facts, const ReceiptKey& key);

// Checks a receipt: `json` is the receipt object, or an answer holding it under "receipt".
// Its key_id must be the one of `public_key_pem`, and its signature must verify over its
// canonical JSON without "signature". Ok, or InvalidArgument saying why not.
Status VerifyReceipt(std::string_view json, std::string_view public_key_pem);

// The key_id of a PEM public key (as ReceiptKey::key_id), or InvalidArgument.
Result<std::string> KeyIdOfPublicKey(std::string_view public_key_pem);

}  // namespace omniflow::lifecycle
