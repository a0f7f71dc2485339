#include "store/lifecycle_policy.h"

#include <algorithm>
#include <map>
#include <set>

namespace omniflow {

int EffectiveRetentionDays(std::optional<int> override_days, int default_days) {
  return override_days.has_value() ? *override_days : default_days;
}

std::optional<int64_t> RetentionCutoffUs(int days, int64_t now_us) {
  if (days <= 0) return std::nullopt;
  return now_us - static_cast<int64_t>(days) * kRetentionDayUs;
}

Status ValidateRetentionDays(int days) {
  if (days < 0) return Status::InvalidArgument("retention days must be 0 (keep forever) or more");
  return Status::Ok();
}

Status ValidateHold(const LegalHold& hold) {
  if (hold.user_id.empty()) return Status::InvalidArgument("a hold needs a user id");
  // Code points: every byte but UTF-8 continuation bytes starts one.
  const auto chars = std::count_if(hold.reason.begin(), hold.reason.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  });
  if (chars < 1 || chars > kMaxHoldReasonChars) {
    return Status::InvalidArgument("a hold's reason must be 1 to " +
                                   std::to_string(kMaxHoldReasonChars) + " characters");
  }
  return Status::Ok();
}

Result<PurgeReport> RunPurge(PurgeTarget& target, const PurgeOptions& options) {
  if (options.batch_rows < 1) return Status::InvalidArgument("batch_rows must be at least 1");
  if (Status s = ValidateRetentionDays(options.default_days); !s.ok()) return s;
  Result<std::vector<std::pair<std::string, int>>> overrides = target.RetentionOverrides();
  if (!overrides.ok()) return overrides.status();
  Result<std::vector<LegalHold>> holds = target.Holds();
  if (!holds.ok()) return holds.status();
  Result<std::vector<PurgeTarget::UserSpan>> users = target.UsersWithData();
  if (!users.ok()) return users.status();
  const std::map<std::string, int> days_of(overrides->begin(), overrides->end());
  std::set<std::string> held;
  for (const LegalHold& hold : *holds) held.insert(hold.user_id);

  PurgeReport report;
  for (const PurgeTarget::UserSpan& user : *users) {
    auto it = days_of.find(user.user_id);
    const int days = EffectiveRetentionDays(
        it == days_of.end() ? std::nullopt : std::optional<int>(it->second), options.default_days);
    const std::optional<int64_t> cutoff = RetentionCutoffUs(days, options.now_us);
    if (!cutoff || user.first_us >= *cutoff) continue;  // nothing past the policy
    if (held.count(user.user_id) > 0) {
      ++report.held_users_skipped;
      continue;
    }
    int64_t removed = 0;
    if (options.dry_run) {
      Result<int64_t> n = target.CountBefore(user.user_id, *cutoff);
      if (!n.ok()) return n.status();
      removed = *n;
    } else {
      // Batch after batch, each its own short transaction, until a batch comes back short.
      while (true) {
        Result<int64_t> n = target.RemoveBefore(user.user_id, *cutoff, options.batch_rows);
        if (!n.ok()) return n.status();
        removed += *n;
        if (*n < options.batch_rows) break;
      }
    }
    report.interactions += removed;
    if (removed > 0) ++report.users;
  }
  return report;
}

}  // namespace omniflow
