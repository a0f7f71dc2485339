#include "trust/chain.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace omniflow::trust {

namespace {

constexpr std::string_view kPrefix = "sha256:";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string ChainHashText(const ChainHash& hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(kPrefix);
  text.reserve(kPrefix.size() + 64);
  for (uint8_t b : hash) {
    text += kHex[b >> 4];
    text += kHex[b & 15];
  }
  return text;
}

Result<ChainHash> ParseChainHash(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix || text.size() != kPrefix.size() + 64) {
    return Status::InvalidArgument("a chain hash is \"sha256:\" and 64 lower-case hex digits");
  }
  ChainHash hash;
  for (size_t i = 0; i < hash.size(); ++i) {
    int hi = HexValue(text[kPrefix.size() + 2 * i]);
    int lo = HexValue(text[kPrefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("a chain hash is \"sha256:\" and 64 lower-case hex digits");
    }
    hash[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return hash;
}

std::optional<ChainHash> ChainHashFromBytes(std::string_view bytes) {
  if (bytes.size() != 32) return std::nullopt;
  ChainHash hash;
  std::memcpy(hash.data(), bytes.data(), hash.size());
  return hash;
}

namespace {

// SHA-256, fetched from OpenSSL's provider once: EVP_sha256() in EVP_DigestInit_ex looks the
// implementation up again on every call, a quarter of the time of a 1.3 KB record's link.
const EVP_MD* Sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

}  // namespace

ChainHasher::ChainHasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) throw std::bad_alloc();
}

ChainHasher::~ChainHasher() { EVP_MD_CTX_free(ctx_); }

ChainHash ChainHasher::Next(const ChainHash& prev, std::string_view record_json) {
  ChainHash out;
  unsigned int length = 0;
  // SHA-256 cannot fail on memory it is given; a failure here is OpenSSL broken, which the
  // all-zero result would make every verification report.
  if (EVP_DigestInit_ex2(ctx_, Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx_, prev.data(), prev.size()) != 1 ||
      EVP_DigestUpdate(ctx_, record_json.data(), record_json.size()) != 1 ||
      EVP_DigestFinal_ex(ctx_, out.data(), &length) != 1) {
    out.fill(0);
  }
  return out;
}

ChainVerifier::ChainVerifier(int64_t from_seq, ChainHash prev, int64_t contiguous_from)
    : prev_(prev), contiguous_from_(contiguous_from), last_seq_(from_seq - 1) {}

std::string ChainVerifier::Describe(const ChainRecord& record) {
  switch (record.kind) {
    case ChainRecord::Kind::kInteraction:
      return "interaction " + record.id;
    case ChainRecord::Kind::kAudit:
      return "audit entry " + record.id;
    case ChainRecord::Kind::kTombstone:
      return "tombstone of " + record.id;
  }
  return record.id;
}

bool ChainVerifier::Break(const ChainRecord& record, std::string why) {
  break_ = ChainBreak{record.seq, Describe(record), std::move(why)};
  broken_record_ = record;
  return false;
}

bool ChainVerifier::Feed(const ChainRecord& record) {
  if (break_) return false;
  if (record.seq <= last_seq_) {
    return Break(record, "order changed: seq " + std::to_string(record.seq) + " came after " +
                             std::to_string(last_seq_));
  }
  // The first seq after the last one that should have been there.
  const int64_t missing = std::max(last_seq_ + 1, contiguous_from_);
  if (missing < record.seq) return BreakMissing(missing, record.seq);
  if (!record.stored) return Break(record, "its stored hash is not 32 bytes");
  if (!record.columns_differ.empty()) {
    return Break(record, "content changed: " + record.columns_differ);
  }
  if (record.kind == ChainRecord::Kind::kTombstone) {
    // The content is gone by design; the tombstone carries the chain on with its hash.
    prev_ = *record.stored;
  } else {
    ChainHash computed = hasher_.Next(prev_, record.json);
    if (computed != *record.stored) {
      return Break(record, "content changed: its JSON does not hash to the stored hash");
    }
    prev_ = computed;
  }
  last_seq_ = record.seq;
  ++verified_;
  seen_.emplace(prev_, record.seq);
  return true;
}

bool ChainVerifier::BreakMissing(int64_t missing, int64_t next) {
  ChainRecord gap{missing, ChainRecord::Kind::kInteraction, "", "", std::nullopt, ""};
  Break(gap, next > 0 ? "record missing: nothing has seq " + std::to_string(missing) +
                            " (the next record is seq " + std::to_string(next) + ")"
                      : "record missing: nothing has seq " + std::to_string(missing) +
                            ", up to the chain's recorded head");
  break_->record = "the record at seq " + std::to_string(missing);
  return false;
}

bool ChainVerifier::Finish(const ChainHead& head) {
  if (break_) return false;
  if (head.seq > last_seq_) return BreakMissing(std::max(last_seq_ + 1, int64_t{1}), 0);
  if (head.seq < last_seq_) {
    ChainRecord at{head.seq, ChainRecord::Kind::kInteraction, "", "", std::nullopt, ""};
    Break(at, "head changed: the recorded head is seq " + std::to_string(head.seq) +
                  " but records go on to seq " + std::to_string(last_seq_));
    break_->record = "the chain's head";
    return false;
  }
  if (head.seq > 0 && head.hash != prev_) {
    ChainRecord at{head.seq, ChainRecord::Kind::kInteraction, "", "", std::nullopt, ""};
    Break(at, "head changed: the recorded head hash is not the last record's");
    break_->record = "the chain's head";
    return false;
  }
  return true;
}

void ChainVerifier::ExplainBreak(const std::map<int64_t, ChainHash>& stored) {
  if (!break_ || !broken_record_ || !broken_record_->stored ||
      broken_record_->kind == ChainRecord::Kind::kTombstone ||
      !broken_record_->columns_differ.empty() ||
      break_->why.rfind("content changed", 0) != 0) {
    return;
  }
  const ChainRecord& record = *broken_record_;
  auto chained_after = [&](const ChainHash& prev) {
    return hasher_.Next(prev, record.json) == *record.stored;
  };
  if (chained_after(kGenesis)) {
    break_->why = "order changed: it was the first record of the chain";
    return;
  }
  for (const auto& [seq, hash] : stored) {
    if (seq == record.seq) continue;
    if (chained_after(hash)) {
      break_->why = "order changed: it was chained after the record now at seq " +
                    std::to_string(seq);
      return;
    }
  }
}

}  // namespace omniflow::trust
