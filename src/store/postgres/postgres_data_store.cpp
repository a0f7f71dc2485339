#include "store/postgres/postgres_data_store.h"

#include "store/postgres/pg_migrations.h"

namespace omniflow {

namespace {

constexpr const char* kCount = "SELECT COUNT(*) FROM data_entries WHERE user_id = $1 AND blob = $2";

}  // namespace

Result<std::unique_ptr<PostgresDataStore>> PostgresDataStore::Open(const StoreOptions& options) {
  Result<pg::Conn> conn = pg::Conn::Connect(options.url);
  if (!conn.ok()) return conn.status();
  Result<MigrationReport> migrated = pg::Migrate(*conn);
  if (!migrated.ok()) return migrated.status();
  return std::unique_ptr<PostgresDataStore>(
      new PostgresDataStore(options.url, static_cast<size_t>(std::max(1, options.read_connections))));
}

Result<std::vector<pg::Res>> PostgresDataStore::AsUser(const std::string& user,
                                                       std::vector<pg::Query> queries) {
  queries.insert(queries.begin(), pg::Query{"SELECT set_config('omniflow.user_id', $1, true)", {user}});
  Result<pg::Pool::Lease> conn = pool_.Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries);
  if (!done.ok()) return done.status();
  done->erase(done->begin());
  return done;
}

Result<DataStore::Added> PostgresDataStore::Add(const std::string& user, const std::string& blob,
                                                std::string_view entry) {
  Added added;
  added.entry_id = NewEntryId();
  // {"entry_id":"E...", <fields of entry>}
  std::string body = "{\"entry_id\":\"" + added.entry_id + "\"";
  if (entry.size() > 2) {
    body.append(",").append(entry.substr(1));
  } else {
    body.append("}");
  }
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"INSERT INTO data_entries(user_id, blob, entry_id, body) VALUES ($1, $2, $3, $4)",
              {user, blob, added.entry_id, std::move(body)}},
             {kCount, {user, blob}}});
  if (!done.ok()) return done.status();
  added.entry_count = (*done)[1].Int(0, 0);
  return added;
}

Result<std::vector<std::string>> PostgresDataStore::Get(const std::string& user,
                                                        const std::string& blob) {
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"SELECT body FROM data_entries WHERE user_id = $1 AND blob = $2 ORDER BY seq",
              {user, blob}}});
  if (!done.ok()) return done.status();
  std::vector<std::string> entries;
  const pg::Res& rows = (*done)[0];
  entries.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) entries.emplace_back(rows.Text(i, 0));
  return entries;
}

Result<std::string> PostgresDataStore::GetEntry(const std::string& user, const std::string& blob,
                                                const std::string& entry_id) {
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"SELECT body FROM data_entries WHERE user_id = $1 AND blob = $2 AND entry_id = $3",
              {user, blob, entry_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
  return std::string((*done)[0].Text(0, 0));
}

Status PostgresDataStore::Replace(const std::string& user, const std::string& blob,
                                  const std::string& entry_id, std::string_view merged) {
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"UPDATE data_entries SET body = $4 WHERE user_id = $1 AND blob = $2 AND entry_id = $3",
              {user, blob, entry_id, std::string(merged)}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
  return Status::Ok();
}

Result<int64_t> PostgresDataStore::Delete(const std::string& user, const std::string& blob,
                                          const std::string& entry_id) {
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"DELETE FROM data_entries WHERE user_id = $1 AND blob = $2 AND entry_id = $3",
              {user, blob, entry_id}},
             {kCount, {user, blob}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
  return (*done)[1].Int(0, 0);
}

Result<std::vector<std::pair<std::string, int64_t>>> PostgresDataStore::List(
    const std::string& user) {
  Result<std::vector<pg::Res>> done = AsUser(
      user, {{"SELECT blob, COUNT(*) FROM data_entries WHERE user_id = $1 GROUP BY blob ORDER BY blob",
              {user}}});
  if (!done.ok()) return done.status();
  std::vector<std::pair<std::string, int64_t>> blobs;
  const pg::Res& rows = (*done)[0];
  for (int i = 0; i < rows.rows(); ++i) blobs.emplace_back(std::string(rows.Text(i, 0)), rows.Int(i, 1));
  return blobs;
}

}  // namespace omniflow
