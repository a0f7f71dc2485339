// An AuditStore keeps the audit log: an append-only record of who did what to whose data (admin
// requests, exports, erasures, retention and hold changes, feedback writes, refused credentials),
// never any content. A facet of Database (store/database.h); both engines implement it, and
// audit_contract_test.cpp says what every implementation promises. All methods are thread-safe.
// Times are microseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace omniflow {

// One audited request. Holds no message text, no key, token or query string: only what the
// fields below say.
struct AuditEntry {
  int64_t seq = 0;     // set by Append: increasing in commit order, never reused
  int64_t ts_us = 0;   // when the answer was known
  std::string actor;   // as verified: "admin", "user:<id>", "key:<function>" or "anonymous"
  std::string action;  // the route table's audit name, or "auth_failed"
  std::optional<std::string> target_user;  // the user acted on, when one was named
  std::string path;                        // the route's pattern, never the request's query
  int status = 0;                          // the HTTP status answered
  std::optional<int64_t> count;            // rows exported, erased, purged or listed; else none
  std::string request_id;                  // X-Request-Id of the request
};

// A filter on the log, newest first. Every field left empty matches everything.
struct AuditQuery {
  std::optional<int64_t> from_us;  // ts_us >= from_us
  std::optional<int64_t> to_us;    // ts_us < to_us
  std::optional<std::string> action;
  std::optional<std::string> actor;
  std::optional<std::string> target_user;
  std::optional<int64_t> before_seq;  // the cursor: only entries with seq < before_seq
  int limit = 100;                    // 1..1000
};

struct AuditPage {
  std::vector<AuditEntry> items;  // seq descending
  bool has_more = false;
  std::optional<int64_t> next;  // with has_more: the before_seq of the next page
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends `entries` in one transaction, in order, all or nothing, and sets each one's seq.
  // The only way entries are written: whatever must accompany every entry in its transaction
  // (a hash chain link, say) belongs here. InvalidArgument for an entry without actor, action,
  // path or request_id.
  virtual Status Append(std::span<AuditEntry> entries) = 0;

  // The entries `query` selects, newest (highest seq) first.
  virtual Result<AuditPage> List(const AuditQuery& query) = 0;

  // Removes the entries older than `cutoff_us` (ts_us < cutoff_us), in transactions of at most
  // `batch_rows` rows; with `dry_run` only counts them. Returns how many.
  virtual Result<int64_t> PurgeBefore(int64_t cutoff_us, bool dry_run, int batch_rows = 1000) = 0;
};

// The entry as GET /api/audit serves it, which is also what its hash-chain link hashes
// (trust/chain.h): {"seq","ts","actor","action","target_user","path","status","count",
// "request_id"}, in that order, no whitespace.
std::string AuditEntryJson(const AuditEntry& entry);

// InvalidArgument unless `entry` has an actor, an action, a path and a request id.
Status ValidateAuditEntry(const AuditEntry& entry);

// 1..1000, InvalidArgument otherwise.
Status ValidateAuditQuery(const AuditQuery& query);

}  // namespace omniflow
