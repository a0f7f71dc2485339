#include "store/postgres/postgres_lifecycle_store.h"

#include "core/ids.h"

namespace omniflow {

namespace {

constexpr const char* kSetUser = "SELECT set_config('omniflow.user_id', $1, true)";
constexpr const char* kSetAdmin = "SELECT set_config('omniflow.admin', 'on', true)";

}  // namespace

Result<std::vector<pg::Res>> PostgresLifecycleStore::Run(std::vector<pg::Query> queries,
                                                         std::string_view begin) {
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Transaction(queries, begin);
}

// ---- Retention overrides and holds ----------------------------------------------------------

Status PostgresLifecycleStore::SetRetention(const std::string& user_id, int days) {
  if (Status s = ValidateRetentionDays(days); !s.ok()) return s;
  return Run({{"INSERT INTO retention_overrides(user_id, days, updated_us) "
               "VALUES ($1, $2::integer, $3::bigint) ON CONFLICT (user_id) DO UPDATE SET "
               "days = excluded.days, updated_us = excluded.updated_us",
               {user_id, std::to_string(days), std::to_string(Clock::Real()->NowMicros())}}})
      .status();
}

Result<std::optional<int>> PostgresLifecycleStore::GetRetention(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT days FROM retention_overrides WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0) return std::optional<int>();
  return std::optional<int>(static_cast<int>((*done)[0].Int(0, 0)));
}

Status PostgresLifecycleStore::DeleteRetention(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"DELETE FROM retention_overrides WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no retention override for " + user_id);
  return Status::Ok();
}

Status PostgresLifecycleStore::SetHold(const LegalHold& hold) {
  if (Status s = ValidateHold(hold); !s.ok()) return s;
  const int64_t since = hold.since_us > 0 ? hold.since_us : Clock::Real()->NowMicros();
  return Run({{"INSERT INTO legal_holds(user_id, reason, since_us) VALUES ($1, $2, $3::bigint) "
               "ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason",
               {hold.user_id, hold.reason, std::to_string(since)}}})
      .status();
}

Status PostgresLifecycleStore::ReleaseHold(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"DELETE FROM legal_holds WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no legal hold on " + user_id);
  return Status::Ok();
}

Result<std::optional<LegalHold>> PostgresLifecycleStore::GetHold(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT reason, since_us FROM legal_holds WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  if (rows.rows() == 0) return std::optional<LegalHold>();
  return std::optional<LegalHold>(LegalHold{user_id, std::string(rows.Text(0, 0)), rows.Int(0, 1)});
}

Result<std::vector<LegalHold>> PostgresLifecycleStore::ListHolds() {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT user_id, reason, since_us FROM legal_holds ORDER BY user_id", {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<LegalHold> holds;
  for (int i = 0; i < rows.rows(); ++i) {
    holds.push_back(LegalHold{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)),
                              rows.Int(i, 2)});
  }
  return holds;
}

// ---- Purge --------------------------------------------------------------------------------

Result<PurgeReport> PostgresLifecycleStore::Purge(const PurgeOptions& options) {
  return RunPurge(*this, options);
}

Result<std::vector<PurgeTarget::UserSpan>> PostgresLifecycleStore::UsersWithData() {
  Result<std::vector<pg::Res>> done =
      Run({{kSetAdmin, {}},
           {"SELECT user_id, first_us FROM interaction_counts WHERE thread_id = '' AND n > 0 "
            "ORDER BY user_id",
            {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[1];
  std::vector<UserSpan> users;
  for (int i = 0; i < rows.rows(); ++i) {
    users.push_back(UserSpan{std::string(rows.Text(i, 0)), rows.Int(i, 1)});
  }
  return users;
}

Result<std::vector<std::pair<std::string, int>>> PostgresLifecycleStore::RetentionOverrides() {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT user_id, days FROM retention_overrides ORDER BY user_id", {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<std::pair<std::string, int>> overrides;
  for (int i = 0; i < rows.rows(); ++i) {
    overrides.emplace_back(std::string(rows.Text(i, 0)), static_cast<int>(rows.Int(i, 1)));
  }
  return overrides;
}

Result<int64_t> PostgresLifecycleStore::CountBefore(const std::string& user_id, int64_t cutoff_us) {
  Result<std::vector<pg::Res>> done =
      Run({{kSetUser, {user_id}},
           {"SELECT count(*) FROM interactions WHERE user_id = $1 AND ts_us < $2::bigint",
            {user_id, std::to_string(cutoff_us)}}});
  if (!done.ok()) return done.status();
  return (*done)[1].Int(0, 0);
}

Result<int64_t> PostgresLifecycleStore::RemoveBefore(const std::string&, int64_t, int) {
  return Status::Internal("purge is not implemented yet");
}

// ---- Erasure ------------------------------------------------------------------------------

Result<ErasureReport> PostgresLifecycleStore::EraseUser(const std::string&) {
  return Status::Internal("erasure is not implemented yet");
}

}  // namespace omniflow
