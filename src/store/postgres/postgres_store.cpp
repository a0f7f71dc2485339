#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/thread_name.h"
#include "store/paging.h"
#include "store/postgres/postgres_chain_store.h"
#include "store/scan_sql.h"

namespace omniflow {

namespace {

constexpr const char* kSetUser = "SELECT set_config('omniflow.user_id', $1, true)";
constexpr const char* kSetAdmin = "SELECT set_config('omniflow.admin', 'on', true)";
constexpr const char* kSetWriter = "SELECT set_config('omniflow.writer', 'on', true)";
constexpr const char* kReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

constexpr const char* kInsert =
    "INSERT INTO interactions(user_id, ts_us, interaction_id, thread_id, tool_calls, "
    "tool_failures, body, chain_seq, chain_hash, usage_model, input_tokens, cached_input_tokens, "
    "output_tokens, reasoning_tokens, cost_nanos) "
    "SELECT u, t, i, th, c, f, b, s, decode(h, 'hex'), m, ti, tc, tout, tr, cost "
    "FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::integer[], "
    "$7::text[], $8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], "
    "$13::bigint[], $14::bigint[], $15::bigint[]) "
    "AS x(u, t, i, th, c, f, b, s, h, m, ti, tc, tout, tr, cost)";
// Keys arrive sorted, so concurrent writers lock count rows in the same order (no deadlock).
// With each count, the first and last interaction (by ts_us, interaction_id) of the user and of
// the thread, for the analytics' users and threads.
constexpr const char* kCount =
    "INSERT INTO interaction_counts AS c(user_id, thread_id, n, first_us, first_id, last_us, last_id) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], "
    "$6::bigint[], $7::text[]) "
    "ON CONFLICT (user_id, thread_id) DO UPDATE SET n = c.n + excluded.n, "
    "first_us = CASE WHEN c.first_us IS NULL OR (excluded.first_us, excluded.first_id) < "
    "  (c.first_us, c.first_id) THEN excluded.first_us ELSE c.first_us END, "
    "first_id = CASE WHEN c.first_us IS NULL OR (excluded.first_us, excluded.first_id) < "
    "  (c.first_us, c.first_id) THEN excluded.first_id ELSE c.first_id END, "
    "last_us = CASE WHEN c.last_us IS NULL OR (excluded.last_us, excluded.last_id) > "
    "  (c.last_us, c.last_id) THEN excluded.last_us ELSE c.last_us END, "
    "last_id = CASE WHEN c.last_us IS NULL OR (excluded.last_us, excluded.last_id) > "
    "  (c.last_us, c.last_id) THEN excluded.last_id ELSE c.last_id END";

// Idempotency keys (store/idempotency.h): found before the transaction, inserted in it in
// (user_id, key) order (two servers' batches then wait on each other's keys in one order); a
// key another server stored meanwhile fails the insert on the primary key, and Append plans
// again.
constexpr const char* kFindKeys =
    "SELECT k.user_id, k.key, k.interaction_id, k.ts_us, k.request_hash FROM idempotency_keys k "
    "JOIN unnest($1::text[], $2::text[]) AS q(user_id, key) "
    "ON k.user_id = q.user_id AND k.key = q.key";
constexpr const char* kInsertKeys =
    "INSERT INTO idempotency_keys(user_id, key, interaction_id, ts_us, request_hash) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[])";
constexpr const char* kPurgeKeys = "DELETE FROM idempotency_keys WHERE ts_us < $1";
// Whether a batch whose commit went unanswered is there (one row tells: all or nothing).
constexpr const char* kStored =
    "SELECT 1 FROM interactions WHERE user_id = $1 AND ts_us = $2 AND interaction_id = $3";

// Times a batch is linked on the predicted head before it locks the head instead.
constexpr int kSpeculativeTries = 4;

constexpr const char* kTotal =
    "SELECT n FROM interaction_counts WHERE user_id = $1 AND thread_id = $2";
// [thread filter][cursor], as the SQLite store's. Offset pages pick keys through the index
// first, so skipped rows never load their bodies.
constexpr const char* kHistorySql[2][2] = {
    {"SELECT i.body, i.ts_us, i.interaction_id FROM interactions i JOIN "
     "(SELECT ts_us, interaction_id FROM interactions WHERE user_id = $1 "
     " ORDER BY ts_us DESC, interaction_id DESC LIMIT $2 OFFSET $3) p "
     "ON i.user_id = $1 AND i.ts_us = p.ts_us AND i.interaction_id = p.interaction_id "
     "ORDER BY i.ts_us DESC, i.interaction_id DESC",
     "SELECT body, ts_us, interaction_id FROM interactions "
     "WHERE user_id = $1 AND (ts_us, interaction_id) < ($3, $4) "
     "ORDER BY ts_us DESC, interaction_id DESC LIMIT $2"},
    {"SELECT i.body, i.ts_us, i.interaction_id FROM interactions i JOIN "
     "(SELECT ts_us, interaction_id FROM interactions WHERE user_id = $1 AND thread_id = $4 "
     " ORDER BY ts_us DESC, interaction_id DESC LIMIT $2 OFFSET $3) p "
     "ON i.user_id = $1 AND i.ts_us = p.ts_us AND i.interaction_id = p.interaction_id "
     "ORDER BY i.ts_us DESC, i.interaction_id DESC",
     "SELECT body, ts_us, interaction_id FROM interactions "
     "WHERE user_id = $1 AND thread_id = $5 AND (ts_us, interaction_id) < ($3, $4) "
     "ORDER BY ts_us DESC, interaction_id DESC LIMIT $2"},
};

// Takes the lowest slot that is free or whose lease ran out; no row when all are held. Two
// servers racing for one slot serialise on its row: the loser's ON CONFLICT finds it held.
constexpr const char* kClaimSlot =
    "INSERT INTO id_slots(slot, holder, expires_at) "
    "SELECT s, $1, now() + make_interval(secs => $3) FROM generate_series(0, $2 - 1) s "
    "WHERE NOT EXISTS (SELECT 1 FROM id_slots x WHERE x.slot = s AND x.expires_at > now()) "
    "ORDER BY s LIMIT 1 "
    "ON CONFLICT (slot) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at "
    "WHERE id_slots.expires_at <= now() "
    "RETURNING slot";
constexpr const char* kRenewSlot =
    "UPDATE id_slots SET expires_at = now() + make_interval(secs => $3) "
    "WHERE slot = $1 AND holder = $2";
constexpr const char* kReleaseSlot = "DELETE FROM id_slots WHERE slot = $1 AND holder = $2";


}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const std::string& url,
                                                           pg::Conn writer, pg::Pool* readers,
                                                           int write_connections) {
  std::vector<pg::Conn> writers;
  writers.push_back(std::move(writer));
  for (int i = 1; i < write_connections; ++i) {
    Result<pg::Conn> more = pg::Conn::Connect(url);
    if (!more.ok()) return more.status();
    writers.push_back(std::move(*more));
  }
  Result<pg::Conn> lease = pg::Conn::Connect(url);
  if (!lease.ok()) return lease.status();
  std::string holder = RandomId("", 12);
  const std::string term = std::to_string(kLeaseTerm.count());
  int slot = -1;
  for (int attempt = 0; attempt < 5 && slot < 0; ++attempt) {
    Result<pg::Res> got = lease->Exec(kClaimSlot, {holder, std::to_string(kIdSlots), term});
    if (!got.ok()) return got.status();
    if (got->rows() > 0) slot = static_cast<int>(got->Int(0, 0));
  }
  if (slot < 0) {
    return Status::Unavailable("all " + std::to_string(kIdSlots) +
                               " id slots of this database are held by running servers; stop one "
                               "or give this server its own database");
  }
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(url, std::move(writers), std::move(*lease), slot, std::move(holder),
                        readers));
}

PostgresStore::PostgresStore(std::string url, std::vector<pg::Conn> writers, pg::Conn lease,
                             int slot, std::string holder, pg::Pool* readers)
    : url_(std::move(url)),
      slot_(slot),
      holder_(std::move(holder)),
      lease_(std::move(lease)),
      // Counted from after the claim returned, less a margin for clock rate differences.
      lease_until_(SteadyClock::now() + kLeaseTerm - kRenewEvery),
      readers_(readers) {
  for (pg::Conn& writer : writers) {
    lanes_.push_back(std::make_unique<pg::Conn>(std::move(writer)));
    idle_lanes_.push_back(lanes_.back().get());
  }
  renewer_ = std::thread([this] {
    NameThisThread("of-pg-lease");
    RenewLoop();
  });
}

PostgresStore::~PostgresStore() {
  {
    MutexLock lock(&lease_mu_);
    stopping_ = true;
  }
  lease_cv_.SignalAll();
  if (renewer_.joinable()) renewer_.join();
  MutexLock lock(&lease_mu_);
  if (!slot_lost_) (void)lease_.Exec(kReleaseSlot, {std::to_string(slot_), holder_});
}

void PostgresStore::RenewLoop() {
  while (true) {
    {
      MutexLock lock(&lease_mu_);
      const SteadyClock::time_point deadline = SteadyClock::now() + kRenewEvery;
      while (!stopping_) {
        if (!lease_cv_.WaitUntil(&lease_mu_, deadline)) break;
      }
      if (stopping_) return;
    }
    (void)RenewLease();
  }
}

Status PostgresStore::RenewLease() {
  MutexLock lock(&lease_mu_);
  if (slot_lost_) {
    return Status::Unavailable("this server's id slot was taken by another server; restart it");
  }
  const SteadyClock::time_point sent = SteadyClock::now();
  Result<pg::Res> renewed =
      lease_.Exec(kRenewSlot, {std::to_string(slot_), holder_, std::to_string(kLeaseTerm.count())});
  if (!renewed.ok()) return renewed.status();
  if (renewed->affected() != 1) {
    // The lease ran out while this process could not renew it, and another server took the
    // slot: ids made here could now collide with its ids, so this process saves no more.
    slot_lost_ = true;
    return Status::Unavailable("this server's id slot was taken by another server; restart it");
  }
  lease_until_ = sent + kLeaseTerm - kRenewEvery;
  return Status::Ok();
}

Status PostgresStore::CheckLease() {
  {
    MutexLock lock(&lease_mu_);
    if (!slot_lost_ && SteadyClock::now() < lease_until_) return Status::Ok();
  }
  return RenewLease();
}

pg::Conn* PostgresStore::TakeLane() {
  MutexLock lock(&lanes_mu_);
  while (idle_lanes_.empty()) lanes_cv_.Wait(&lanes_mu_);
  pg::Conn* lane = idle_lanes_.back();
  idle_lanes_.pop_back();
  return lane;
}

void PostgresStore::PutLane(pg::Conn* lane) {
  {
    MutexLock lock(&lanes_mu_);
    idle_lanes_.push_back(lane);
  }
  lanes_cv_.Signal();
}

Status PostgresStore::Append(std::span<const InteractionRecord> batch, AppendReport* report) {
  pg::Conn* lane = TakeLane();
  struct Return {
    PostgresStore* store;
    pg::Conn* lane;
    ~Return() { store->PutLane(lane); }
  } put_back{this, lane};
  pg::Conn& conn = *lane;
  AppendReport ignored;
  if (report == nullptr) report = &ignored;
  report->priors.assign(batch.size(), std::nullopt);
  report->outcome_unknown = false;
  if (batch.empty()) return Status::Ok();
  // Ids made in a slot this process no longer holds must not be written.
  Status s = CheckLease();
  if (!s.ok()) {
    last_append_ok_ = false;
    return s;
  }
  const bool keyed = AnyKeyed(batch);
  size_t held_count = 0;
  if (keyed) {
    Result<HeldKeys> held = FindHeldKeys(conn, batch);
    if (!held.ok()) {
      last_append_ok_ = false;
      return held.status();
    }
    held_count = held->size();
    report->priors = PlanKeyedAppend(batch, *held);
  }
  // A deadlock or serialization failure is retried, and so is a batch that lost a key to
  // another server; other errors fail the batch.
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool maybe_committed = false;
    s = AppendOnce(conn, batch, report->priors, &maybe_committed);
    if (s.ok()) break;
    if (maybe_committed) {
      s = ResolveOutcome(conn, batch, report->priors, std::move(s), &report->outcome_unknown);
      break;
    }
    if (s.code() == Status::Code::kAborted) continue;  // deadlock, serialization: rolled back
    if (!keyed) break;
    // Another server may have stored one of these keys since they were looked up (the primary
    // key made this transaction wait for it, then fail): plan again with the keys held now.
    Result<HeldKeys> held = FindHeldKeys(conn, batch);
    if (!held.ok() || held->size() == held_count) break;
    spdlog::info("event=idempotency_key_race keys_taken={}", held->size() - held_count);
    held_count = held->size();
    report->priors = PlanKeyedAppend(batch, *held);
  }
  last_append_ok_ = s.ok();
  return s;
}

Result<HeldKeys> PostgresStore::FindHeldKeys(pg::Conn& conn,
                                             std::span<const InteractionRecord> batch) {
  pg::ArrayLiteral users, keys;
  for (const InteractionRecord& r : batch) {
    if (!r.idempotency) continue;
    users.Add(r.user_id);
    keys.Add(r.idempotency->key);
  }
  pg::Query queries[2] = {
      {kSetWriter, {}},
      {kFindKeys, {std::move(users).Take(), std::move(keys).Take()}},
  };
  Result<std::vector<pg::Res>> done = conn.Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[1];
  HeldKeys held;
  for (int i = 0; i < rows.rows(); ++i) {
    held.emplace(std::pair(std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1))),
                 PriorSave{std::string(rows.Text(i, 2)), rows.Int(i, 3),
                           std::string(rows.Text(i, 4))});
  }
  return held;
}

Status PostgresStore::ResolveOutcome(pg::Conn& conn, std::span<const InteractionRecord> batch,
                                     std::span<const std::optional<PriorSave>> priors,
                                     Status failure, bool* unknown) {
  const InteractionRecord* first = nullptr;
  for (size_t i = 0; i < batch.size() && first == nullptr; ++i) {
    if (priors.empty() || !priors[i]) first = &batch[i];
  }
  if (first == nullptr) return failure;  // nothing was to be stored (AppendOnce sent nothing)
  // A restarting database answers again within a second or two; a save waits that long
  // rather than answer "unknown".
  constexpr std::chrono::milliseconds kWaits[] = {std::chrono::milliseconds(0),
                                                  std::chrono::milliseconds(250),
                                                  std::chrono::milliseconds(500),
                                                  std::chrono::milliseconds(1000),
                                                  std::chrono::milliseconds(2000)};
  Status asked;
  for (std::chrono::milliseconds wait : kWaits) {
    std::this_thread::sleep_for(wait);
    pg::Query queries[2] = {
        {kSetUser, {first->user_id}},
        {kStored, {first->user_id, std::to_string(first->ts_us), first->interaction_id}},
    };
    Result<std::vector<pg::Res>> done = conn.Transaction(queries, kReadOnly);
    if (done.ok()) {
      const bool stored = (*done)[1].rows() > 0;
      spdlog::info("event=commit_outcome_resolved committed={} saves={}", stored, batch.size());
      return stored ? Status::Ok() : failure;
    }
    asked = done.status();
  }
  spdlog::warn("event=commit_outcome_unknown saves={}", batch.size());
  *unknown = true;
  return Status::Unavailable(failure.message() +
                             "; whether it committed is unknown (cannot ask the database: " +
                             asked.message() + ")");
}

PostgresStore::Links PostgresStore::Link(const trust::ChainHead& from,
                                         std::span<const std::string_view> jsons) {
  pg::ArrayLiteral seqs, hashes;
  Links links{{}, {}, from};
  for (std::string_view json : jsons) {
    ++links.head.seq;
    links.head.hash = hasher_.Next(links.head.hash, json);
    seqs.Add(links.head.seq);
    hashes.Add(ChainHashHex(links.head.hash));
  }
  links.seqs = std::move(seqs).Take();
  links.hashes = std::move(hashes).Take();
  return links;
}

Status PostgresStore::AppendOnce(pg::Conn& conn, std::span<const InteractionRecord> batch,
                                 std::span<const std::optional<PriorSave>> priors,
                                 bool* maybe_committed) {
  bool any = false;
  for (size_t i = 0; i < batch.size() && !any; ++i) any = priors.empty() || !priors[i];
  if (!any) return Status::Ok();  // every record's key was held
  pg::ArrayLiteral users, times, ids, threads, calls, failures, bodies, unchained;
  pg::ArrayLiteral models, input, cached, output, reasoning, costs;  // usage: NULL when none
  std::vector<std::string_view> jsons;  // of the records stored, in chain order
  struct Span {
    int64_t n = 0;
    const InteractionRecord* first = nullptr;
    const InteractionRecord* last = nullptr;
  };
  auto widen = [](Span& span, const InteractionRecord& r) {
    ++span.n;
    auto key = [](const InteractionRecord* x) { return std::tie(x->ts_us, x->interaction_id); };
    if (!span.first || key(&r) < key(span.first)) span.first = &r;
    if (!span.last || key(&r) > key(span.last)) span.last = &r;
  };
  std::map<std::pair<std::string_view, std::string_view>, Span> counts;
  // The keys to insert, in (user_id, key) order.
  std::map<std::pair<std::string_view, std::string_view>, const InteractionRecord*> keyed;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!priors.empty() && priors[i]) continue;  // its key is held: not stored
    const InteractionRecord& r = batch[i];
    users.Add(r.user_id);
    times.Add(r.ts_us);
    ids.Add(r.interaction_id);
    if (r.thread_id) {
      threads.Add(*r.thread_id);
    } else {
      threads.AddNull();
    }
    calls.Add(static_cast<int64_t>(r.tool_call_count));
    failures.Add(static_cast<int64_t>(r.tool_failure_count));
    bodies.Add(r.json);
    if (r.usage) {
      models.Add(r.usage->model);
      input.Add(r.usage->tokens.input);
      cached.Add(r.usage->tokens.cached_input);
      output.Add(r.usage->tokens.output);
      reasoning.Add(r.usage->tokens.reasoning);
      if (r.usage->cost_nanos) {
        costs.Add(*r.usage->cost_nanos);
      } else {
        costs.AddNull();
      }
    } else {
      for (pg::ArrayLiteral* a : {&models, &input, &cached, &output, &reasoning, &costs}) {
        a->AddNull();
      }
    }
    jsons.push_back(r.json);
    unchained.AddNull();
    widen(counts[{r.user_id, std::string_view()}], r);
    if (r.thread_id) widen(counts[{r.user_id, *r.thread_id}], r);
    if (r.idempotency) keyed[{r.user_id, r.idempotency->key}] = &r;
  }
  pg::ArrayLiteral count_users, count_threads, count_n, first_us, first_id, last_us, last_id;
  for (const auto& [key, span] : counts) {
    count_users.Add(key.first);
    count_threads.Add(key.second);
    count_n.Add(span.n);
    first_us.Add(span.first->ts_us);
    first_id.Add(span.first->interaction_id);
    last_us.Add(span.last->ts_us);
    last_id.Add(span.last->interaction_id);
  }
  // The first query sets the writer flag (BeginChained sets it itself); the insert's chain
  // columns (params 7 and 8) are filled in once the batch is linked.
  const std::string unchained_text = std::move(unchained).Take();
  std::vector<pg::Query> queries = {
      {kSetWriter, {}},
      {kInsert,
       {std::move(users).Take(), std::move(times).Take(), std::move(ids).Take(),
        std::move(threads).Take(), std::move(calls).Take(), std::move(failures).Take(),
        std::move(bodies).Take(), unchained_text, unchained_text, std::move(models).Take(),
        std::move(input).Take(), std::move(cached).Take(), std::move(output).Take(),
        std::move(reasoning).Take(), std::move(costs).Take()}},
      {kCount,
       {std::move(count_users).Take(), std::move(count_threads).Take(), std::move(count_n).Take(),
        std::move(first_us).Take(), std::move(first_id).Take(), std::move(last_us).Take(),
        std::move(last_id).Take()}},
  };
  if (!keyed.empty()) {
    pg::ArrayLiteral key_users, key_names, key_ids, key_times, key_hashes;
    for (const auto& [key, r] : keyed) {
      key_users.Add(key.first);
      key_names.Add(key.second);
      key_ids.Add(r->interaction_id);
      key_times.Add(r->ts_us);
      key_hashes.Add(r->idempotency->request_hash);
    }
    queries.push_back({kInsertKeys,
                       {std::move(key_users).Take(), std::move(key_names).Take(),
                        std::move(key_ids).Take(), std::move(key_times).Take(),
                        std::move(key_hashes).Take()}});
    std::optional<int64_t> cutoff;
    {
      MutexLock lock(&chain_mu_);
      cutoff = IdempotencyPurgeDue(batch, &last_key_purge_us_);
    }
    if (cutoff) queries.push_back({kPurgeKeys, {std::to_string(*cutoff)}});
  }
  auto sent = [&](Result<std::vector<pg::Res>> done) {
    *maybe_committed = !done.ok() && conn.maybe_committed();
    return done.ok() ? Status::Ok() : done.status();
  };
  if (!hash_chain_) return sent(conn.Transaction(queries, "BEGIN"));
  auto forget = [this] {
    MutexLock lock(&chain_mu_);
    predicted_.reset();
    tail_.reset();
  };

  // Hashed on the head the batches in flight will leave, in the order batches get here; the
  // database commits it only once that head is committed (AdvanceChainHead). A batch that
  // finds another head there (a batch before it failed, another server or an audit entry moved
  // it) is linked again on the head read then, unless another lane did so since it was linked.
  // These transactions lock count rows, keys and then the head, all in one order: they cannot
  // deadlock with each other.
  uint64_t linked_epoch = 0;
  std::shared_ptr<Ticket> mine, prev;
  auto settle = [&](Ticket::State state) {
    {
      MutexLock lock(&chain_mu_);
      mine->state = state;
    }
    settled_.SignalAll();
  };
  bool relink = true;
  std::vector<pg::Query> speculative;
  for (int attempt = 0; attempt < kSpeculativeTries; ++attempt) {
    std::optional<trust::ChainHead> read;
    std::optional<Links> linked;
    trust::ChainHead expected;
    while (relink) {
      {
        MutexLock lock(&chain_mu_);
        const bool stale = !predicted_ || (attempt > 0 && epoch_ == linked_epoch);
        if (stale && read) {
          predicted_ = *read;
          tail_.reset();
          ++epoch_;
        }
        if (!stale || read) {
          expected = *predicted_;
          linked = Link(expected, jsons);
          predicted_ = linked->head;
          linked_epoch = epoch_;
          prev = tail_;
          mine = tail_ = std::make_shared<Ticket>();
          relink = false;
        }
      }
      if (relink) {
        Result<trust::ChainHead> head = ReadChainHead(conn);
        if (!head.ok()) {
          forget();
          return head.status();
        }
        read = *head;
      }
    }
    if (linked) {
      queries[1].params[7] = std::move(linked->seqs);
      queries[1].params[8] = std::move(linked->hashes);
      speculative = {ClaimChainSeq(linked->head), queries[1], AwaitChainSeq(expected)};
      speculative.insert(speculative.end(), queries.begin() + 2, queries.end());
      speculative.push_back(AdvanceChainHead(expected, linked->head));
    }
    Status s = sent(conn.Transaction(speculative, "BEGIN ISOLATION LEVEL READ COMMITTED"));
    if (s.ok()) {
      settle(Ticket::State::kCommitted);
      return s;
    }
    // Rolled back (or maybe not): the batches linked after this one are linked again.
    if (*maybe_committed || s.code() != Status::Code::kAborted) {
      settle(Ticket::State::kFailed);
      forget();
      return s;
    }
    // The head was not the expected one. If the batch before this one was still on its way,
    // this one is sent again once it committed; else linked again.
    bool prev_committed = false;
    if (prev) {
      MutexLock lock(&chain_mu_);
      while (prev->state == Ticket::State::kPending) settled_.Wait(&chain_mu_);
      prev_committed = prev->state == Ticket::State::kCommitted;
    }
    prev.reset();
    relink = !prev_committed;
    if (relink) settle(Ticket::State::kFailed);
  }
  if (!relink) settle(Ticket::State::kFailed);

  // Still another head each time (a busy second server): the head, locked until this
  // transaction ends, after the counts and keys (their locks first, as above).
  std::vector<pg::Query> first;
  first.push_back(std::move(queries[0]));
  for (size_t i = 2; i < queries.size(); ++i) first.push_back(std::move(queries[i]));
  queries.resize(2);
  Result<trust::ChainHead> head = BeginChained(conn, first);
  if (!head.ok()) {
    forget();
    return head.status();
  }
  {
    MutexLock lock(&chain_mu_);
    Links links = Link(*head, jsons);
    predicted_ = links.head;
    tail_.reset();
    ++epoch_;
    queries[1].params[7] = std::move(links.seqs);
    queries[1].params[8] = std::move(links.hashes);
    queries.push_back(MoveChainHead(links.head));
  }
  queries.erase(queries.begin());  // BeginChained ran it
  Status s = sent(conn.Transaction(queries, kInChainedTransaction));
  if (!s.ok()) forget();
  return s;
}

Result<HistoryPage> PostgresStore::History(const HistoryQuery& query) {
  const bool by_thread = query.thread_id.has_value();
  const bool by_cursor = query.after.has_value();
  std::vector<std::optional<std::string>> params = {
      query.user_id,
      // A cursor page fetches one extra row to learn whether more follow.
      std::to_string(by_cursor ? FetchLimit(query.limit) : int64_t{query.limit})};
  if (by_cursor) {
    params.push_back(std::to_string(query.after->ts_us));
    params.push_back(query.after->interaction_id);
  } else {
    params.push_back(std::to_string(query.offset));
  }
  if (by_thread) params.push_back(*query.thread_id);
  pg::Query queries[3] = {
      {kSetUser, {query.user_id}},
      {kTotal, {query.user_id, by_thread ? *query.thread_id : std::string()}},
      {kHistorySql[by_thread][by_cursor], std::move(params)},
  };
  Result<pg::Pool::Lease> conn = readers_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& total = (*done)[1];
  const pg::Res& rows = (*done)[2];

  HistoryPage page;
  page.total = total.rows() > 0 ? total.Int(0, 0) : 0;
  const int n = RowsOnPage(rows.rows(), query.limit, &page.has_more);
  page.items.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) page.items.emplace_back(rows.Text(i, 0));
  if (!by_cursor) page.has_more = MoreAfterOffset(query.offset, page.items.size(), page.total);
  if (page.has_more && n > 0) {
    page.next = HistoryCursor{rows.Int(n - 1, 1), std::string(rows.Text(n - 1, 2))};
  }
  return page;
}

Result<std::string> PostgresStore::Get(const std::string& user_id,
                                       const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) {
    return Status::NotFound("no such interaction");
  }
  pg::Query queries[2] = {
      {kSetUser, {user_id}},
      {"SELECT body FROM interactions WHERE user_id = $1 AND ts_us = $2 AND interaction_id = $3",
       {user_id, std::to_string(ts_us), interaction_id}},
  };
  Result<pg::Pool::Lease> conn = readers_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& row = (*done)[1];
  if (row.rows() == 0) return Status::NotFound("no such interaction");
  return std::string(row.Text(0, 0));
}

Result<ScanPage> PostgresStore::Scan(const ScanQuery& query) {
  ScanStatement statement = BuildScanStatement(query, SqlDialect::kPostgres);
  pg::Query select{std::move(statement.sql), {}};
  for (auto& param : statement.params) {
    select.params.push_back(std::visit(
        [](auto& v) -> std::string {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, int64_t>) {
            return std::to_string(v);
          } else {
            return std::move(v);
          }
        },
        param));
  }
  // Row-level security: a user's scan sees that user's rows; a scan of every user reads as
  // the admin (omniflow.admin permits reading only).
  // Under row-level security the planner expects a few dozen rows and prefers sorting the
  // whole range to walking the time index in order (57 ms against 1 ms a page at 20k rows,
  // growing with the store): sorts are discouraged for this transaction only.
  pg::Query queries[3] = {
      query.user_id ? pg::Query{kSetUser, {*query.user_id}} : pg::Query{kSetAdmin, {}},
      {"SELECT set_config('enable_sort', 'off', true)", {}},
      std::move(select),
  };
  Result<pg::Pool::Lease> conn = readers_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[2];
  ScanPage page;
  const int n = std::min(rows.rows(), query.limit);
  page.items.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    ScannedInteraction item;
    item.json = std::string(rows.Text(i, 0));
    item.ts_us = rows.Int(i, 1);
    item.interaction_id = std::string(rows.Text(i, 2));
    item.user_id = std::string(rows.Text(i, 3));
    if (!rows.IsNull(i, 4)) item.thread_id = std::string(rows.Text(i, 4));
    if (!rows.IsNull(i, 5)) item.feedback_score = std::strtod(std::string(rows.Text(i, 5)).c_str(), nullptr);
    page.items.push_back(std::move(item));
  }
  if (rows.rows() > query.limit && n > 0) page.next = CursorAfter(page.items.back(), query.order);
  return page;
}

Result<std::vector<StoredInteraction>> PostgresStore::FindAt(std::span<const UserInstant> keys) {
  std::vector<StoredInteraction> found;
  if (keys.empty()) return found;
  pg::ArrayLiteral users, times;
  for (const UserInstant& key : keys) {
    users.Add(key.user_id);
    times.Add(key.ts_us);
  }
  // One round trip for the whole batch, each key an index probe of the primary key. Imports
  // act for many users, so they read as the admin.
  pg::Query queries[2] = {
      {kSetAdmin, {}},
      {"SELECT i.user_id, i.ts_us, i.interaction_id, i.body FROM interactions i "
       "JOIN (SELECT DISTINCT u, t FROM unnest($1::text[], $2::bigint[]) AS k(u, t)) k "
       "ON i.user_id = k.u AND i.ts_us = k.t ORDER BY i.user_id, i.ts_us, i.interaction_id",
       {std::move(users).Take(), std::move(times).Take()}},
  };
  Result<pg::Pool::Lease> conn = readers_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[1];
  found.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) {
    found.push_back(StoredInteraction{std::string(rows.Text(i, 0)), rows.Int(i, 1),
                                      std::string(rows.Text(i, 2)), std::string(rows.Text(i, 3))});
  }
  return found;
}

Status PostgresStore::CheckWritable() {
  if (Status s = CheckLease(); !s.ok()) return s;
  Result<pg::Pool::Lease> conn = readers_->Acquire();
  if (!conn.ok()) return conn.status();
  Result<pg::Res> r = (*conn)->Exec("SELECT pg_is_in_recovery()");
  if (!r.ok()) return r.status();
  if (r->Text(0, 0) == "t") return Status::Unavailable("the database is a read-only standby");
  if (!last_append_ok_.load()) {
    return Status::Unavailable("the last write failed; saves are refused until one succeeds");
  }
  return Status::Ok();
}

}  // namespace omniflow
