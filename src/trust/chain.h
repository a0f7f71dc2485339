// The hash chain that makes stored records tamper-evident. Every interaction (and every audit
// entry) gets the next sequence number of one chain when it is committed, and
//   hash = SHA-256(previous record's hash ‖ the record's JSON)
// where the record's JSON is its canonical stored form, byte for byte what the API serves (for
// an interaction: core/validate.h's canonical object). The first record's previous hash is 32
// zero bytes. Erasure and retention replace a record by a tombstone that keeps its sequence
// number and hash, so the chain still verifies without the content.
// ChainVerifier walks the records in sequence order and names the first that breaks the chain.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace omniflow::trust {

using ChainHash = std::array<uint8_t, 32>;

// The previous hash of the first record.
inline constexpr ChainHash kGenesis{};

// "sha256:" followed by 64 lower-case hex digits.
std::string ChainHashText(const ChainHash& hash);
// The inverse of ChainHashText; InvalidArgument for anything else.
Result<ChainHash> ParseChainHash(std::string_view text);
// The 32 bytes of a stored hash (a BLOB or bytea); nullopt when it is not 32 bytes long.
std::optional<ChainHash> ChainHashFromBytes(std::string_view bytes);
inline std::string_view ChainHashBytes(const ChainHash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// Computes links of the chain. Keeps one OpenSSL digest context: one hasher per thread.
class ChainHasher {
 public:
  ChainHasher();
  ~ChainHasher();
  ChainHasher(const ChainHasher&) = delete;
  ChainHasher& operator=(const ChainHasher&) = delete;

  // SHA-256(prev ‖ record_json).
  ChainHash Next(const ChainHash& prev, std::string_view record_json);

 private:
  EVP_MD_CTX* ctx_;
};

// The newest link: seq 0 and kGenesis when nothing was ever stored.
struct ChainHead {
  int64_t seq = 0;
  ChainHash hash = kGenesis;
};

// One record of the chain as the store has it now.
struct ChainRecord {
  enum class Kind { kInteraction, kAudit, kTombstone };
  int64_t seq = 0;
  Kind kind = Kind::kInteraction;
  std::string id;    // the interaction id, the audit entry's seq, or what the tombstone replaced
  std::string json;  // the record's canonical JSON (empty for a tombstone)
  std::optional<ChainHash> stored;  // the hash stored with it; nullopt when it is not 32 bytes
  // Set by a store whose row keeps copies of the record's fields (user, time, ids) in columns
  // that no longer agree with the record: what was changed, for the report.
  std::string columns_differ;
};

struct ChainBreak {
  int64_t seq = 0;
  std::string record;  // "interaction INT_...", "audit entry 12", "tombstone of INT_..."
  std::string why;     // "content changed", "record missing", "order changed", ...
};

// Feeds on a store's records in ascending seq order and stops at the first break.
class ChainVerifier {
 public:
  // `from_seq`: the first seq expected (1 from the start); `prev`: the hash before it
  // (kGenesis from the start, else the stored hash of the last record before from_seq).
  // Seqs at or above `contiguous_from` are given out one after the other, so a gap there is a
  // record missing; below it (rows deleted before the chain existed) only hashes are checked.
  ChainVerifier(int64_t from_seq, ChainHash prev, int64_t contiguous_from);

  // False once the chain is broken; break_ says where and why.
  bool Feed(const ChainRecord& record);

  // Call after the last record with the head the store recorded: records missing at the end,
  // or a head that is not the last record's hash, break the chain.
  bool Finish(const ChainHead& head);

  // After a break at a record whose stored hash is intact but does not follow from its
  // predecessor: given every hash stored in the chain (seq -> hash), tells whether the record
  // was chained after another one, and if so rewrites the break as "order changed".
  void ExplainBreak(const std::map<int64_t, ChainHash>& stored);

  const std::optional<ChainBreak>& broken() const { return break_; }
  int64_t verified() const { return verified_; }
  const ChainHash& last_hash() const { return prev_; }
  // Whether some verified record's hash is `hash` (for anchors read from /api/chain/head).
  bool Saw(const ChainHash& hash) const { return seen_.count(hash) > 0; }

 private:
  bool Break(const ChainRecord& record, std::string why);
  bool BreakMissing(int64_t missing, int64_t next);  // next: the seq found instead, 0 at the end
  static std::string Describe(const ChainRecord& record);

  ChainHasher hasher_;
  ChainHash prev_;
  int64_t contiguous_from_;
  int64_t last_seq_;  // the last seq verified (from_seq - 1 before the first)
  int64_t verified_ = 0;
  // Every verified hash and its seq: to recognise a record chained after another one (moved)
  // and anchors.
  std::map<ChainHash, int64_t> seen_;
  std::optional<ChainBreak> break_;
  std::optional<ChainRecord> broken_record_;  // the record break_ names, for ExplainBreak
};

}  // namespace omniflow::trust
