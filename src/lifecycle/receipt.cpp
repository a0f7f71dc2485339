#include "lifecycle/receipt.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "auth/jwt.h"
#include "core/ids.h"
#include "core/json.h"

namespace omniflow::lifecycle {

namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}

Status Canonical(simdjson::dom::element element, std::string_view drop_key, std::string* out) {
  using simdjson::dom::element_type;
  switch (element.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      simdjson::dom::object object = element.get_object().value_unsafe();
      for (auto field : object) {
        if (!drop_key.empty() && field.key == drop_key) continue;
        members.emplace_back(field.key, field.value);
      }
      std::sort(members.begin(), members.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i > 0 && members[i].first == members[i - 1].first) {
          return Status::InvalidArgument("the key \"" + std::string(members[i].first) +
                                         "\" appears twice in one object");
        }
        if (i > 0) out->push_back(',');
        AppendJsonString(out, members[i].first);
        out->push_back(':');
        if (Status s = Canonical(members[i].second, {}, out); !s.ok()) return s;
      }
      out->push_back('}');
      return Status::Ok();
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      simdjson::dom::array array = element.get_array().value_unsafe();
      for (simdjson::dom::element item : array) {
        if (!first) out->push_back(',');
        first = false;
        if (Status s = Canonical(item, {}, out); !s.ok()) return s;
      }
      out->push_back(']');
      return Status::Ok();
    }
    case element_type::STRING:
      AppendJsonString(out, element.get_string().value_unsafe());
      return Status::Ok();
    case element_type::INT64:
      out->append(std::to_string(element.get_int64().value_unsafe()));
      return Status::Ok();
    case element_type::UINT64:
      out->append(std::to_string(element.get_uint64().value_unsafe()));
      return Status::Ok();
    case element_type::DOUBLE:
      return Status::InvalidArgument("canonical JSON here holds integers only, not fractions");
    case element_type::BOOL:
      out->append(element.get_bool().value_unsafe() ? "true" : "false");
      return Status::Ok();
    case element_type::NULL_VALUE:
      out->append("null");
      return Status::Ok();
  }
  return Status::InvalidArgument("unknown JSON value");
}

// The key_id of a raw Ed25519 public key.
Result<std::string> KeyIdOf(EVP_PKEY* key) {
  unsigned char raw[64];
  size_t n = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &n) != 1) {
    return Status::InvalidArgument("cannot read the raw public key");
  }
  return Sha256Hex(std::string_view(reinterpret_cast<const char*>(raw), n)).substr(0, 16);
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<PkeyPtr> ReadPublicKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || !EVP_PKEY_is_a(key.get(), "ED25519")) {
    return Status::InvalidArgument("the public key is not an Ed25519 public key in PEM");
  }
  return key;
}

}  // namespace

Result<std::string> CanonicalJson(std::string_view json, std::string_view drop_key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument("not valid JSON");
  }
  std::string out;
  if (Status s = Canonical(root, drop_key, &out); !s.ok()) return s;
  return out;
}

std::string InteractionDigest(std::vector<std::string> interaction_ids) {
  std::sort(interaction_ids.begin(), interaction_ids.end());
  std::string text;
  for (const std::string& id : interaction_ids) text.append(id).push_back('\n');
  return "sha256:" + Sha256Hex(text);
}

ReceiptKey::ReceiptKey(EVP_PKEY* key) : key_(key) {}

ReceiptKey::~ReceiptKey() { EVP_PKEY_free(key_); }

Status ReceiptKey::Init() {
  if (!EVP_PKEY_is_a(key_, "ED25519")) {
    return Status::InvalidArgument("the receipt key is not an Ed25519 key");
  }
  Result<std::string> id = KeyIdOf(key_);
  if (!id.ok()) return id.status();
  key_id_ = std::move(*id);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_) != 1) {
    return Status::Internal("cannot write the receipt public key as PEM");
  }
  public_pem_ = BioText(bio.get());
  return Status::Ok();
}

Result<std::unique_ptr<ReceiptKey>> ReceiptKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (raw == nullptr) return Status::Internal("cannot generate an Ed25519 key pair");
  std::unique_ptr<ReceiptKey> key(new ReceiptKey(raw));
  if (Status s = key->Init(); !s.ok()) return s;
  return key;
}

Result<std::unique_ptr<ReceiptKey>> ReceiptKey::Load(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    if (::access(path.c_str(), F_OK) != 0) {
      return Status::NotFound("no receipt key at " + path);
    }
    return Status::InvalidArgument("cannot read the receipt key " + path);
  }
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (raw == nullptr) {
    return Status::InvalidArgument(path + " is not a PEM private key");
  }
  std::unique_ptr<ReceiptKey> key(new ReceiptKey(raw));
  if (Status s = key->Init(); !s.ok()) {
    return Status::InvalidArgument(path + ": " + s.message());
  }
  return key;
}

Result<std::unique_ptr<ReceiptKey>> ReceiptKey::LoadOrCreate(const std::string& path) {
  Result<std::unique_ptr<ReceiptKey>> loaded = Load(path);
  if (loaded.ok() || loaded.status().code() != Status::Code::kNotFound) return loaded;
  Result<std::unique_ptr<ReceiptKey>> made = Generate();
  if (!made.ok()) return made;
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), (*made)->key_, nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    return Status::Internal("cannot write the receipt key as PEM");
  }
  const std::string pem = BioText(bio.get());
  // Written aside and linked into place: a crash leaves no half key, and of two servers starting
  // at once on one data dir the second finds the first one's key.
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Unavailable("cannot create the receipt key " + temp + ": " +
                               std::strerror(errno));
  }
  const bool written = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  const bool linked = written && ::link(temp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (!linked) {
    if (written && link_errno == EEXIST) return Load(path);
    return Status::Unavailable("cannot write the receipt key " + path);
  }
  return made;
}

Result<std::string> ReceiptKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned char signature[64];
  size_t n = sizeof signature;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), signature, &n,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1) {
    return Status::Internal("Ed25519 signing failed");
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(signature), n));
}

std::string NewReceiptId() { return RandomId("rcpt_", 16); }

Result<std::string> SignedReceiptJson(const ErasureFacts& facts, const ReceiptKey& key) {
  JsonWriter w;
  w.BeginObject()
      .Field("receipt_id", facts.receipt_id)
      .Field("user_id", facts.user_id)
      .Field("erased_at", FormatTimestamp(facts.erased_at_us))
      .Key("counts")
      .BeginObject()
      .Field("interactions", facts.store.interactions)
      .Field("tool_calls", facts.store.tool_calls)
      .Field("feedback", facts.store.feedback)
      .Field("threads", facts.store.threads)
      .Field("data_documents", facts.store.data_documents)
      .Field("data_entries", facts.store.data_entries)
      .Field("spooled", facts.spooled)
      .EndObject()
      .Field("digest", InteractionDigest(facts.store.interaction_ids))
      .Field("key_id", key.key_id())
      .EndObject();
  Result<std::string> unsigned_json = CanonicalJson(w.str());
  if (!unsigned_json.ok()) return unsigned_json.status();
  Result<std::string> signature = key.Sign(*unsigned_json);
  if (!signature.ok()) return signature.status();
  std::string signed_json = std::move(*unsigned_json);
  signed_json.pop_back();
  signed_json.append(",\"signature\":");
  AppendJsonString(&signed_json, *signature);
  signed_json.push_back('}');
  // "signature" sorts before "user_id" and after "receipt_id": canonicalise once more.
  return CanonicalJson(signed_json);
}

Result<std::string> KeyIdOfPublicKey(std::string_view public_key_pem) {
  Result<PkeyPtr> key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  return KeyIdOf(key->get());
}

Status VerifyReceipt(std::string_view json, std::string_view public_key_pem) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS ||
      !root.is_object()) {
    return Status::InvalidArgument("the receipt is not a JSON object");
  }
  simdjson::dom::element receipt = root;
  if (simdjson::dom::element inner; root["receipt"].get(inner) == simdjson::SUCCESS) {
    receipt = inner;
  }
  if (!receipt.is_object()) return Status::InvalidArgument("\"receipt\" is not an object");
  std::string_view signature, key_id;
  if (receipt["signature"].get(signature) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the receipt has no \"signature\" string");
  }
  if (receipt["key_id"].get(key_id) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the receipt has no \"key_id\" string");
  }
  Result<PkeyPtr> key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  Result<std::string> expected_id = KeyIdOf(key->get());
  if (!expected_id.ok()) return expected_id.status();
  if (key_id != *expected_id) {
    return Status::InvalidArgument("the receipt was signed with key " + std::string(key_id) +
                                   ", not with the given public key (" + *expected_id + ")");
  }
  std::string canonical;
  if (Status s = Canonical(receipt, "signature", &canonical); !s.ok()) return s;
  std::string raw_signature;
  if (!Base64UrlDecode(signature, &raw_signature) || raw_signature.size() != 64) {
    return Status::InvalidArgument("the signature is not 64 bytes in base64url without padding");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw_signature.data()),
                       raw_signature.size(),
                       reinterpret_cast<const unsigned char*>(canonical.data()),
                       canonical.size()) == 1;
  if (!valid) {
    return Status::InvalidArgument(
        "the signature does not match the receipt's content: it was altered, or not signed "
        "with this key");
  }
  return Status::Ok();
}

}  // namespace omniflow::lifecycle
