// What both engines' lifecycle facets share: the retention arithmetic (which cutoff applies to
// which user), the checks on overrides and holds, and the purge run itself, which drives an
// engine through the few steps of PurgeTarget. Engines implement the steps; the policy lives here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/lifecycle_store.h"

namespace omniflow {

inline constexpr int64_t kRetentionDayUs = 86'400'000'000;
// A hold's reason: 1..kMaxHoldReasonChars characters (UTF-8 code points).
inline constexpr int kMaxHoldReasonChars = 500;

// The days that apply to a user: the override when there is one, else the default (0 = forever).
int EffectiveRetentionDays(std::optional<int> override_days, int default_days);

// Interactions with ts_us < the cutoff are past a policy of `days` at `now_us`; nullopt when the
// policy keeps everything (days <= 0).
std::optional<int64_t> RetentionCutoffUs(int days, int64_t now_us);

// InvalidArgument when `days` is negative.
Status ValidateRetentionDays(int days);
// InvalidArgument for an empty user id or a reason that is empty or over kMaxHoldReasonChars.
Status ValidateHold(const LegalHold& hold);

// The steps of a purge an engine provides. Each call is its own transaction.
class PurgeTarget {
 public:
  virtual ~PurgeTarget() = default;

  struct UserSpan {
    std::string user_id;
    int64_t first_us = 0;  // the user's oldest interaction
  };
  // Every user holding interactions, with the timestamp of their oldest one.
  virtual Result<std::vector<UserSpan>> UsersWithData() = 0;
  // Every stored retention override (user id, days).
  virtual Result<std::vector<std::pair<std::string, int>>> RetentionOverrides() = 0;
  virtual Result<std::vector<LegalHold>> Holds() = 0;
  // How many of `user_id`'s interactions have ts_us < cutoff_us.
  virtual Result<int64_t> CountBefore(const std::string& user_id, int64_t cutoff_us) = 0;
  // Removes at most `max_rows` of `user_id`'s oldest interactions with ts_us < cutoff_us, and
  // everything derived from them, in one transaction; removes nothing when the user is held by
  // then. Returns how many it removed.
  virtual Result<int64_t> RemoveBefore(const std::string& user_id, int64_t cutoff_us,
                                       int max_rows) = 0;
};

// One purge run over `target` (LifecycleStore::Purge's contract): reads the users, overrides
// and holds, then removes (or, dry, counts) each user's interactions past their policy, batch by
// batch, skipping held users.
Result<PurgeReport> RunPurge(PurgeTarget& target, const PurgeOptions& options);

}  // namespace omniflow
