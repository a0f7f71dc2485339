// A ReplayStore keeps replays (issue 16): runs of historical interactions' user messages through
// a candidate model or system prompt, and each item's result beside its original. A facet of
// Database (store/database.h); both engines implement it, and replay_contract_test.cpp says
// what every implementation promises. Replays are the operator's (admin key only); their items
// hold copies of users' interactions, and their snapshots copies of users' data documents, so
// EraseUser removes a user's items and snapshots with the rest of their data
// (LifecycleStore::EraseUser does, in its transaction). All methods are
// thread-safe. Times are microseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/interaction.h"
#include "core/status.h"
#include "store/analytics_store.h"

namespace omniflow {

// A replay's state: "selecting" (created; its items not chosen yet), "running" (items chosen,
// some without a result), "done" (every item has a result), "failed" (selection failed).
struct ReplayInfo {
  std::string replay_id;  // "rp_" + 24 hex digits
  std::string name;       // as given, 0..200 bytes
  std::string actor;      // who started it, as the audit log names callers ("admin", ...)
  std::string spec_json;  // what to replay and with what (replay/replay_spec.h), canonical JSON
  std::string state = "selecting";
  std::string error;  // why it failed (state "failed")
  int64_t created_us = 0;
  int64_t finished_us = 0;  // 0 until done or failed
  int64_t total = 0;        // set by Get/List: items chosen
  int64_t done = 0;         // set by Get/List: items with a result
};

// One historical interaction chosen for a replay.
struct ReplayTarget {
  int64_t item_no = 0;  // 0..total-1, in selection order
  std::string user_id;
  std::string interaction_id;
  int64_t ts_us = 0;
  std::string original_json;  // the original's canonical JSON (with "feedback" when it had one)
  // The original's token usage and cost as stored with it (none when it reported no usage).
  std::optional<StoredUsage> original_usage;
};

// What replaying one item gave, and how it compares with the original.
struct ReplayResult {
  std::string result_json;  // the item as GET .../results serves it (replay/compare.h)
  bool changed = false;     // tool sequence, outcome or answer differs
  bool fixed = false;       // the original had a failure, the replay none
  bool introduced = false;  // the original had none, the replay has one
  bool same_tools = false;  // same tool names in the same order
  bool error = false;       // the provider failed (outage, timeout)
  int64_t latency_ms = 0, original_latency_ms = 0;
  int64_t tokens = 0, original_tokens = 0;
  // The replay's usage: the model the provider reported (else the candidate's), the tokens, and
  // the cost by the server's price table (none when that model has no price). None in results
  // stored before replays kept usage.
  std::optional<StoredUsage> usage;
};

// One item as stored: the target, and its result once replayed.
struct ReplayItem {
  ReplayTarget target;
  std::optional<ReplayResult> result;
};

// Totals over a replay's replayed items.
struct ReplaySummary {
  int64_t replayed = 0, changed = 0, fixed = 0, introduced = 0, same_tools = 0, errors = 0;
  int64_t latency_ms = 0, original_latency_ms = 0;  // sums
  int64_t tokens = 0, original_tokens = 0;          // sums
  // Token usage and cost over the replayed items, as stats counts them: `interactions` is the
  // items whose side had usage, `unpriced` those of them without a price.
  UsageTotals original_usage, usage;
};

struct ReplayItemsQuery {
  std::string replay_id;
  bool changed_only = false;          // only items whose result is changed
  std::optional<int64_t> after_item;  // the cursor: only items with item_no > after_item
  int limit = 50;                     // 1..200
};

struct ReplayItemsPage {
  std::vector<ReplayItem> items;  // replayed items only, item_no ascending
  bool has_more = false;
  std::optional<int64_t> next;  // with has_more: the after_item of the next page
};

class ReplayStore {
 public:
  virtual ~ReplayStore() = default;

  // Records a new replay (state "selecting", no items). AlreadyExists for a taken id;
  // InvalidArgument without id, actor or spec.
  virtual Status Create(const ReplayInfo& info) = 0;
  // Stores the chosen items with the data documents of their users as they were when chosen
  // (`snapshots`: user id -> documents, replay/sandbox_data_store.h's SnapshotJson) and moves the
  // replay to "running", in one transaction: after a crash a replay has either all its items
  // and snapshots or none. NotFound for an unknown replay; FailedPrecondition unless it is
  // "selecting".
  virtual Status AddTargets(const std::string& replay_id, std::span<const ReplayTarget> targets,
                            const std::map<std::string, std::string>& snapshots) = 0;
  // The snapshots AddTargets stored, by user id, less those of erased users. Empty for an
  // unknown replay, and for one whose items were chosen before snapshots were kept.
  virtual Result<std::map<std::string, std::string>> Snapshots(const std::string& replay_id) = 0;
  // Up to `limit` items without a result, item_no ascending.
  virtual Result<std::vector<ReplayTarget>> Pending(const std::string& replay_id, int limit) = 0;
  // Stores the result of item `item_no`, unless it has one already (then nothing changes) or the
  // item is gone (erased, deleted). Returns whether it was stored.
  virtual Result<bool> SaveResult(const std::string& replay_id, int64_t item_no,
                                  const ReplayResult& result) = 0;
  // Ends the replay: `state` "done" or "failed" (with `error`), finished at `finished_us`.
  virtual Status Finish(const std::string& replay_id, const std::string& state,
                        const std::string& error, int64_t finished_us) = 0;
  // NotFound for an unknown replay.
  virtual Result<ReplayInfo> Get(const std::string& replay_id) = 0;
  // Every replay, newest first, at most `limit` (1..1000).
  virtual Result<std::vector<ReplayInfo>> List(int limit) = 0;
  virtual Result<ReplaySummary> Summarize(const std::string& replay_id) = 0;
  // Replayed items, item_no ascending. NotFound for an unknown replay.
  virtual Result<ReplayItemsPage> Items(const ReplayItemsQuery& query) = 0;
  // Removes the replay, its items and its snapshots. NotFound for an unknown replay.
  virtual Status Delete(const std::string& replay_id) = 0;
};

// InvalidArgument unless `info` has an id, an actor and a spec.
Status ValidateReplayInfo(const ReplayInfo& info);
// 1..200, InvalidArgument otherwise.
Status ValidateReplayItemsQuery(const ReplayItemsQuery& query);
// "rp_" and 24 lower-case hex digits.
bool IsValidReplayId(std::string_view id);

}  // namespace omniflow
